// The incident panel: what happened, where, what to do (SOP checklist), who to send, and the
// actions an operator takes: acknowledge, note, escalate, resolve with a reason.

import { api, sources, itemsOf } from "./api.js";
import { ChecklistView } from "./checklist.js";
import { DispatchPanel } from "./dispatch-panel.js";
import { h, replace } from "./dom.js";
import { statusLabel, t, typeLabel } from "./i18n.js";
import { formatAge, formatTime, toMs, zoneFor, zoneLabel } from "./time.js";
import { Timeline, timelineContext } from "./timeline.js";

const OPEN = new Set(["new", "acknowledged", "dispatched", "on_scene"]);
const STATUS_KINDS = {
  IncidentAcknowledged: (s, c) => ({ status: "acknowledged", acknowledged_at: c.at }),
  IncidentEscalated: (s, c) => ({ escalation_level: c.level, priority: Math.min(s.priority, c.priority) }),
  IncidentResolved: (s, c) => ({ status: "resolved", resolution: c.resolution }),
  IncidentClosed: () => ({ status: "closed" }),
  EventCorrelated: (s, c) => ({ event_count: c.event_count, priority: Math.min(s.priority, c.priority) }),
  UnitDispatched: (s) => (["new", "acknowledged"].includes(s.status) ? { status: "dispatched" } : {}),
  UnitArrived: (s) => (["new", "acknowledged", "dispatched"].includes(s.status) ? { status: "on_scene" } : {}),
};
const DISPATCH_KINDS = new Set(["UnitDispatched", "UnitStatusChanged", "UnitArrived", "AssignmentUnacknowledged"]);

export class IncidentPanel {
  constructor(root, { config, typeLabels, store, toast, onClose }) {
    this.root = root;
    this.config = config;
    this.typeLabels = typeLabels;
    this.store = store;
    this.toast = toast;
    this.onClose = onClose;
    this.incident = null;
    this.loading = null;
    this._build();
  }

  get id() {
    return this.incident ? this.incident.id : null;
  }

  _build() {
    this.header = h("header", { class: "panel-head" });
    this.actions = h("div", { class: "actions", role: "toolbar", "aria-label": t("incident.actions") });
    this.noteForm = this._noteForm();
    this.escalateForm = this._escalateForm();
    this.resolveForm = this._resolveForm();
    const checklistRoot = h("div", { class: "section-body" });
    const dispatchRoot = h("div", { class: "section-body", tabindex: "-1" });
    this.evidenceRoot = h("div", { class: "section-body" });
    const timelineRoot = h("div", { class: "section-body" });
    this.checklist = new ChecklistView(checklistRoot, { toast: this.toast, onChange: () => this._renderResolve() });
    this.dispatch = new DispatchPanel(dispatchRoot, { toast: this.toast });
    this.timeline = new Timeline(timelineRoot);
    this.evidenceSection = section("incident.evidence", this.evidenceRoot);
    replace(
      this.root,
      this.header,
      this.actions,
      this.escalateForm,
      this.noteForm,
      section("incident.checklist", checklistRoot, "checklist-section"),
      section("incident.dispatch", dispatchRoot, "dispatch-section"),
      this.evidenceSection,
      section("incident.resolve", this.resolveForm, "resolve-section"),
      section("incident.timeline", timelineRoot, "timeline-section"),
    );
  }

  async open(id) {
    const token = Symbol(id);
    this.loading = token;
    this.root.hidden = false;
    this.root.setAttribute("aria-busy", "true");
    try {
      const [detail, checklist] = await Promise.all([
        api(`/api/v1/incidents/${encodeURIComponent(id)}`),
        this.checklist.load(id, this.store.get(id)?.jpath || ""),
      ]);
      if (this.loading !== token) return;
      const row = this.store.get(id);
      this.incident = { ...detail, community_name: row?.community_name, building_name: row?.building_name };
      this.checklist.jpath = detail.jpath;
      this.checklist.render();
      this.timeline.reset(detail.timeline, timelineContext(detail, this.typeLabels, checklist));
      this.render();
      this.dispatch.load(id, { open: OPEN.has(detail.status) });
      this._loadEvidence(id);
    } catch (error) {
      if (this.loading === token) replace(this.header, h("p", { class: "error" }, error.detail || error.message));
    } finally {
      if (this.loading === token) this.root.removeAttribute("aria-busy");
    }
  }

  close() {
    this.loading = null;
    this.incident = null;
    this.root.hidden = true;
  }

  render() {
    if (!this.incident) return;
    this._renderHeader();
    this._renderActions();
    this._renderResolve();
  }

  _renderHeader() {
    const i = this.incident;
    const row = this.store.get(i.id);
    if (row) Object.assign(i, { community_name: row.community_name || i.community_name, building_name: row.building_name || i.building_name });
    const zone = zoneFor(i.jpath);
    const place = [i.community_name || i.community_id, i.building_name || i.building_id].filter(Boolean).join(" · ");
    const opened = toMs(i.opened_at);
    replace(
      this.header,
      h(
        "div",
        { class: "head-line" },
        h("span", { class: `prio prio-${i.priority}`, "aria-label": t("priority.n", { n: i.priority }) }, `P${i.priority}`),
        h("h2", { id: "incident-title" }, typeLabel(i.type, this.typeLabels.get(i.type))),
        h("span", { class: `pill status-${i.status}` }, statusLabel(i.status)),
        i.escalation_level ? h("span", { class: "pill escalation" }, t("incident.escalation", { n: i.escalation_level })) : null,
        h("button", { type: "button", class: "btn btn-ghost close", "aria-label": t("action.close"), onclick: () => this.onClose() }, "✕"),
      ),
      h("p", { class: "head-place" }, place),
      h(
        "dl",
        { class: "facts" },
        fact(t("incident.opened"), `${formatTime(opened, i.jpath, "date")} ${zoneLabel(zone)} · ${t("incident.ago", { age: formatAge(Date.now() - opened) })}`),
        fact(t("incident.events"), String(i.event_count)),
        fact(t("incident.devices"), (i.device_ids || []).join(", ")),
        fact(t("incident.id"), i.id),
      ),
    );
  }

  _renderActions() {
    const i = this.incident;
    const open = OPEN.has(i.status);
    replace(
      this.actions,
      button("action.acknowledge", "a", () => this.acknowledge(), { disabled: i.status !== "new", primary: i.status === "new" }),
      button("action.note", "n", () => this.focusNote(), { disabled: !open }),
      button("action.dispatch", "d", () => this.focusDispatch(), { disabled: !open }),
      button("action.escalate", "e", () => this.showEscalate(), { disabled: !open }),
      button("action.resolve", "r", () => this.focusResolve(), { disabled: !open }),
    );
    this.noteForm.hidden = !open;
  }

  _noteForm() {
    const text = h("textarea", { rows: "2", maxlength: "4000", required: true, "aria-label": t("incident.note_label"), placeholder: t("incident.note_placeholder") });
    const form = h("form", { class: "note-form" }, text, h("button", { type: "submit", class: "btn" }, t("action.add_note")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      try {
        await api(`/api/v1/incidents/${encodeURIComponent(this.id)}/notes`, { method: "POST", body: { text: value } });
        text.value = "";
        this.toast(t("incident.note_added"), "ok");
      } catch (error) {
        this.toast(error.detail || error.message, "error");
      }
    });
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
    });
    this.noteText = text;
    return form;
  }

  _escalateForm() {
    const reason = h("input", { type: "text", required: true, maxlength: "1000", "aria-label": t("incident.escalate_reason"), placeholder: t("incident.escalate_reason") });
    const form = h(
      "form",
      { class: "escalate-form", hidden: true },
      reason,
      h("button", { type: "submit", class: "btn btn-warn" }, t("action.escalate")),
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => { form.hidden = true; } }, t("action.cancel")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const view = await api(`/api/v1/incidents/${encodeURIComponent(this.id)}/escalate`, { method: "POST", body: { reason: reason.value.trim() } });
        Object.assign(this.incident, { priority: view.priority, escalation_level: view.escalation_level });
        reason.value = "";
        form.hidden = true;
        this.render();
      } catch (error) {
        this.toast(error.detail || error.message, "error");
      }
    });
    this.escalateReason = reason;
    return form;
  }

  _resolveForm() {
    const reason = h("select", { "aria-label": t("incident.resolution") },
      this.config.resolutions.map((r) => h("option", { value: r }, t(`resolution.${r}`))));
    const note = h("input", { type: "text", maxlength: "4000", "aria-label": t("incident.resolve_note"), placeholder: t("incident.resolve_note") });
    this.resolveHint = h("p", { class: "hint", role: "status" });
    this.resolveButton = h("button", { type: "submit", class: "btn btn-primary" }, t("action.resolve"));
    const form = h("form", { class: "resolve-form" }, reason, note, this.resolveButton, this.resolveHint);
    reason.addEventListener("change", () => this._renderResolve());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api(`/api/v1/incidents/${encodeURIComponent(this.id)}/resolve`, {
          method: "POST", body: { reason: reason.value, note: note.value.trim() || null },
        });
        note.value = "";
        this.toast(t("incident.resolved"), "ok");
      } catch (error) {
        this.toast(error.detail || error.message, "error");
      }
    });
    this.resolveReason = reason;
    return form;
  }

  _renderResolve() {
    if (!this.incident || !this.resolveButton) return;
    const open = OPEN.has(this.incident.status);
    const exempt = this.checklist.data?.exempt_resolutions || [];
    const missing = exempt.includes(this.resolveReason.value) ? [] : this.checklist.openRequired();
    this.resolveButton.disabled = !open || missing.length > 0;
    this.resolveHint.textContent = !open
      ? t("incident.resolved_already", { resolution: t(`resolution.${this.incident.resolution || "handled"}`) })
      : missing.length
        ? t("incident.steps_open", { steps: missing.map((s) => this.checklist.labelOf(s)).join("; ") })
        : "";
  }

  async _loadEvidence(id) {
    const found = await sources.evidence(id).catch(() => null);
    if (this.id !== id) return;
    const items = itemsOf(found);
    this.evidenceSection.hidden = found === null;
    replace(
      this.evidenceRoot,
      items.length
        ? h("ul", { class: "evidence" }, items.map((e) =>
            h("li", {}, h("a", { href: e.url, target: "_blank", rel: "noopener noreferrer" }, `${t(`evidence.${e.kind}`)} · ${formatTime(e.created_at || e.at, this.incident.jpath)}`))))
        : h("p", { class: "muted" }, t("incident.no_evidence")),
    );
  }

  // Changes from the stream that concern the open incident.
  onChange(kind, change) {
    if (!this.incident || change.incident_id !== this.incident.id) return;
    this.timeline.append(kind, change);
    const patch = STATUS_KINDS[kind];
    if (patch) {
      Object.assign(this.incident, patch(this.incident, change));
      this.render();
    }
    if (kind === "ChecklistStepRecorded") this.checklist.load(this.incident.id, this.incident.jpath).then(() => this._renderResolve());
    if (DISPATCH_KINDS.has(kind) || kind === "IncidentResolved") {
      this.dispatch.load(this.incident.id, { open: OPEN.has(this.incident.status) });
    }
  }

  async acknowledge() {
    if (!this.incident || this.incident.status !== "new") return;
    try {
      const view = await api(`/api/v1/incidents/${encodeURIComponent(this.id)}/acknowledge`, { method: "POST" });
      Object.assign(this.incident, { status: view.status, acknowledged_at: view.acknowledged_at });
      this.render();
    } catch (error) {
      this.toast(error.detail || error.message, "error");
    }
  }

  focusNote() {
    this.noteForm.scrollIntoView({ block: "nearest" });
    this.noteText.focus();
  }

  focusDispatch() {
    this.dispatch.focus();
  }

  showEscalate() {
    this.escalateForm.hidden = false;
    this.escalateReason.focus();
  }

  focusResolve() {
    this.resolveForm.scrollIntoView({ block: "nearest" });
    this.resolveReason.focus();
  }
}

function section(titleKey, body, className = "") {
  return h("section", { class: `panel-section ${className}` }, h("h3", { "data-i18n": titleKey }, t(titleKey)), body);
}

function fact(label, value) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value));
}

function button(key, shortcut, onclick, { disabled = false, primary = false } = {}) {
  return h(
    "button",
    { type: "button", class: `btn${primary ? " btn-primary" : ""}`, disabled, onclick, "aria-keyshortcuts": shortcut, dataset: { action: key } },
    t(key),
    h("kbd", { "aria-hidden": "true" }, shortcut.toUpperCase()),
  );
}
