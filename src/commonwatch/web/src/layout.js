// The console's frame: top bar, the priority-1 banner, the views, the shortcut help and toasts.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { languageSelect } from "./signin.js";

export const VIEWS = ["queue", "units", "devices", "dashboard"];

export function buildLayout(root, { who, onSignOut, onSound, soundOn }) {
  const nav = h(
    "nav",
    { class: "tabs", "aria-label": t("nav.label") },
    VIEWS.map((v) => h("a", { href: `#/${v}`, dataset: { view: v } }, t(`nav.${v}`))),
  );
  const conn = h("span", { class: "conn", role: "status", "aria-live": "polite" }, t("conn.connecting"));
  const clock = h("span", { class: "clock", "aria-label": t("common.local_time") });
  const sound = h("button", { type: "button", class: "btn btn-ghost", "aria-pressed": String(soundOn), onclick: () => onSound(sound) },
    soundOn ? t("sound.on") : t("sound.off"));
  const help = h("button", { type: "button", class: "btn btn-ghost", "aria-keyshortcuts": "?", onclick: () => parts.help.showModal() }, "?");
  const banner = h("div", { class: "p1-banner", role: "alert", hidden: true });
  const filters = h("div", { class: "filters", role: "group", "aria-label": t("filters.label") });
  const counter = h("p", { class: "queue-count", role: "status" });
  const queue = h("div", { class: "queue" });
  const map = h("div", { class: "map", role: "region", "aria-label": t("map.label") });
  const incident = h("aside", { class: "incident-pane", hidden: true, "aria-labelledby": "incident-title" });
  const views = {
    queue: h("section", { class: "view ops", id: "view-queue" },
      h("aside", { class: "queue-pane", "aria-label": t("queue.label") }, filters, counter, queue),
      h("div", { class: "map-pane" }, map),
      incident),
    units: h("section", { class: "view page", id: "view-units", hidden: true }, h("h1", {}, t("nav.units")), h("div", { class: "page-body" })),
    devices: h("section", { class: "view page", id: "view-devices", hidden: true }, h("h1", {}, t("nav.devices")), h("div", { class: "page-body" })),
    dashboard: h("section", { class: "view page", id: "view-dashboard", hidden: true }, h("h1", {}, t("nav.dashboard")), h("div", { class: "page-body dashboard" })),
  };
  const parts = {
    nav, conn, clock, sound, banner, filters, counter, queue, map, incident, views,
    help: h("dialog", { class: "help", "aria-labelledby": "help-title" }),
    toasts: h("div", { class: "toasts", "aria-live": "polite" }),
  };
  root.append(
    h("header", { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), "Commonwatch"),
      nav,
      h("div", { class: "top-status" }, conn, clock, sound, help, languageSelect(),
        h("span", { class: "who", title: who.account_id }, who.name),
        h("button", { type: "button", class: "btn btn-ghost", onclick: onSignOut }, t("signin.signout")))),
    banner,
    h("main", { class: "main" }, Object.values(views)),
    parts.help,
    parts.toasts,
  );
  return parts;
}

export function toaster(root) {
  return (message, tone = "info") => {
    const el = h("div", { class: `toast toast-${tone}`, role: tone === "error" ? "alert" : "status" }, message);
    root.append(el);
    setTimeout(() => el.remove(), tone === "error" ? 8000 : 4000);
  };
}

export function fillHelp(dialog, shortcuts) {
  dialog.append(
    h("h2", { id: "help-title" }, t("help.title")),
    h("dl", { class: "shortcuts" }, shortcuts.map(([key, label]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, t(label))])),
    h("form", { method: "dialog" }, h("button", { class: "btn", type: "submit" }, t("action.close"))),
  );
}
