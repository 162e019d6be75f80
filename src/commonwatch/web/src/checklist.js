// The SOP checklist of an incident: required steps gate resolving (the server enforces it too);
// a skipped step needs a reason, and the server writes every skip to the audit log.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { pick, t } from "./i18n.js";
import { formatTime } from "./time.js";

export class ChecklistView {
  constructor(root, { toast, onChange }) {
    this.root = root;
    this.toast = toast;
    this.onChange = onChange;
    this.data = null;
    this.jpath = "";
    this.skipping = null; // the step whose skip reason is being typed
  }

  async load(incidentId, jpath) {
    this.jpath = jpath;
    this.skipping = null;
    this.data = await api(`/api/v1/incidents/${encodeURIComponent(incidentId)}/checklist`);
    this.render();
    return this.data;
  }

  openRequired() {
    return this.data ? this.data.open_required : [];
  }

  labelOf(stepId) {
    const step = this.data?.steps.find((s) => s.id === stepId);
    return step ? pick(step.labels) : stepId;
  }

  async record(stepId, state, reason) {
    const path = `/api/v1/incidents/${encodeURIComponent(this.data.incident_id)}/checklist/${encodeURIComponent(stepId)}`;
    try {
      this.data = await api(path, { method: "POST", body: { state, reason } });
      this.skipping = null;
      this.render();
      this.onChange(this.data);
    } catch (error) {
      this.toast(error.detail || error.message, "error");
    }
  }

  render() {
    if (!this.data) return;
    const steps = this.data.steps;
    const required = steps.filter((s) => s.required);
    const settled = required.filter((s) => s.state).length;
    const summary = required.length
      ? t("checklist.progress", { done: settled, total: required.length })
      : t("checklist.none_required");
    replace(
      this.root,
      h("p", { class: `checklist-summary ${settled < required.length ? "open" : "complete"}` }, summary),
      steps.length ? h("ol", { class: "checklist" }, steps.map((s) => this._step(s))) : h("p", { class: "muted" }, t("checklist.empty")),
    );
  }

  _step(step) {
    const state = step.state || "open";
    const marker = { open: "○", done: "✓", skipped: "↷" }[state];
    const label = pick(step.labels);
    const who = step.state ? t(`checklist.by_${step.state}`, { by: step.by, at: formatTime(step.at, this.jpath, "short") }) : "";
    return h(
      "li",
      { class: `step step-${state}`, dataset: { step: step.id } },
      h("span", { class: "step-mark", "aria-hidden": "true" }, marker),
      h(
        "div",
        { class: "step-body" },
        h("span", { class: "step-label" }, label, step.required ? h("span", { class: "badge-required" }, t("checklist.required")) : null),
        who ? h("span", { class: "step-who" }, who) : null,
        step.reason ? h("span", { class: "step-reason" }, step.reason) : null,
        this.skipping === step.id ? this._skipForm(step) : null,
      ),
      h("div", { class: "step-actions" }, this._buttons(step, label)),
    );
  }

  _buttons(step, label) {
    if (step.state === "done") return [];
    const done = h("button", {
      type: "button", class: "btn btn-small", "aria-label": t("checklist.mark_done", { step: label }),
      onclick: () => this.record(step.id, "done"),
    }, t("checklist.done"));
    if (step.state === "skipped") return [done];
    const skip = h("button", {
      type: "button", class: "btn btn-small btn-ghost", "aria-label": t("checklist.skip_step", { step: label }),
      onclick: () => {
        this.skipping = step.id;
        this.render();
        this.root.querySelector(".skip-form input")?.focus();
      },
    }, t("checklist.skip"));
    return [done, skip];
  }

  _skipForm(step) {
    const input = h("input", {
      type: "text", required: true, minlength: "3", maxlength: "1000", "aria-label": t("checklist.skip_reason"),
      placeholder: t("checklist.skip_reason"),
    });
    const form = h(
      "form",
      { class: "skip-form" },
      input,
      h("button", { type: "submit", class: "btn btn-small" }, t("checklist.confirm_skip")),
      h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => { this.skipping = null; this.render(); } }, t("action.cancel")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const reason = input.value.trim();
      if (reason.length >= 3) this.record(step.id, "skipped", reason);
    });
    return form;
  }
}
