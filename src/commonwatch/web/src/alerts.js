// A new priority-1 incident must be impossible to miss: a banner that stays until the incident
// is acknowledged or the banner dismissed, and (when switched on) a tone that repeats meanwhile.

import { h, replace } from "./dom.js";
import { t, typeLabel } from "./i18n.js";

const REPEAT_MS = 20_000;
const SOUND_KEY = "cw.sound";

export class PriorityAlerts {
  constructor(banner, { onOpen, typeLabels }) {
    this.banner = banner;
    this.onOpen = onOpen;
    this.typeLabels = typeLabels;
    this.waiting = new Map(); // id -> row, newest last
    this.sound = localStorage.getItem(SOUND_KEY) !== "off";
    this.audio = null;
    this.timer = null;
  }

  // Browsers only let sound start after a user gesture: make the audio context at the first one.
  unlockOnGesture() {
    const unlock = () => this.unlock();
    document.addEventListener("pointerdown", unlock, { once: true, capture: true });
    document.addEventListener("keydown", unlock, { once: true, capture: true });
  }

  unlock() {
    if (!this.audio && window.AudioContext) this.audio = new AudioContext();
    this.audio?.resume?.();
  }

  setSound(on) {
    this.sound = on;
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    if (on) {
      this.unlock();
      this.beep();
    }
  }

  raise(row) {
    this.waiting.set(row.id, row);
    this.render();
    this.beep();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.beep(), REPEAT_MS);
  }

  settle(id) {
    if (this.waiting.delete(id)) this.render();
  }

  dismiss() {
    this.waiting.clear();
    this.render();
  }

  render() {
    const rows = [...this.waiting.values()];
    if (!rows.length) {
      clearInterval(this.timer);
      this.banner.hidden = true;
      return;
    }
    const latest = rows[rows.length - 1];
    const what = `${typeLabel(latest.type, this.typeLabels.get(latest.type))} · ${latest.community_name || latest.community_id}`;
    const message = rows.length === 1 ? t("alert.one", { what }) : t("alert.many", { n: rows.length, what });
    replace(
      this.banner,
      h("span", { class: "alert-icon", "aria-hidden": "true" }, "!"),
      h("strong", { class: "alert-text" }, message),
      h("button", { class: "btn btn-alert", type: "button", onclick: () => this.onOpen(latest.id) }, t("alert.open")),
      h("button", { class: "btn btn-ghost", type: "button", onclick: () => this.dismiss() }, t("alert.dismiss")),
    );
    this.banner.hidden = false;
  }

  beep() {
    if (!this.sound || !this.audio || this.audio.state !== "running") return;
    const ctx = this.audio;
    const start = ctx.currentTime;
    // Two falling tones, 880 then 660 Hz: distinct from a phone ring, not shrill.
    for (const [offset, freq] of [[0, 880], [0.28, 660]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.24);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + offset);
      osc.stop(start + offset + 0.25);
    }
  }
}
