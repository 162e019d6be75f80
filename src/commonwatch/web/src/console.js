// The operations console: boot, sign-in, the live queue, map and incident panel, other views,
// and keyboard shortcuts. Everything updates from the change stream; nothing polls.

import "leaflet/dist/leaflet.css";
import "./styles/console.css";
import { api, ApiError, itemsOf } from "./api.js";
import { PriorityAlerts } from "./alerts.js";
import { Dashboard } from "./dashboard.js";
import { DeviceHealthView } from "./devices.js";
import { h, isTyping, replace } from "./dom.js";
import { buildFilters } from "./filters.js";
import { t } from "./i18n.js";
import { IncidentPanel } from "./incident.js";
import { buildLayout, fillHelp, toaster, VIEWS } from "./layout.js";
import { LiveStream } from "./live.js";
import { OpsMap } from "./map.js";
import { QueueView } from "./queue.js";
import { showSignIn, signOut } from "./signin.js";
import { IncidentStore } from "./store.js";
import { configureZones, defaultZone, formatTime, zoneLabel } from "./time.js";
import { UnitBoard, UnitStore } from "./units.js";

// Measurements the browser tests and `commonwatch bench console` read.
const perf = (window.__cw = { firstRender: null, opened: {}, batches: 0, changes: 0, marks: {} });
const mark = (name) => {
  perf.marks[name] = Math.round(performance.now());
};
const root = document.getElementById("root");
const ENRICH_MS = 300;
const TICK_MS = 15_000;

const SHORTCUTS = [
  ["j", "shortcut.next"], ["k", "shortcut.prev"], ["a", "shortcut.acknowledge"], ["d", "shortcut.dispatch"],
  ["n", "shortcut.note"], ["e", "shortcut.escalate"], ["r", "shortcut.resolve"], ["/", "shortcut.filter"],
  ["?", "shortcut.help"], ["Esc", "shortcut.close"],
];

async function boot() {
  try {
    start(await api("/api/v1/session"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn(root, { title: t("signin.title"), onSignedIn: start });
    else replace(root, h("p", { class: "fatal" }, error.detail || error.message));
  }
}

async function start(who) {
  mark("session");
  replace(root);
  const [config, communities] = await Promise.all([api("/api/v1/console/config"), api("/api/v1/communities")]);
  mark("config");
  configureZones(config.jurisdictions, config.timezone);
  const app = new Console(who, config, itemsOf(communities));
  await app.run();
}

class Console {
  constructor(who, config, communities) {
    this.config = config;
    this.typeLabels = new Map(config.incident_types.map((x) => [x.id, x.label]));
    this.places = new Map(communities.map((c) => [c.id, c]));
    this.communities = communities;
    this.store = new IncidentStore(this.places);
    this.units = new UnitStore();
    this.devices = [];
    this.deviceIndex = new Map();
    this.view = "queue";
    this.ready = false;
    this.buffered = [];
    this.alerts = null;
    perf.units = () => this.units.units.size;
    perf.unitAt = (id) => {
      const u = this.units.units.get(id);
      return u ? [u.lat, u.lon] : null;
    };
    this.ui = buildLayout(root, {
      who, onSignOut: signOut, soundOn: localStorage.getItem("cw.sound") !== "off",
      onSound: (button) => this._toggleSound(button),
    });
    this.toast = toaster(this.ui.toasts);
  }

  async run() {
    const ui = this.ui;
    const typeLabels = this.typeLabels;
    this.alerts = new PriorityAlerts(ui.banner, { onOpen: (id) => this.open(id), typeLabels });
    this.alerts.unlockOnGesture();
    this.queue = new QueueView(ui.queue, this.store, { onSelect: (id) => this.open(id), typeLabels });
    this.filters = buildFilters(ui.filters, { config: this.config, typeLabels, store: this.store, onChange: () => this.renderQueue() });
    this.map = new OpsMap(ui.map, { config: this.config, typeLabels, onIncident: (id) => this.open(id) });
    this.panel = new IncidentPanel(ui.incident, {
      config: this.config, typeLabels, store: this.store, toast: this.toast, onClose: () => this.closeIncident(),
    });
    this.board = new UnitBoard(ui.views.units.querySelector(".page-body"), this.units, { onIncident: (id) => this.open(id) });
    this.health = new DeviceHealthView(ui.views.devices.querySelector(".page-body"));
    this.dashboard = new Dashboard(ui.views.dashboard.querySelector(".page-body"), this.store);
    fillHelp(ui.help, SHORTCUTS);
    this._keys();
    this._clock();

    const live = new LiveStream({ onBatch: (batch) => this.onBatch(batch), onState: (s) => this._connection(s) });
    // Subscribe first, then read the snapshot: nothing can fall between the two.
    mark("layout");
    await Promise.race([live.connect(), new Promise((r) => setTimeout(r, 4000))]);
    mark("subscribed");
    const [queue, devices] = await Promise.all([api("/api/v1/console/queue"), api("/api/v1/console/devices")]);
    mark("snapshot");
    this.store.load(queue.items);
    this.map.setCommunities(this.communities);
    this.ready = true;
    this.renderQueue();
    this.map.setIncidents(this.store.view());
    this._setDevices(devices.items);
    this.onBatch(this.buffered.splice(0));
    perf.firstRender = performance.now();
    window.addEventListener("hashchange", () => this.route());
    window.addEventListener("cw:unauthorized", () => location.reload(), { once: true });
    this.route();
    setInterval(() => this.queue.tick(), TICK_MS);
    this.units.load().then(() => this._unitsChanged());
    this.map.loadRoads(this.config.roads_path);
  }

  _setDevices(items) {
    this.devices = items;
    this.deviceIndex = new Map(items.map((d, i) => [d.id, i]));
    this.map.setDevices(items);
  }

  renderQueue() {
    this.queue.render();
    const all = this.store.rows.size;
    const shown = this.store.view().length;
    this.ui.counter.textContent = all === shown ? t("queue.count", { n: all }) : t("queue.count_filtered", { n: all, shown });
    this.map.update("incidents", () => this.store.view());
    if (this.view === "dashboard") this.dashboard.renderPriorities();
  }

  onBatch(batch) {
    if (!this.ready) {
      this.buffered.push(...batch);
      return;
    }
    perf.batches += 1;
    perf.changes += batch.length;
    const touched = { queue: false, units: false, devices: false };
    const opened = [];
    for (const { kind, data } of batch) this._apply(kind, data, touched, opened);
    if (touched.queue) this.renderQueue();
    const now = performance.timeOrigin + performance.now();
    for (const { row, eventId } of opened) {
      // Visible means its row is in the DOM now (the virtual list renders only what is in view).
      if (eventId && document.getElementById(`q-${row.id}`)) perf.opened[eventId] = now;
      if (row.priority === 1) this.alerts.raise(row);
    }
    if (touched.units) this._unitsChanged();
    if (touched.devices) this.map.update("devices", () => this.devices);
    if (this.store.stale.size) this._scheduleEnrich();
  }

  _apply(kind, data, touched, opened) {
    const effect = this.store.apply(kind, data);
    if (effect) {
      touched.queue = true;
      if (effect.kind === "opened") opened.push({ row: effect.row, eventId: data.event_id });
      if (effect.kind === "removed" || kind === "IncidentAcknowledged") this.alerts.settle(effect.id);
    }
    if (this.units.apply(kind, data)) touched.units = true;
    if (kind === "DeviceAlarmRaised" || kind === "DeviceAlarmCleared") {
      const index = this.deviceIndex.get(data.device_id);
      if (index !== undefined) {
        // A new object, so that the map sees the change and restyles the point.
        this.devices[index] = { ...this.devices[index], alarm: kind === "DeviceAlarmRaised" };
        touched.devices = true;
      }
    }
    if (data.incident_id && data.incident_id === this.panel.id) this.panel.onChange(kind, data);
  }

  _scheduleEnrich() {
    if (this.enrichTimer) return;
    this.enrichTimer = setTimeout(() => this._enrich(), ENRICH_MS);
  }

  // New or dispatched incidents: read their full rows (building, position, status) once.
  async _enrich() {
    this.enrichTimer = null;
    const ids = this.store.takeStale();
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const found = await api(`/api/v1/console/queue?ids=${encodeURIComponent(chunk.join(","))}`).catch(() => null);
      if (!found) continue;
      const open = new Set(found.items.map((r) => r.id));
      for (const row of found.items) this.store.upsert(row);
      for (const id of chunk) if (!open.has(id)) this.store.remove(id);
    }
    if (ids.length) {
      this.renderQueue();
      if (this.panel.id && ids.includes(this.panel.id)) this.panel.render();
    }
  }

  _unitsChanged() {
    this.map.update("units", () => this.units.list());
    if (this.view === "units") this.board.render();
  }

  route() {
    const match = location.hash.match(/^#\/(\w+)(?:\/(.+))?$/);
    const [name, id] = match ? [match[1], match[2] && decodeURIComponent(match[2])] : ["queue", null];
    const view = name === "incident" ? "queue" : VIEWS.includes(name) ? name : "queue";
    this._show(view);
    if (name === "incident" && id) this._openIncident(id);
    else if (view === "queue" && this.panel.id) this.closeIncident(false);
  }

  _show(view) {
    this.view = view;
    for (const [name, el] of Object.entries(this.ui.views)) el.hidden = name !== view;
    for (const a of this.ui.nav.querySelectorAll("a")) {
      if (a.dataset.view === view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (view === "queue") requestAnimationFrame(() => this.map.resize());
    if (view === "units") this.board.render();
    if (view === "devices") this.health.show();
    if (view === "dashboard") this.dashboard.show();
  }

  open(id) {
    const target = `#/incident/${encodeURIComponent(id)}`;
    if (location.hash === target) this._openIncident(id);
    else location.hash = target;
  }

  _openIncident(id) {
    this.queue.select(id);
    this.map.select(this.store.get(id));
    this.alerts.settle(id);
    if (this.panel.id !== id) this.panel.open(id);
    this.ui.views.queue.classList.add("with-incident");
    requestAnimationFrame(() => this.map.resize());
  }

  closeIncident(updateHash = true) {
    this.panel.close();
    this.queue.select(null, { scroll: false });
    this.map.select(null);
    this.ui.views.queue.classList.remove("with-incident");
    requestAnimationFrame(() => this.map.resize());
    if (updateHash) history.replaceState(null, "", "#/queue");
  }

  _move(delta) {
    const id = this.queue.neighbour(delta);
    if (!id) return;
    history.replaceState(null, "", `#/incident/${encodeURIComponent(id)}`);
    this._show("queue");
    this._openIncident(id);
  }

  _keys() {
    const actions = {
      j: () => this._move(1), k: () => this._move(-1),
      a: () => this.panel.acknowledge(), d: () => this.panel.focusDispatch(), n: () => this.panel.focusNote(),
      e: () => this.panel.showEscalate(), r: () => this.panel.focusResolve(),
      "/": () => this.filters.focus(), "?": () => this.ui.help.showModal(),
    };
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape") {
        if (isTyping(event)) event.target.blur();
        else if (this.panel.id) this.closeIncident();
        return;
      }
      if (isTyping(event) || this.ui.help.open) return;
      const action = actions[event.key];
      if (!action) return;
      const needsIncident = "adner".includes(event.key);
      if (needsIncident && !this.panel.id) return;
      event.preventDefault();
      action();
    });
  }

  _toggleSound(button) {
    const on = button.getAttribute("aria-pressed") !== "true";
    this.alerts.setSound(on);
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? t("sound.on") : t("sound.off");
  }

  _connection(state) {
    this.ui.conn.textContent = t(`conn.${state}`);
    this.ui.conn.dataset.state = state;
  }

  _clock() {
    const zone = defaultZone();
    const tick = () => {
      this.ui.clock.textContent = `${formatTime(Date.now(), "", "short")} ${zoneLabel(zone)}`;
    };
    tick();
    setInterval(tick, 10_000);
  }
}

boot();
