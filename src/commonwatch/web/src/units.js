// Units: their status and last position, shared by the map and the unit board. The list comes
// from the dispatch module and positions from the device-sources module; both are optional.

import { dispatch, itemsOf, sources } from "./api.js";
import { h, replace } from "./dom.js";
import { statusLabel, t } from "./i18n.js";
import { UNIT_COLOURS } from "./map.js";
import { formatAge, toMs } from "./time.js";

export class UnitStore {
  constructor() {
    this.units = new Map();
    this.available = { list: false, positions: false };
    this._list = null;
  }

  async load() {
    const [list, positions, sent] = await Promise.all([
      dispatch.units().catch(() => null), sources.positions().catch(() => null), dispatch.assignments().catch(() => null),
    ]);
    this.available = { list: list !== null, positions: positions !== null };
    for (const u of itemsOf(list)) this._merge(u.id || u.unit_id, unitFields(u));
    for (const p of itemsOf(positions)) {
      const known = this.units.get(p.unit_id);
      // Keep the fresher of the two fixes (dispatch's own and the device sources').
      if (!known || !known.positionMs || toMs(p.at) > known.positionMs) this._merge(p.unit_id || p.id, positionFields(p));
    }
    for (const a of itemsOf(sent)) if (this.units.has(a.unit_id)) this._merge(a.unit_id, { incident_id: a.incident_id });
  }

  _merge(id, fields) {
    if (!id) return false;
    const unit = this.units.get(id) || { id, name: id, status: "unknown" };
    Object.assign(unit, fields);
    this.units.set(id, unit);
    this._list = null;
    return true;
  }

  // A change from the stream; true when it moved or changed a unit.
  apply(kind, c) {
    if (!c.unit_id) return false;
    if (kind === "UnitStatusChanged") {
      const cleared = ["available", "returning", "out_of_service"].includes(c.to_status);
      const incident = cleared ? null : c.incident_id || this.units.get(c.unit_id)?.incident_id || null;
      return this._merge(c.unit_id, { status: c.to_status, statusMs: toMs(c.at), incident_id: incident });
    }
    if (kind === "UnitDispatched") return this._merge(c.unit_id, { incident_id: c.incident_id, status: "dispatched", statusMs: toMs(c.at) });
    if (typeof c.lat === "number" && typeof c.lon === "number") {
      const fields = positionFields(c);
      if (c.status) Object.assign(fields, { status: c.status });
      return this._merge(c.unit_id, fields);
    }
    return false;
  }

  list() {
    if (!this._list) this._list = [...this.units.values()];
    return this._list;
  }
}

function unitFields(u) {
  const fields = { name: u.name || u.id, kind: u.kind, status: u.status || "unknown", statusMs: toMs(u.status_since) };
  const position = u.position || (typeof u.lat === "number" ? u : null);
  if (position) Object.assign(fields, positionFields(position));
  const assignment = u.assignment || u.current_assignment;
  fields.incident_id = (assignment && assignment.incident_id) || u.incident_id || null;
  return fields;
}

function positionFields(p) {
  return { lat: p.lat, lon: p.lon, positionMs: toMs(p.at || p.updated_at) };
}

const STATUS_ORDER = ["dispatched", "en_route", "on_scene", "busy", "returning", "available", "out_of_service", "unknown"];

export class UnitBoard {
  constructor(root, units, { onIncident }) {
    this.root = root;
    this.units = units;
    this.onIncident = onIncident;
  }

  render() {
    const now = Date.now();
    if (!this.units.available.list && !this.units.units.size) {
      replace(this.root, h("p", { class: "muted not-available" }, t("units.not_available")));
      return;
    }
    const rows = [...this.units.list()].sort(
      (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || String(a.name).localeCompare(String(b.name)),
    );
    replace(
      this.root,
      h(
        "table",
        { class: "board" },
        h("caption", {}, t("units.caption", { n: rows.length })),
        h("thead", {}, h("tr", {}, ["units.unit", "units.kind", "units.status", "units.in_status", "units.position_age", "units.incident"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, rows.map((u) => this._row(u, now))),
      ),
    );
  }

  _row(u, now) {
    const stale = u.positionMs && now - u.positionMs > 120_000;
    return h(
      "tr",
      { dataset: { unit: u.id } },
      h("th", { scope: "row" }, u.name),
      h("td", {}, u.kind || ""),
      h("td", {}, h("span", { class: "unit-status", style: `--c:${UNIT_COLOURS[u.status] || "#8b98a5"}` }, statusLabel(u.status))),
      h("td", { class: "num" }, u.statusMs ? formatAge(now - u.statusMs) : "–"),
      h("td", { class: `num${stale ? " stale" : ""}` }, u.positionMs ? formatAge(now - u.positionMs) : t("units.no_position")),
      h("td", {}, u.incident_id ? h("button", { type: "button", class: "link", onclick: () => this.onIncident(u.incident_id) }, u.incident_id) : ""),
    );
  }
}
