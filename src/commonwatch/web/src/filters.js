// Queue filters: jurisdiction (a subtree), incident type, and which open statuses to show.

import { h } from "./dom.js";
import { statusLabel, t, typeLabel } from "./i18n.js";
import { OPEN_STATUSES } from "./store.js";

export function buildFilters(root, { config, typeLabels, store, onChange }) {
  const places = config.jurisdictions.filter((j) => j.kind !== "city" || config.jurisdictions.length === 1);
  const depth = (path) => path.split(".").length;
  const minDepth = Math.min(...places.map((j) => depth(j.path)), 9);
  const jurisdiction = h(
    "select",
    { "aria-label": t("filters.jurisdiction"), id: "filter-jurisdiction" },
    h("option", { value: "" }, t("filters.all_places")),
    places.map((j) => h("option", { value: j.path }, `${"\u2003".repeat(depth(j.path) - minDepth)}${j.name}`)),
  );
  const type = h(
    "select",
    { "aria-label": t("filters.type"), id: "filter-type" },
    h("option", { value: "" }, t("filters.all_types")),
    config.incident_types.map((x) => h("option", { value: x.id }, typeLabel(x.id, typeLabels.get(x.id)))),
  );
  jurisdiction.addEventListener("change", () => {
    store.setFilter("jurisdiction", jurisdiction.value);
    onChange();
  });
  type.addEventListener("change", () => {
    store.setFilter("type", type.value);
    onChange();
  });
  const chips = OPEN_STATUSES.map((status) => {
    const chip = h("button", {
      type: "button", class: `chip status-${status}`, "aria-pressed": "true", dataset: { status },
      onclick: () => {
        const on = chip.getAttribute("aria-pressed") !== "true";
        chip.setAttribute("aria-pressed", String(on));
        const statuses = new Set(store.filters.statuses);
        if (on) statuses.add(status);
        else statuses.delete(status);
        store.setFilter("statuses", statuses);
        onChange();
      },
    }, statusLabel(status));
    return chip;
  });
  root.append(
    h("div", { class: "filter-row" }, jurisdiction, type),
    h("div", { class: "filter-row chips", role: "group", "aria-label": t("filters.status") }, chips),
  );
  return { focus: () => jurisdiction.focus() };
}
