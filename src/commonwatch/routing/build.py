"""From way pieces to a routable network: split at intersections, measure, one graph per profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from commonwatch.domain.travel import Profile
from commonwatch.routing import hierarchy
from commonwatch.routing.arcs import Arcs, Floats, Ints, fastest
from commonwatch.routing.geo import haversine_m
from commonwatch.routing.network import ProfileGraph, RoadNetwork, Roads
from commonwatch.routing.osmread import PROFILES, Ways

SMALL_PART = (
    50  # strongly connected parts smaller than this (parking aisles, cut-off stubs) get no snaps
)
Progress = Callable[[Profile, float], None]


@dataclass(frozen=True, slots=True)
class Segments:
    """Way pieces cut at graph nodes: u -> v along piece `piece`, over node slots first..last."""

    u: Ints
    v: Ints
    meters: Floats
    piece: Ints
    first: Ints
    last: Ints


def _graph_slots(ways: Ways) -> tuple[Ints, Ints]:
    """Slots whose node ends a piece or is shared (an intersection), and every slot's node index."""
    unique, index, counts = np.unique(ways.node_ids, return_inverse=True, return_counts=True)
    is_graph = counts[index] >= 2
    is_graph[ways.offsets[:-1]] = True
    is_graph[ways.offsets[1:] - 1] = True
    slots = np.flatnonzero(is_graph)
    graph_unique = np.unique(index[slots])
    node_of = np.full(len(unique), -1, dtype=np.int64)
    node_of[graph_unique] = np.arange(len(graph_unique))
    return slots, node_of[index]


def segments(ways: Ways) -> tuple[Segments, Ints]:
    """The split segments, and per node index the slot that gives its coordinates."""
    slots, node = _graph_slots(ways)
    step = haversine_m(ways.lat[:-1], ways.lon[:-1], ways.lat[1:], ways.lon[1:])
    step[ways.offsets[1:-1] - 1] = 0.0  # no distance across piece boundaries
    along = np.concatenate([[0.0], np.cumsum(step)])
    piece = np.searchsorted(ways.offsets, slots, side="right") - 1
    same = piece[1:] == piece[:-1]
    a, b = slots[:-1][same], slots[1:][same]
    seg = Segments(node[a], node[b], along[b] - along[a], piece[:-1][same], a, b)
    coords = np.zeros(int(node.max(initial=-1)) + 1, dtype=np.int64)
    coords[node[slots]] = slots
    return seg, coords


def profile_arcs(ways: Ways, seg: Segments, profile: Profile) -> Arcs:
    fwd, bwd = ways.forward[profile][seg.piece], ways.backward[profile][seg.piece]
    mps = ways.kmh[profile][seg.piece] / 3.6
    ms = np.maximum(1, np.round(seg.meters / np.maximum(mps, 0.1) * 1000)).astype(np.int64)
    return Arcs.of(
        np.concatenate([seg.u[fwd], seg.v[bwd]]),
        np.concatenate([seg.v[fwd], seg.u[bwd]]),
        np.concatenate([ms[fwd], ms[bwd]]),
        np.concatenate([seg.meters[fwd], seg.meters[bwd]]),
    )


def snappable(n: int, arcs: Arcs) -> Ints:
    """Nodes in strongly connected parts big enough to route from and to."""
    graph = csr_matrix((np.ones(len(arcs)), (arcs.src, arcs.dst)), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="strong")
    size = np.bincount(label)
    return np.flatnonzero(size[label] >= min(SMALL_PART, int(size.max(initial=0))))


def profile_graph(
    profile: Profile, arcs: Arcs, progress: Callable[[float], None] | None = None
) -> ProfileGraph:
    nodes, local = np.unique(np.concatenate([arcs.src, arcs.dst]), return_inverse=True)
    m = len(arcs)
    arcs = fastest(Arcs(local[:m], local[m:], arcs.ms, arcs.meters), len(nodes))
    h = hierarchy.build(len(nodes), arcs, progress)
    return ProfileGraph(profile, nodes.astype(np.int64), arcs, snappable(len(nodes), arcs), h)


def roads(ways: Ways, seg: Segments) -> Roads:
    drivable = ways.forward[Profile.DRIVING][seg.piece] | ways.backward[Profile.DRIVING][seg.piece]
    first, last = seg.first[drivable], seg.last[drivable]
    counts = last - first + 1
    ptr = np.concatenate([[0], np.cumsum(counts)])
    slot = np.repeat(first - ptr[:-1], counts) + np.arange(int(ptr[-1]))
    road_class = ways.road_class[seg.piece[drivable]]
    return Roads(seg.u[drivable], seg.v[drivable], road_class, ptr, ways.lat[slot], ways.lon[slot])


def network(name: str, ways: Ways, progress: Progress | None = None) -> RoadNetwork:
    seg, coords = segments(ways)
    graphs = {}
    for profile in PROFILES:
        arcs = profile_arcs(ways, seg, profile)
        if len(arcs) == 0:
            continue
        tick = (lambda f, p=profile: progress(p, f)) if progress else None
        graphs[profile] = profile_graph(profile, arcs, tick)
    return RoadNetwork(name, ways.lat[coords], ways.lon[coords], graphs, roads(ways, seg))
