// Times in the jurisdiction's own time zone: an operator in one city reads local clock times,
// whatever zone the browser or the server runs in.

import { language } from "./i18n.js";

let zones = []; // [{path, timezone}], deepest first
let fallbackZone = "UTC";
const formatters = new Map();

export function configureZones(jurisdictions, defaultZone) {
  zones = jurisdictions
    .map((j) => ({ path: j.path, timezone: j.timezone }))
    .sort((a, b) => b.path.length - a.path.length);
  fallbackZone = defaultZone || "UTC";
}

export function zoneFor(jpath) {
  if (jpath) {
    for (const z of zones) {
      if (jpath === z.path || jpath.startsWith(z.path + ".")) return z.timezone;
    }
  }
  return fallbackZone;
}

export function defaultZone() {
  return fallbackZone;
}

function formatter(zone, style) {
  const key = `${language()}|${zone}|${style}`;
  let f = formatters.get(key);
  if (!f) {
    // Creating an Intl formatter costs far more than using one: keep them.
    const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    if (style === "date") Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
    if (style === "short") delete options.second;
    if (style === "zone") options.timeZoneName = "short";
    f = new Intl.DateTimeFormat(language(), options);
    formatters.set(key, f);
  }
  return f;
}

export function toMs(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

// Dates as YYYY-MM-DD in every language: unambiguous on a shared screen.
export function formatTime(value, jpath, style = "time") {
  const ms = toMs(value);
  if (ms === null) return "";
  const f = formatter(zoneFor(jpath), style);
  if (style !== "date") return f.format(ms);
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function zoneLabel(zone) {
  const parts = formatter(zone, "zone").formatToParts(Date.now());
  const name = parts.find((p) => p.type === "timeZoneName");
  return name ? name.value : zone;
}

export function formatAge(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d`;
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m ? `${m}:${String(s % 60).padStart(2, "0")}` : `${s}s`;
}
