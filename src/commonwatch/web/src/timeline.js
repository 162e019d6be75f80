// One incident's story in order: device events, status changes, notes, checklist steps and
// dispatches, merged from the stored timeline and the live stream.

import { h, replace } from "./dom.js";
import { pick, statusLabel, t, typeLabel } from "./i18n.js";
import { formatDuration, formatTime, toMs } from "./time.js";

// kind -> [category, sentence(data, ctx)]. Categories pick the icon and colour.
const KINDS = {
  IncidentOpened: ["event", (d, c) => t("tl.opened", { type: c.type(d.incident_type), device: d.device_id, event: d.event_type })],
  EventCorrelated: ["event", (d) => t("tl.correlated", { device: d.device_id, event: d.event_type, n: d.event_count })],
  IncidentAcknowledged: ["status", (d) => t("tl.acknowledged", { by: d.by })],
  IncidentEscalated: ["status", (d) => t("tl.escalated", { level: d.level, priority: d.priority, reason: d.reason })],
  IncidentResolved: ["status", (d) => t("tl.resolved", { reason: t(`resolution.${d.resolution}`), by: d.by })],
  IncidentClosed: ["status", (d) => t("tl.closed", { by: d.by })],
  NoteAdded: ["note", (d) => t("tl.note", { by: d.by })],
  ChecklistStepRecorded: ["checklist", (d, c) =>
    t(d.state === "done" ? "tl.step_done" : "tl.step_skipped", { step: c.step(d.step), by: d.by })],
  UnitDispatched: ["dispatch", (d) => t("tl.dispatched", { unit: d.unit_id, eta: formatDuration(d.eta_s), by: d.by })],
  UnitStatusChanged: ["dispatch", (d) => t("tl.unit_status", { unit: d.unit_id, status: statusLabel(d.to_status) })],
  UnitArrived: ["dispatch", (d) => t("tl.arrived", { unit: d.unit_id })],
  AssignmentUnacknowledged: ["dispatch", (d) => t("tl.unacknowledged", { unit: d.unit_id, waited: formatDuration(d.waited_s) })],
};
const ICONS = { event: "◉", status: "◆", note: "✎", checklist: "☑", dispatch: "➤", other: "•" };

export class Timeline {
  constructor(root) {
    this.root = root;
    this.entries = [];
    this.keys = new Set();
    this.context = null;
  }

  reset(entries, context) {
    this.entries = [];
    this.keys.clear();
    this.context = context;
    for (const e of entries) this._add(e);
    this.render();
  }

  _add(entry) {
    const data = entry.data || {};
    const key = `${entry.kind}|${toMs(entry.at)}|${data.step || data.unit_id || ""}`;
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    this.entries.push({ ...entry, ms: toMs(entry.at) });
    return true;
  }

  // A change from the stream, shaped like a stored entry.
  append(kind, change) {
    if (this._add({ at: change.at, kind, actor: change.by || null, data: change })) {
      this.entries.sort((a, b) => a.ms - b.ms);
      this.render();
    }
  }

  render() {
    const ctx = this.context;
    const items = this.entries.map((e) => this._item(e, ctx));
    replace(this.root, items.length ? h("ol", { class: "timeline" }, items) : h("p", { class: "muted" }, t("tl.empty")));
  }

  _item(entry, ctx) {
    const [category, sentence] = KINDS[entry.kind] || ["other", () => entry.kind];
    const data = entry.data || {};
    const text = sentence(data, ctx);
    return h(
      "li",
      { class: `tl-item tl-${category}`, dataset: { kind: entry.kind } },
      h("span", { class: "tl-icon", "aria-hidden": "true" }, ICONS[category]),
      h("time", { class: "tl-time", datetime: new Date(entry.ms).toISOString() }, formatTime(entry.ms, ctx.jpath)),
      h(
        "div",
        { class: "tl-body" },
        h("span", { class: "tl-text" }, text),
        entry.kind === "NoteAdded" ? h("p", { class: "tl-note" }, data.text) : null,
        entry.kind === "IncidentResolved" && data.note ? h("p", { class: "tl-note" }, data.note) : null,
        data.reason && entry.kind === "ChecklistStepRecorded" ? h("p", { class: "tl-note" }, data.reason) : null,
      ),
    );
  }
}

export function timelineContext(incident, typeLabels, checklist) {
  const steps = new Map((checklist?.steps || []).map((s) => [s.id, pick(s.labels)]));
  return {
    jpath: incident.jpath,
    type: (type) => typeLabel(type, typeLabels.get(type)),
    step: (id) => steps.get(id) || id,
  };
}
