// The responder app, for a phone: the unit's current assignment, big status buttons, directions
// that need no internet to show, and sharing the phone's position. Installable as a PWA.

import "./styles/responder.css";
import { api, ApiError, dispatch, itemsOf } from "./api.js";
import { h, replace } from "./dom.js";
import { statusLabel, t, typeLabel } from "./i18n.js";
import { LiveStream } from "./live.js";
import { languageSelect, showSignIn, signOut } from "./signin.js";
import { configureZones, formatAge, formatTime, toMs } from "./time.js";

const root = document.getElementById("root");
const UNIT_KEY = "cw.unit";
const POSITION_EVERY_MS = 15_000;
const STATUS_BUTTONS = [
  ["en_route", "responder.en_route"],
  ["on_scene", "responder.on_scene"],
  ["available", "responder.clear"],
];

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/responder" }).catch(() => null);
}

async function boot() {
  try {
    start(await api("/api/v1/session"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn(root, { title: t("responder.title"), onSignedIn: start });
    else replace(root, h("p", { class: "fatal" }, error.detail || error.message));
  }
}

async function start(who) {
  const config = await api("/api/v1/console/config");
  configureZones(config.jurisdictions, config.timezone);
  const app = new Responder(who, config);
  app.run();
}

class Responder {
  constructor(who, config) {
    this.who = who;
    this.typeLabels = new Map(config.incident_types.map((x) => [x.id, x.label]));
    this.unitId = localStorage.getItem(UNIT_KEY);
    this.unit = null;
    this.incident = null;
    this.watch = null;
    this.lastSent = 0;
    this.main = h("main", { class: "r-main" });
    this.message = h("p", { class: "r-message", role: "status", "aria-live": "polite" });
  }

  run() {
    replace(
      root,
      h("header", { class: "r-top" },
        h("span", { class: "r-brand" }, h("span", { class: "logo", "aria-hidden": "true" }), t("responder.title")),
        languageSelect(),
        h("button", { type: "button", class: "btn btn-ghost", onclick: signOut }, t("signin.signout"))),
      this.message,
      this.main,
    );
    new LiveStream({ onBatch: (batch) => this.onBatch(batch), onState: () => null }).connect();
    this.refresh();
  }

  async refresh() {
    if (!this.unitId) return this.chooseUnit();
    const [units, sent] = await Promise.all([dispatch.units().catch(() => null), dispatch.assignments(this.unitId).catch(() => null)]);
    this.unit = itemsOf(units).find((u) => (u.id || u.unit_id) === this.unitId) || { id: this.unitId, status: "unknown" };
    this.dispatchAvailable = units !== null;
    const assignment = itemsOf(sent)[0];
    const incidentId = assignment ? assignment.incident_id : null;
    this.incident = null;
    if (incidentId) {
      const found = await api(`/api/v1/console/queue?ids=${encodeURIComponent(incidentId)}`).catch(() => null);
      this.incident = found && found.items[0] ? found.items[0] : { id: incidentId, closed: true };
    }
    this.render();
  }

  async chooseUnit() {
    const units = itemsOf(await dispatch.units().catch(() => null));
    const input = units.length
      ? h("select", { id: "unit-choice", "aria-label": t("responder.unit") }, units.map((u) => h("option", { value: u.id }, `${u.name || u.id} (${u.id})`)))
      : h("input", { id: "unit-choice", "aria-label": t("responder.unit"), placeholder: t("responder.unit_id"), required: true });
    const form = h("form", { class: "r-card" },
      h("h1", {}, t("responder.which_unit")),
      units.length ? null : h("p", { class: "muted" }, t("responder.no_unit_list")),
      input,
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("responder.use_unit")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!input.value.trim()) return;
      this.unitId = input.value.trim();
      localStorage.setItem(UNIT_KEY, this.unitId);
      this.refresh();
    });
    replace(this.main, form);
  }

  render() {
    const u = this.unit;
    replace(
      this.main,
      h("section", { class: "r-card r-unit" },
        h("div", { class: "r-unit-line" },
          h("strong", {}, u.name || u.id),
          h("span", { class: `pill unit-${u.status}` }, statusLabel(u.status || "unknown"))),
        h("button", { type: "button", class: "link", onclick: () => { localStorage.removeItem(UNIT_KEY); this.unitId = null; this.chooseUnit(); } }, t("responder.change_unit"))),
      this._assignment(),
      this._statusButtons(),
      this._position(),
    );
  }

  _assignment() {
    const i = this.incident;
    if (!i) return h("section", { class: "r-card r-idle" }, h("h2", {}, t("responder.no_assignment")), h("p", { class: "muted" }, t("responder.wait")));
    if (i.closed) return h("section", { class: "r-card" }, h("h2", {}, t("responder.assignment_closed", { id: i.id })));
    const place = [i.community_name || i.community_id, i.building_name].filter(Boolean).join(" · ");
    const links = i.lat !== null && i.lat !== undefined
      ? h("div", { class: "r-directions" },
          h("a", { class: "btn btn-block", href: `geo:${i.lat},${i.lon}?q=${i.lat},${i.lon}` }, t("responder.directions_app")),
          h("a", { class: "btn btn-ghost btn-block", href: `https://www.openstreetmap.org/directions?to=${i.lat}%2C${i.lon}#map=17/${i.lat}/${i.lon}`, target: "_blank", rel: "noopener noreferrer" }, t("responder.directions_osm")),
          h("p", { class: "muted small" }, `${i.lat.toFixed(5)}, ${i.lon.toFixed(5)}`))
      : null;
    return h("section", { class: `r-card r-incident prio-border-${i.priority}` },
      h("div", { class: "r-incident-line" },
        h("span", { class: `prio prio-${i.priority}` }, `P${i.priority}`),
        h("h2", {}, typeLabel(i.type, this.typeLabels.get(i.type)))),
      h("p", { class: "r-place" }, place),
      h("p", { class: "muted" }, `${formatTime(i.opened_at, i.jpath, "short")} · ${t("incident.ago", { age: formatAge(Date.now() - toMs(i.opened_at)) })} · ${statusLabel(i.status)}`),
      links);
  }

  _statusButtons() {
    const current = this.unit.status;
    return h("section", { class: "r-status", "aria-label": t("responder.status") },
      STATUS_BUTTONS.map(([status, key]) =>
        h("button", {
          type: "button", class: `r-big status-${status}`, disabled: current === status || !this.dispatchAvailable,
          "aria-pressed": String(current === status), onclick: () => this.setStatus(status),
        }, t(key))),
      this.dispatchAvailable ? null : h("p", { class: "muted" }, t("responder.status_not_available")));
  }

  async setStatus(status) {
    try {
      await dispatch.unitStatus(this.unit.id, status);
      this.unit.status = status;
      this.message.textContent = t("responder.status_sent", { status: statusLabel(status) });
      this.render();
    } catch (error) {
      this.message.textContent = error.detail || error.message;
    }
  }

  _position() {
    const on = this.watch !== null;
    const supported = "geolocation" in navigator && window.isSecureContext;
    const toggle = h("button", {
      type: "button", class: `btn btn-block${on ? " btn-primary" : ""}`, "aria-pressed": String(on), disabled: !supported,
      onclick: () => (on ? this.stopSharing() : this.startSharing()),
    }, on ? t("responder.sharing_on") : t("responder.share_position"));
    const note = !supported ? t("responder.position_needs_https")
      : this.lastSent ? t("responder.position_sent", { age: formatAge(Date.now() - this.lastSent) }) : t("responder.position_hint");
    return h("section", { class: "r-card" }, toggle, h("p", { class: "muted small" }, note));
  }

  startSharing() {
    this.watch = navigator.geolocation.watchPosition(
      (p) => this.sendPosition(p),
      (error) => {
        this.message.textContent = error.message;
      },
      { enableHighAccuracy: true, maximumAge: 10_000, timeout: 30_000 },
    );
    this.render();
  }

  stopSharing() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
    this.render();
  }

  async sendPosition(p) {
    if (Date.now() - this.lastSent < POSITION_EVERY_MS) return;
    this.lastSent = Date.now();
    const body = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy, at: new Date(p.timestamp).toISOString() };
    try {
      await dispatch.unitPosition(this.unit.id, body);
    } catch (error) {
      this.message.textContent = error.detail || error.message;
    }
    this.render();
  }

  onBatch(batch) {
    const mine = batch.some(({ data }) =>
      data.unit_id === this.unitId || (this.incident && data.incident_id === this.incident.id));
    if (mine) this.refresh();
  }
}

boot();
