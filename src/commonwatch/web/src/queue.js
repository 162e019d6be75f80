// The incident queue: a virtual list. Only the rows in view (and a few either side) exist in
// the DOM, so 5,000 open incidents cost what 30 do. Rows are a fixed height and reused.

import { h, setText } from "./dom.js";
import { statusLabel, t, typeLabel } from "./i18n.js";
import { formatAge } from "./time.js";

const ROW_HEIGHT = 64;
const OVERSCAN = 6;

export class QueueView {
  constructor(root, store, { onSelect, typeLabels }) {
    this.store = store;
    this.onSelect = onSelect;
    this.typeLabels = typeLabels; // type id -> server label (fallback)
    this.selectedId = null;
    this.rows = [];
    this.pool = [];
    this.onRendered = null; // (ids now in the DOM) for measuring
    this.scroller = h("div", {
      class: "queue-scroller", role: "listbox", tabindex: "0", "aria-label": t("queue.label"),
    });
    this.spacer = h("div", { class: "queue-spacer" });
    this.empty = h("p", { class: "queue-empty", hidden: true }, t("queue.empty"));
    this.scroller.append(this.spacer);
    root.append(this.scroller, this.empty);
    // Geometry is cached and read only in scroll and resize callbacks: reading it while
    // rendering would force a layout of the whole page on every streamed change.
    this.top = 0;
    this.height = 800;
    this.scroller.addEventListener("scroll", () => this._onScroll(), { passive: true });
    new ResizeObserver((entries) => {
      this.height = entries[0].contentRect.height || this.height;
      this._paint();
    }).observe(this.scroller);
    this.scroller.addEventListener("click", (e) => this._onClick(e));
    this.framePending = false;
  }

  _onScroll() {
    this.top = this.scroller.scrollTop;
    if (this.framePending) return;
    this.framePending = true;
    requestAnimationFrame(() => {
      this.framePending = false;
      this._paint();
    });
  }

  _onClick(event) {
    const el = event.target.closest(".queue-row");
    if (el && el.dataset.id) this.onSelect(el.dataset.id);
  }

  // Called when the data changed (at most once per frame by the caller).
  render() {
    this.rows = this.store.view();
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.empty.hidden = this.rows.length > 0;
    this._paint();
  }

  _paint() {
    const top = this.top;
    const height = this.height;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const needed = last - first;
    while (this.pool.length < needed) {
      const el = this._rowElement();
      this.pool.push(el);
      this.spacer.append(el);
    }
    const now = Date.now();
    const shown = [];
    for (let i = 0; i < this.pool.length; i += 1) {
      const el = this.pool[i];
      if (i >= needed) {
        if (!el.hidden) {
          el.hidden = true;
          el.key = null;
          delete el.dataset.id;
          el.removeAttribute("id");
        }
        continue;
      }
      const row = this.rows[first + i];
      el.hidden = false;
      this._fill(el, row, first + i, now);
      shown.push(row.id);
    }
    if (this.onRendered) this.onRendered(shown);
  }

  _rowElement() {
    const el = h("div", { class: "queue-row", role: "option" });
    el.append(
      h("span", { class: "prio" }),
      h("div", { class: "row-main" }, h("span", { class: "row-title" }), h("span", { class: "row-place" })),
      h("div", { class: "row-side" }, h("span", { class: "pill" }), h("span", { class: "row-age" })),
    );
    el.parts = {
      prio: el.children[0],
      title: el.querySelector(".row-title"),
      place: el.querySelector(".row-place"),
      pill: el.querySelector(".pill"),
      age: el.querySelector(".row-age"),
    };
    return el;
  }

  _fill(el, row, index, now) {
    const p = el.parts;
    // Write only what changed: every write invalidates style, even of an equal value.
    const selected = row.id === this.selectedId;
    const key = `${index}|${row.id}|${row.priority}|${row.status}|${row.escalation_level}|${row.event_count}|${selected}|${this.rows.length}|${row.building_name}`;
    if (el.key !== key) {
      el.key = key;
      el.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
      el.dataset.id = row.id;
      el.id = `q-${row.id}`;
      el.dataset.priority = String(row.priority);
      el.dataset.status = row.status;
      el.setAttribute("aria-posinset", String(index + 1));
      el.setAttribute("aria-setsize", String(this.rows.length));
      el.setAttribute("aria-selected", selected ? "true" : "false");
      el.classList.toggle("selected", selected);
      el.classList.toggle("escalated", row.escalation_level > 0);
      this._texts(el, row);
    }
    setText(p.age, formatAge(now - row.openedMs));
  }

  _texts(el, row) {
    const p = el.parts;
    setText(p.prio, `P${row.priority}`);
    p.prio.setAttribute("aria-label", t("priority.n", { n: row.priority }));
    const escalation = row.escalation_level > 0 ? ` ▲${row.escalation_level}` : "";
    setText(p.title, `${typeLabel(row.type, this.typeLabels.get(row.type))}${escalation}`);
    const place = [row.community_name || row.community_id, row.building_name].filter(Boolean).join(" · ");
    setText(p.place, place);
    setText(p.pill, statusLabel(row.status));
    p.pill.className = `pill status-${row.status}`;
  }

  select(id, { scroll = true } = {}) {
    this.selectedId = id;
    if (scroll) this.scrollTo(id);
    this._paint();
    if (id) this.scroller.setAttribute("aria-activedescendant", `q-${id}`);
  }

  scrollTo(id) {
    const index = this.rows.findIndex((r) => r.id === id);
    if (index < 0) return;
    const top = index * ROW_HEIGHT;
    if (top < this.top) this.scroller.scrollTop = this.top = top;
    else if (top + ROW_HEIGHT > this.top + this.height) this.scroller.scrollTop = this.top = top + ROW_HEIGHT - this.height;
  }

  // j/k: the next or previous incident in queue order.
  neighbour(delta) {
    if (!this.rows.length) return null;
    const index = this.rows.findIndex((r) => r.id === this.selectedId);
    if (index < 0) return this.rows[delta > 0 ? 0 : this.rows.length - 1].id;
    const next = Math.min(this.rows.length - 1, Math.max(0, index + delta));
    return this.rows[next].id;
  }

  // Ages move on without any data changing.
  tick() {
    this._paint();
  }
}
