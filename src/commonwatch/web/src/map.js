// The operations map. It needs no tile server: communities, roads (when a network is imported),
// devices, incidents and units are vector layers drawn from the platform's own data. A tile URL
// can be set for networks that have one (COMMONWATCH_TILE_URL).

import * as L from "leaflet";
import { optional } from "./api.js";
import { ClusterLayer } from "./clusters.js";
import { statusLabel, t, typeLabel } from "./i18n.js";

export const PRIORITY_COLOURS = ["#ff5c5c", "#ff9d3b", "#f2c94c", "#5aa7ff", "#8b98a5"];
export const UNIT_COLOURS = {
  available: "#3fb950", dispatched: "#58a6ff", en_route: "#2f81f7", on_scene: "#b083f0",
  busy: "#d29922", returning: "#39c5cf", out_of_service: "#6e7681",
};
const REFRESH_MS = 1000; // live data redraws the map at most this often
// A layer's index is rebuilt whole; each one in a task of its own keeps every task short.
const LAYER_GAP_MS = 16;
const DEFAULT_VIEW = { center: [0, 0], zoom: 2 };

export class OpsMap {
  constructor(el, { config, typeLabels, onIncident, onUnit }) {
    this.typeLabels = typeLabels;
    this.onIncident = onIncident;
    this.map = L.map(el, { zoomControl: true, preferCanvas: true, attributionControl: Boolean(config.tile_url) });
    this.map.setView(DEFAULT_VIEW.center, DEFAULT_VIEW.zoom);
    this.renderer = L.canvas({ padding: 0.3 });
    this.map.createPane("roads").style.zIndex = "350";
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { maxZoom: 19, attribution: t("map.tiles") }).addTo(this.map);
    }
    this.roads = L.layerGroup();
    this.communities = L.layerGroup().addTo(this.map);
    this.devices = this._layer("devices", {
      pane: "cw-devices", zIndex: 420, radius: 90, maxZoom: 18, pointStyle: deviceStyle, tooltip: deviceTip,
      worstOf: (p) => (p.alarm ? 0 : 9), sizes: [20, 8],
    });
    this.incidents = this._layer("incidents", {
      pane: "cw-incidents", zIndex: 640, radius: 44, maxZoom: 18, pointStyle: incidentStyle, onPoint: (p) => onIncident(p.id),
      tooltip: (p) => `P${p.priority} ${typeLabel(p.type, typeLabels.get(p.type))} · ${p.community_name || p.community_id}`,
      worstOf: (p) => p.priority,
    });
    this.units = this._layer("units", {
      pane: "cw-units", zIndex: 630, radius: 36, maxZoom: 18, pointStyle: unitStyle, onPoint: (p) => onUnit && onUnit(p.id),
      tooltip: (p) => `${p.name || p.id} · ${statusLabel(p.status || "unknown")}`,
    });
    this.map.createPane("cw-selection").style.zIndex = "645";
    this.selection = L.circleMarker([0, 0], {
      renderer: L.canvas({ pane: "cw-selection" }), pane: "cw-selection", radius: 15, color: "#ffffff", weight: 3, fill: false, interactive: false,
    });
    this.dirty = new Map();
    this.timer = null;
    this._controls();
    this.map.on("zoomend", () => this._labels());
  }

  _layer(kind, options) {
    const layer = new ClusterLayer(this.map, { kind, ...options });
    layer.group.addTo(this.map);
    return layer;
  }

  _controls() {
    const overlays = {
      [t("map.layer.communities")]: this.communities,
      [t("map.layer.roads")]: this.roads,
      [t("map.layer.devices")]: this.devices.group,
      [t("map.layer.incidents")]: this.incidents.group,
      [t("map.layer.units")]: this.units.group,
    };
    L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(this.map);
    this.map.on("overlayadd", () => this._refreshAll());
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => legendElement();
    legend.addTo(this.map);
  }

  setCommunities(items) {
    this.communities.clearLayers();
    const bounds = L.latLngBounds([]);
    for (const c of items) {
      const layer = c.polygon
        ? L.polygon(c.polygon.map(([lon, lat]) => [lat, lon]), {
            renderer: this.renderer, color: "#4b6075", weight: 1.2, fillColor: "#2a3a4c", fillOpacity: 0.35, interactive: false,
          })
        : c.lat !== null && c.lat !== undefined
          ? L.circle([c.lat, c.lon], { renderer: this.renderer, radius: 150, color: "#4b6075", weight: 1, interactive: false })
          : null;
      if (!layer) continue;
      this.communities.addLayer(layer);
      const box = layer.getBounds();
      bounds.extend(box);
      // The name sits on the community's north edge, clear of the markers inside it.
      const label = L.tooltip({ permanent: true, direction: "top", className: "community-label", offset: [0, 2] })
        .setLatLng([box.getNorth(), box.getCenter().lng]).setContent(c.name);
      this.communities.addLayer(label);
    }
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [20, 20] });
    this._labels();
  }

  _labels() {
    this.map.getContainer().classList.toggle("show-labels", this.map.getZoom() >= 15);
  }

  async loadRoads(path) {
    const data = await optional(path).catch(() => null);
    if (!data || !data.features) return false;
    L.geoJSON(data, {
      pane: "roads", renderer: L.canvas({ pane: "roads" }), interactive: false,
      style: (feature) => roadStyle(feature.properties?.highway),
    }).addTo(this.roads);
    this.roads.addTo(this.map);
    return true;
  }

  setDevices(points) {
    this.devices.setPoints(points);
  }

  // Live data: mark the layer and redraw it on the next tick, at most once per REFRESH_MS.
  update(kind, supplier) {
    this.dirty.set(kind, supplier);
    if (this.timer) return;
    this.timer = setTimeout(() => this._redraw(), REFRESH_MS);
  }

  _redraw() {
    const next = this.dirty.entries().next();
    if (next.done) {
      this.timer = null;
      return;
    }
    const [name, get] = next.value;
    this.dirty.delete(name);
    this[name].setPoints(get());
    this.timer = setTimeout(() => this._redraw(), this.dirty.size ? LAYER_GAP_MS : REFRESH_MS);
  }

  setIncidents(rows) {
    this.incidents.setPoints(rows);
  }

  setUnits(units) {
    this.units.setPoints(units);
  }

  select(row) {
    if (!row || row.lat === null || row.lat === undefined) {
      this.selection.remove();
      return;
    }
    this.selection.setLatLng([row.lat, row.lon]).addTo(this.map);
    if (!this.map.getBounds().contains([row.lat, row.lon])) this.map.panTo([row.lat, row.lon]);
  }

  resize() {
    this.map.invalidateSize();
  }

  _refreshAll() {
    this.devices.refresh();
    this.incidents.refresh();
    this.units.refresh();
  }
}

const MAJOR_ROADS = new Set(["motorway", "trunk", "primary", "secondary"]);

function roadStyle(highway) {
  return MAJOR_ROADS.has(highway)
    ? { color: "#4a596b", weight: 2.6, opacity: 0.95 }
    : { color: "#334050", weight: 1.2, opacity: 0.9 };
}

function deviceStyle(p) {
  return p.alarm
    ? { radius: 5, color: "#ffb4b4", weight: 1, fillColor: "#ff5c5c", fillOpacity: 1 }
    : { radius: 3, color: "#1b2633", weight: 0.5, fillColor: "#6f8396", fillOpacity: 0.9 };
}

function deviceTip(p) {
  return `${p.id} · ${p.kind}${p.alarm ? " · " + t("device.alarm") : ""}`;
}

function incidentStyle(p) {
  return { radius: p.priority === 1 ? 10 : 8, color: "#0b0f14", weight: 2, fillColor: PRIORITY_COLOURS[p.priority - 1], fillOpacity: 1 };
}

function unitStyle(p) {
  return { radius: 6, color: "#e6edf3", weight: 2, fillColor: UNIT_COLOURS[p.status] || "#8b98a5", fillOpacity: 1 };
}

function legendElement() {
  const el = L.DomUtil.create("div", "map-legend");
  const rows = [
    ...PRIORITY_COLOURS.map((colour, i) => [colour, t("priority.n", { n: i + 1 }), "dot"]),
    [UNIT_COLOURS.available, t("map.legend.unit"), "ring"],
    ["#6f8396", t("map.legend.device"), "small"],
  ];
  for (const [colour, label, shape] of rows) {
    const row = L.DomUtil.create("div", "legend-row", el);
    const swatch = L.DomUtil.create("span", `legend-swatch ${shape}`, row);
    swatch.style.background = colour;
    L.DomUtil.create("span", "", row).textContent = label;
  }
  return el;
}
