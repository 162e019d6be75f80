// Device health per community: how many devices, how many in alarm, how many silent for a day,
// and (from the device-sources module, when present) which ones need maintenance.

import { api, itemsOf, sources } from "./api.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { formatTime } from "./time.js";

export class DeviceHealthView {
  constructor(root) {
    this.root = root;
    this.expanded = null;
  }

  async show() {
    replace(this.root, h("p", { class: "muted" }, t("common.loading")));
    try {
      const data = await api("/api/v1/console/device-health");
      this.render(data);
    } catch (error) {
      replace(this.root, h("p", { class: "error" }, error.detail || error.message));
    }
  }

  render(data) {
    const hours = Math.round(data.silent_after_s / 3600);
    const refresh = h("button", { type: "button", class: "btn btn-small", onclick: () => this.show() }, t("action.refresh"));
    replace(
      this.root,
      h("div", { class: "view-tools" }, refresh),
      h(
        "table",
        { class: "board" },
        h("caption", {}, t("devices.caption", { n: data.items.length })),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t("devices.community")),
          h("th", { scope: "col", class: "num" }, t("devices.total")),
          h("th", { scope: "col", class: "num" }, t("devices.in_alarm")),
          h("th", { scope: "col", class: "num" }, t("devices.silent", { hours })),
          h("th", { scope: "col" }, t("devices.details")))),
        h("tbody", {}, data.items.map((c) => this._row(c))),
      ),
    );
  }

  _row(c) {
    const details = h("td", {}, h("button", { type: "button", class: "link", onclick: (e) => this._details(c, e.target) }, t("devices.show")));
    return h(
      "tr",
      { dataset: { community: c.community_id } },
      h("th", { scope: "row" }, c.name),
      h("td", { class: "num" }, String(c.devices)),
      h("td", { class: `num${c.in_alarm ? " warn" : ""}` }, String(c.in_alarm)),
      h("td", { class: `num${c.silent ? " muted-warn" : ""}` }, String(c.silent)),
      details,
    );
  }

  async _details(c, button) {
    const cell = button.parentElement;
    const found = await sources.unhealthy(c.community_id).catch(() => null);
    if (found === null) {
      replace(cell, h("span", { class: "muted" }, t("devices.not_available")));
      return;
    }
    const items = itemsOf(found);
    replace(
      cell,
      items.length
        ? h("ul", { class: "unhealthy" }, items.map((d) =>
            h("li", {}, `${d.device_id || d.id}: ${d.state || ""} ${(d.issues || []).join(", ")} ${d.since ? "· " + formatTime(d.since, d.jpath, "date") : ""}`)))
        : h("span", { class: "muted" }, t("devices.all_healthy")),
    );
  }
}
