// Thousands of points on a Leaflet map, kept smooth: supercluster groups them per zoom level in
// a worker, and only what is in view is drawn (points on one canvas per layer, clusters as small
// labelled icons). Markers are reused, never rebuilt, when the data changes.

import * as L from "leaflet";

let worker = null;
const layers = new Map(); // kind -> ClusterLayer, for routing the worker's answers

function clusterWorker() {
  if (!worker) {
    // Beside this bundle, with the same version query (see build.mjs).
    worker = new Worker(new URL(import.meta.url.replace(/console\.js/, "cluster-worker.js")));
    worker.onmessage = ({ data }) => layers.get(data.layer)?._answer(data);
  }
  return worker;
}

export class ClusterLayer {
  constructor(map, { kind, pane, zIndex, pointStyle, tooltip, onPoint, radius = 50, maxZoom = 17, minZoom = 10, worstOf = () => 9, sizes = [30, 22] }) {
    this.map = map;
    this.kind = kind;
    // Each layer draws in a pane of its own, so incidents always lie above devices.
    map.createPane(pane).style.zIndex = String(zIndex);
    this.pane = pane;
    this.renderer = L.canvas({ pane, padding: 0.3 });
    this.sizes = sizes;
    this.pointStyle = pointStyle;
    this.tooltip = tooltip;
    this.onPoint = onPoint;
    // Fewer zoom levels, faster index: below a district's zoom the map shows the same clusters.
    this.options = { radius, maxZoom, minZoom };
    this.worstOf = worstOf;
    // One set of listeners on the group instead of one per marker: markers come and go often.
    this.group = L.featureGroup();
    this.group.on("click", (e) => this._clicked(e.layer));
    this.group.on("mouseover", (e) => this._hover(e.layer));
    this.markers = new Map();
    this.spare = [];
    this.byId = new Map();
    this.seq = 0;
    this.loaded = false;
    this.pending = new Map(); // seq -> resolve, for expansion questions
    layers.set(kind, this);
    map.on("moveend", () => this.refresh());
  }

  get count() {
    return this.byId.size;
  }

  setPoints(points) {
    const compact = [];
    this.byId = new Map();
    for (const p of points) {
      if (p.lat === null || p.lat === undefined || p.lon === null || p.lon === undefined) continue;
      this.byId.set(p.id, p);
      compact.push([p.id, p.lon, p.lat, this.worstOf(p)]);
    }
    this.seq += 1;
    clusterWorker().postMessage({ type: "load", layer: this.kind, seq: this.seq, options: this.options, points: compact });
  }

  refresh() {
    if (!this.loaded || !this.map.hasLayer(this.group)) return;
    const b = this.map.getBounds().pad(0.25);
    this.seq += 1;
    clusterWorker().postMessage({
      type: "clusters", layer: this.kind, seq: this.seq, zoom: Math.round(this.map.getZoom()),
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
    });
  }

  _answer(data) {
    if (data.type === "expansion") {
      this.pending.get(data.seq)?.(data);
      this.pending.delete(data.seq);
    } else if (data.seq === this.seq) {
      // Only the latest question counts: an older answer describes data already replaced.
      if (data.type === "loaded") {
        this.loaded = true;
        this.refresh();
      } else {
        this._draw(data.items);
      }
    }
  }

  _draw(items) {
    const keyed = items.map((row) => [this._key(row), row]);
    const seen = new Set(keyed.map(([key]) => key));
    this.spare = [];
    for (const [key, marker] of this.markers) {
      if (!seen.has(key)) {
        this.markers.delete(key);
        this.spare.push(marker);
      }
    }
    for (const [key, row] of keyed) this._place(key, row);
    for (const marker of this.spare) this.group.removeLayer(marker);
    this.spare = [];
  }

  // Clusters are known by where they stand (~10 m), not by their id, which a rebuilt index
  // hands out afresh: a cluster that did not change keeps its marker.
  _key([lon, lat, id]) {
    return id === null ? `c${Math.round(lat * 1e4)}:${Math.round(lon * 1e4)}` : `p${id}`;
  }

  _place(key, [lon, lat, id, cluster, count, label, worst]) {
    const isCluster = id === null;
    const props = isCluster ? { cluster_id: cluster, point_count: count, label, worst } : this.byId.get(id);
    if (!props) return;
    let marker = this.markers.get(key);
    if (!marker) {
      const index = this.spare.findIndex((m) => m.isCluster === isCluster);
      marker = index >= 0 ? this.spare.splice(index, 1)[0] : null;
    }
    if (!marker) {
      marker = isCluster ? this._cluster(lat, lon, props) : this._point(lat, lon, props);
      this.markers.set(key, marker);
      this.group.addLayer(marker);
      return;
    }
    this.markers.set(key, marker);
    const at = marker.getLatLng();
    if (at.lat !== lat || at.lng !== lon) marker.setLatLng([lat, lon]);
    if (isCluster) this._updateCluster(marker, props);
    else this._updatePoint(marker, props);
  }

  _point(lat, lon, props) {
    const marker = L.circleMarker([lat, lon], { renderer: this.renderer, pane: this.pane, ...this.pointStyle(props) });
    marker.isCluster = false;
    marker.props = props;
    return marker;
  }

  _updatePoint(marker, props) {
    if (marker.props === props) return;
    marker.props = props;
    marker.setStyle(this.pointStyle(props));
  }

  _size(props) {
    const [base, growth] = this.sizes;
    return Math.round(base + Math.min(growth, Math.log2(props.point_count) * 3));
  }

  _clusterIcon(props) {
    const size = this._size(props);
    return L.divIcon({
      html: `<span>${props.label}</span>`,
      className: `cw-cluster cw-cluster-${this.kind} worst-${props.worst}`,
      iconSize: [size, size],
    });
  }

  _cluster(lat, lon, props) {
    const marker = L.marker([lat, lon], { icon: this._clusterIcon(props), keyboard: false, pane: this.pane });
    marker.isCluster = true;
    marker.props = props;
    marker.size = this._size(props);
    return marker;
  }

  _updateCluster(marker, props) {
    const old = marker.props;
    marker.props = props;
    if (old.point_count === props.point_count && old.worst === props.worst) return;
    const size = this._size(props);
    const el = marker.getElement();
    if (el && size === marker.size) {
      // Same size: change the label and colour in place rather than build a new icon.
      el.firstChild.textContent = String(props.label);
      el.classList.remove(`worst-${old.worst}`);
      el.classList.add(`worst-${props.worst}`);
      return;
    }
    marker.size = size;
    marker.setIcon(this._clusterIcon(props));
  }

  _clicked(marker) {
    if (marker.isCluster) this._expand(marker);
    else if (this.onPoint) this.onPoint(marker.props);
  }

  _hover(marker) {
    if (marker.isCluster || !this.tooltip) return;
    if (!marker.getTooltip()) marker.bindTooltip(() => this.tooltip(marker.props), { direction: "top" });
    marker.openTooltip();
  }

  _ask(cluster) {
    const seq = -(this.pending.size + 1 + Math.floor(Math.random() * 1e6)); // never a data seq
    return new Promise((resolve) => {
      this.pending.set(seq, resolve);
      clusterWorker().postMessage({ type: "expansion", layer: this.kind, seq, cluster });
    });
  }

  async _expand(marker) {
    const { zoom, leaves } = await this._ask(marker.props.cluster_id);
    if (zoom <= this.options.maxZoom && zoom <= this.map.getMaxZoom()) {
      this.map.setView(marker.getLatLng(), zoom);
      return;
    }
    // Everything here stands at one spot (one building): list it instead of zooming.
    const list = document.createElement("ul");
    list.className = "cluster-list";
    for (const id of leaves) {
      const props = this.byId.get(id);
      if (!props) continue;
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = this.tooltip ? this.tooltip(props) : id;
      button.addEventListener("click", () => this.onPoint && this.onPoint(props));
      item.append(button);
      list.append(item);
    }
    L.popup({ maxWidth: 320 }).setLatLng(marker.getLatLng()).setContent(list).openOn(this.map);
  }
}
