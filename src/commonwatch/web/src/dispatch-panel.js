// Which units to send: the dispatch module's ranked recommendation (ETA and why) when the
// platform has it, otherwise a plain list of available units, otherwise a clear "not available".

import { dispatch, itemsOf } from "./api.js";
import { h, replace } from "./dom.js";
import { statusLabel, t } from "./i18n.js";
import { formatDuration } from "./time.js";

export class DispatchPanel {
  constructor(root, { toast }) {
    this.root = root;
    this.toast = toast;
    this.incidentId = null;
    this.available = true;
  }

  async load(incidentId, { open }) {
    this.incidentId = incidentId;
    if (!open) {
      replace(this.root, h("p", { class: "muted" }, t("dispatch.closed")));
      return;
    }
    replace(this.root, h("p", { class: "muted" }, t("common.loading")));
    try {
      const found = await dispatch.recommendations(incidentId);
      if (this.incidentId !== incidentId) return;
      const recommendation = found && (found.recommendation || found);
      if (recommendation && Array.isArray(recommendation.slots)) return this._recommended(recommendation);
      const units = await dispatch.units();
      if (this.incidentId !== incidentId) return;
      if (units) return this._manual(itemsOf(units));
      this.available = false;
      replace(this.root, h("p", { class: "muted not-available" }, t("dispatch.not_available")));
    } catch (error) {
      replace(this.root, h("p", { class: "error" }, error.detail || error.message));
    }
  }

  focus() {
    const button = this.root.querySelector("button");
    this.root.scrollIntoView({ block: "nearest" });
    (button || this.root).focus();
  }

  async assign(unitId) {
    try {
      await dispatch.assign(this.incidentId, unitId);
      this.toast(t("dispatch.assigned", { unit: unitId }), "ok");
      await this.load(this.incidentId, { open: true });
    } catch (error) {
      this.toast(error.detail || error.message, "error");
    }
  }

  _assignButton(unitId) {
    return h("button", {
      type: "button", class: "btn btn-small", "aria-label": t("dispatch.assign_unit", { unit: unitId }),
      onclick: () => this.assign(unitId),
    }, t("dispatch.assign"));
  }

  _recommended(rec) {
    const slots = rec.slots.map((slot) =>
      h(
        "section",
        { class: "slot" },
        h("h4", {}, t("dispatch.slot", { role: slot.role, needed: slot.needed, count: slot.count })),
        slot.candidates.length
          ? h("ol", { class: "candidates" }, slot.candidates.map((c) => this._candidate(c)))
          : h("p", { class: "muted" }, t("dispatch.no_candidates")),
        slot.excluded_total ? h("p", { class: "muted small" }, t("dispatch.excluded", { n: slot.excluded_total })) : null,
      ),
    );
    replace(
      this.root,
      rec.notice ? h("p", { class: "notice" }, rec.notice) : null,
      ...slots,
    );
  }

  _candidate(c) {
    const eta = formatDuration(c.eta_s);
    const km = (c.distance_m / 1000).toFixed(1);
    return h(
      "li",
      { class: `candidate${c.chosen ? " chosen" : ""}`, dataset: { unit: c.unit_id } },
      h(
        "div",
        { class: "cand-main" },
        h("strong", {}, c.unit_id),
        h("span", { class: "muted" }, ` ${c.kind} · ${statusLabel(c.status)}`),
        h("div", { class: "cand-eta" }, t("dispatch.eta", { eta, km, method: c.method })),
        c.why ? h("div", { class: "cand-why" }, c.why) : null,
      ),
      this._assignButton(c.unit_id),
    );
  }

  _manual(units) {
    const free = units.filter((u) => ["available", "returning"].includes(u.status));
    replace(
      this.root,
      h("p", { class: "muted" }, t("dispatch.manual")),
      free.length
        ? h(
            "ul",
            { class: "candidates" },
            free.map((u) =>
              h(
                "li",
                { class: "candidate", dataset: { unit: u.id } },
                h("div", { class: "cand-main" }, h("strong", {}, u.name || u.id), h("span", { class: "muted" }, ` ${u.kind || ""} · ${statusLabel(u.status)}`)),
                this._assignButton(u.id),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("dispatch.no_units")),
    );
  }
}
