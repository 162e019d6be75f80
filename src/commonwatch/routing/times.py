"""Travel times over the imported network: the TravelTimes the dispatch core ranks units with."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from commonwatch.domain.travel import (
    SPEED_MPS,
    Estimate,
    Method,
    Point,
    Profile,
    StraightLine,
    TravelTimes,
)
from commonwatch.routing import network as store
from commonwatch.routing.arcs import INF_MS, Floats, Ints
from commonwatch.routing.geo import LocalProjection, haversine_m
from commonwatch.routing.network import ProfileGraph, RoadNetwork
from commonwatch.routing.sweep import Field, Sweeper


@dataclass(frozen=True, slots=True)
class Snap:
    """Where a point joins the network: a node, and the straight-line metres to it."""

    node: int  # network node index
    lat: float
    lon: float
    meters: float


class _Profiled:
    """One profile's graph ready for queries: snapping index and sweeper."""

    def __init__(self, net: RoadNetwork, graph: ProfileGraph, proj: LocalProjection) -> None:
        self.graph = graph
        self.sweeper = Sweeper(graph.hierarchy)
        self.position = np.empty(len(graph.nodes), dtype=np.int64)
        self.position[graph.hierarchy.nodes] = np.arange(len(graph.nodes))
        nodes = graph.nodes[graph.snappable]
        self.lat, self.lon = net.lat[nodes], net.lon[nodes]
        self.tree = cKDTree(proj.xy(self.lat, self.lon))
        self.proj = proj

    def snap(self, lat: Floats, lon: Floats) -> tuple[Ints, Floats, Ints]:
        """Hierarchy positions, snap metres, and snappable indices for points."""
        _, i = self.tree.query(self.proj.xy(lat, lon))
        i = np.asarray(i, dtype=np.int64)
        meters = haversine_m(lat, lon, self.lat[i], self.lon[i])
        return self.position[self.graph.snappable[i]], meters, i


def _points(points: list[Point]) -> tuple[Floats, Floats]:
    return (
        np.array([p.lat for p in points], dtype=np.float64),
        np.array([p.lon for p in points], dtype=np.float64),
    )


def _estimates(field: Field, snap_m: Floats, speed: float) -> list[Estimate]:
    reachable = field.ms < INF_MS
    seconds = np.where(reachable, field.ms / 1000 + snap_m / speed, math.inf)
    meters = np.where(reachable, field.meters + snap_m, math.inf)
    return [
        Estimate(t, m, Method.NETWORK, ok)
        for t, m, ok in zip(seconds.tolist(), meters.tolist(), reachable.tolist(), strict=True)
    ]


class NetworkTravelTimes:
    """Shortest travel times over a road network; one-way streets respected (directed graph).

    A point joins the network at the nearest node of its profile (straight line, at the
    fallback's speed for that profile); a profile the network lacks answers by straight line.
    """

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        lat, lon = network.lat, network.lon
        proj = LocalProjection(
            float(np.mean(lat)) if len(lat) else 0.0, float(np.mean(lon)) if len(lon) else 0.0
        )
        self._profiles = {
            p: _Profiled(network, g, proj) for p, g in network.profiles.items() if len(g.snappable)
        }
        self._fallback = StraightLine()

    @property
    def profiles(self) -> list[Profile]:
        return list(self._profiles)

    def snap(self, point: Point, profile: Profile) -> Snap | None:
        prof = self._profiles.get(profile)
        if prof is None:
            return None
        _, meters, i = prof.snap(*_points([point]))
        node = int(prof.graph.nodes[prof.graph.snappable[i[0]]])
        return Snap(
            node, float(self.network.lat[node]), float(self.network.lon[node]), float(meters[0])
        )

    def many_to_one(self, origins: list[Point], target: Point, profile: Profile) -> list[Estimate]:
        prof = self._profiles.get(profile)
        if prof is None or not origins:
            return self._fallback.many_to_one(origins, target, profile)
        at, snap_m, _ = prof.snap(*_points([target, *origins]))
        field = prof.sweeper.to_target(int(at[0]), at[1:])
        return _estimates(field, snap_m[1:] + snap_m[0], SPEED_MPS[profile])

    def one_to_many(self, origin: Point, targets: list[Point], profile: Profile) -> list[Estimate]:
        prof = self._profiles.get(profile)
        if prof is None or not targets:
            return [self._fallback.many_to_one([origin], t, profile)[0] for t in targets]
        at, snap_m, _ = prof.snap(*_points([origin, *targets]))
        field = prof.sweeper.from_source(int(at[0]), at[1:])
        return _estimates(field, snap_m[1:] + snap_m[0], SPEED_MPS[profile])

    def matrix(self, sources: list[Point], targets: list[Point], profile: Profile) -> Floats:
        """Seconds from every source to every target, shape (sources, targets); inf if no route."""
        rows = [[e.seconds for e in self.one_to_many(s, targets, profile)] for s in sources]
        return np.array(rows, dtype=np.float64).reshape(len(sources), len(targets))


_cache: dict[tuple[Path, float], NetworkTravelTimes] = {}
_lock = threading.Lock()


def load_network_times(path: Path) -> NetworkTravelTimes:
    """Loaded once per file version and shared: loading and indexing take a while."""
    key = (path.resolve(), path.stat().st_mtime)
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = NetworkTravelTimes(store.load(path))
        return _cache[key]


def load_travel_times(data_dir: Path | None = None, name: str | None = None) -> TravelTimes:
    """The imported network (the named one, else the newest), or the straight-line fallback."""
    from commonwatch.runtime.config import default_data_dir

    folder = store.network_dir(data_dir or default_data_dir())
    if name is not None:
        path = folder / f"{name}.npz"
        return load_network_times(path) if path.exists() else StraightLine()
    found = store.installed(data_dir or default_data_dir())
    return load_network_times(found[0]) if found else StraightLine()
