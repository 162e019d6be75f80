// Every open incident in the operator's jurisdiction, in memory, patched from the change stream.
// The sorted, filtered view is computed at most once per animation frame, when something changed.

import { toMs } from "./time.js";

export const OPEN_STATUSES = ["new", "acknowledged", "dispatched", "on_scene"];

function normalise(row) {
  return {
    id: row.id,
    type: row.type,
    priority: row.priority,
    status: row.status,
    jpath: row.jpath,
    community_id: row.community_id,
    community_name: row.community_name ?? null,
    building_id: row.building_id ?? null,
    building_name: row.building_name ?? null,
    lat: row.lat ?? null,
    lon: row.lon ?? null,
    event_count: row.event_count ?? 1,
    escalation_level: row.escalation_level ?? 0,
    openedMs: toMs(row.opened_at),
    acknowledgedMs: toMs(row.acknowledged_at),
  };
}

function byUrgency(a, b) {
  return a.priority - b.priority || a.openedMs - b.openedMs || (a.id < b.id ? -1 : 1);
}

// How each change kind patches the queue, as data. Kinds that touch an incident in a way the
// payload does not fully describe (dispatch, arrival) ask for the row to be read again.
const PATCHES = {
  EventCorrelated: (row, c) => ({ event_count: c.event_count, priority: Math.min(row.priority, c.priority) }),
  IncidentAcknowledged: (row, c) => ({ status: "acknowledged", acknowledgedMs: toMs(c.at) }),
  IncidentEscalated: (row, c) => ({ escalation_level: c.level, priority: Math.min(row.priority, c.priority) }),
};
const REMOVES = new Set(["IncidentResolved", "IncidentClosed"]);
const REFRESHES = new Set(["UnitDispatched", "UnitArrived", "UnitStatusChanged", "AssignmentUnacknowledged"]);

export class IncidentStore {
  constructor(places) {
    this.places = places; // community id -> {name, lat, lon}
    this.rows = new Map();
    this.filters = { jurisdiction: "", type: "", statuses: new Set(OPEN_STATUSES) };
    this._view = null;
    this.stale = new Set(); // ids whose row should be read again from the server
  }

  load(items) {
    this.rows.clear();
    for (const item of items) this.rows.set(item.id, normalise(item));
    this._view = null;
  }

  upsert(item) {
    const previous = this.rows.get(item.id);
    const row = normalise(item);
    this.rows.set(item.id, row);
    this._view = null;
    return { row, previous };
  }

  remove(id) {
    if (this.rows.delete(id)) this._view = null;
  }

  get(id) {
    return this.rows.get(id);
  }

  // Applies one change; returns {id, kind: "opened" | "updated" | "removed"} or null.
  apply(kind, change) {
    const id = change.incident_id;
    if (!id) return null;
    if (kind === "IncidentOpened") return this._opened(change);
    const row = this.rows.get(id);
    if (REMOVES.has(kind)) {
      if (!row) return null;
      this.remove(id);
      return { id, kind: "removed", row };
    }
    if (REFRESHES.has(kind)) this.stale.add(id);
    const patch = PATCHES[kind];
    if (!row || !patch) return row ? { id, kind: "touched", row } : null;
    Object.assign(row, patch(row, change));
    this._view = null;
    return { id, kind: "updated", row };
  }

  _opened(c) {
    if (this.rows.has(c.incident_id)) return null; // the snapshot already had it
    const place = this.places.get(c.community_id) || {};
    const row = normalise({
      id: c.incident_id, type: c.incident_type, priority: c.priority, status: "new", jpath: c.jpath,
      community_id: c.community_id, community_name: place.name, building_id: c.building_id,
      lat: place.lat, lon: place.lon, opened_at: c.at,
    });
    this.rows.set(row.id, row);
    this.stale.add(row.id); // the building's name and position come with the full row
    this._view = null;
    return { id: row.id, kind: "opened", row };
  }

  setFilter(name, value) {
    this.filters[name] = value;
    this._view = null;
  }

  matches(row) {
    const f = this.filters;
    if (!f.statuses.has(row.status)) return false;
    if (f.type && row.type !== f.type) return false;
    if (f.jurisdiction && row.jpath !== f.jurisdiction && !row.jpath.startsWith(f.jurisdiction + ".")) return false;
    return true;
  }

  view() {
    if (!this._view) {
      const out = [];
      for (const row of this.rows.values()) if (this.matches(row)) out.push(row);
      out.sort(byUrgency);
      this._view = out;
    }
    return this._view;
  }

  countsByPriority() {
    const counts = [0, 0, 0, 0, 0];
    for (const row of this.rows.values()) counts[row.priority - 1] += 1;
    return counts;
  }

  takeStale() {
    const ids = [...this.stale];
    this.stale.clear();
    return ids;
  }
}
