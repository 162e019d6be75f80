// Builds the map's cluster indexes off the main thread: rebuilding one for 5,000 incidents takes
// tens of milliseconds, which the page must not spend while changes stream in.
import Supercluster from "supercluster";

const indexes = new Map(); // layer -> Supercluster

function load({ layer, options, points }) {
  const features = points.map(([id, lon, lat, worst]) => ({
    type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: { id, worst },
  }));
  const index = new Supercluster({
    ...options,
    map: (props) => ({ worst: props.worst }),
    reduce: (acc, props) => {
      acc.worst = Math.min(acc.worst, props.worst);
    },
  });
  indexes.set(layer, index.load(features));
}

// Compact rows: [lon, lat, point id | null, cluster id, count, label, worst].
function clusters({ layer, bbox, zoom }) {
  const index = indexes.get(layer);
  if (!index) return [];
  return index.getClusters(bbox, zoom).map((f) => {
    const [lon, lat] = f.geometry.coordinates;
    const p = f.properties;
    return p.cluster ? [lon, lat, null, p.cluster_id, p.point_count, p.point_count_abbreviated, p.worst] : [lon, lat, p.id, 0, 1, "1", p.worst];
  });
}

function expansion({ layer, cluster }) {
  const index = indexes.get(layer);
  return { zoom: index.getClusterExpansionZoom(cluster), leaves: index.getLeaves(cluster, 12).map((f) => f.properties.id) };
}

self.onmessage = ({ data }) => {
  if (data.type === "load") {
    load(data);
    self.postMessage({ type: "loaded", layer: data.layer, seq: data.seq });
  } else if (data.type === "clusters") {
    self.postMessage({ type: "clusters", layer: data.layer, seq: data.seq, items: clusters(data) });
  } else if (data.type === "expansion") {
    self.postMessage({ type: "expansion", layer: data.layer, seq: data.seq, ...expansion(data) });
  }
};
