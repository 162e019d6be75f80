"""A synthetic city grid for benchmarks and tests: blocks, arterials, expressways, one-ways."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from commonwatch.domain.travel import Profile
from commonwatch.routing.arcs import Arcs, Floats, Ints
from commonwatch.routing.build import profile_graph
from commonwatch.routing.network import RoadNetwork, Roads

BLOCK_M = 100.0
LOCAL_KMH, ARTERIAL_KMH, EXPRESS_KMH = 30.0, 50.0, 80.0
ARTERIAL_EVERY, EXPRESS_EVERY = 10, 50
ONE_WAY_SHARE = 0.3  # of local streets
ORIGIN = (-20.47, -54.62)  # anywhere works; near the Campo Grande extract for familiarity


def _line_speeds(count: int) -> Floats:
    kmh = np.full(count, LOCAL_KMH)
    kmh[::ARTERIAL_EVERY] = ARTERIAL_KMH
    kmh[::EXPRESS_EVERY] = EXPRESS_KMH
    return kmh


def _line_directions(kmh: Floats, rng: np.random.Generator) -> Ints:
    """+1 / -1 for one-way local streets, 0 for two-way."""
    one_way = (rng.random(len(kmh)) < ONE_WAY_SHARE) & (kmh == LOCAL_KMH)
    return np.where(one_way, rng.choice([1, -1], len(kmh)), 0)


def grid_arcs(rows: int, cols: int, seed: int = 1) -> Arcs:
    """Arcs of a rows x cols street grid; node id = row * cols + col."""
    rng = np.random.default_rng(seed)
    idx = np.arange(rows * cols).reshape(rows, cols)
    row_kmh, col_kmh = _line_speeds(rows), _line_speeds(cols)
    row_dir, col_dir = _line_directions(row_kmh, rng), _line_directions(col_kmh, rng)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    kmh = np.concatenate([np.repeat(row_kmh, cols - 1), np.tile(col_kmh, rows - 1)])
    way = np.concatenate([np.repeat(row_dir, cols - 1), np.tile(col_dir, rows - 1)])
    meters = rng.uniform(0.8, 1.2, len(a)) * BLOCK_M
    ms = np.maximum(1, np.round(meters / (kmh / 3.6) * 1000)).astype(np.int64)
    fwd, bwd = way >= 0, way <= 0
    return Arcs.of(
        np.concatenate([a[fwd], b[bwd]]),
        np.concatenate([b[fwd], a[bwd]]),
        np.concatenate([ms[fwd], ms[bwd]]),
        np.concatenate([meters[fwd], meters[bwd]]),
    )


def grid_coordinates(rows: int, cols: int) -> tuple[Floats, Floats]:
    r, c = np.divmod(np.arange(rows * cols), cols)
    lat = ORIGIN[0] + r * BLOCK_M / 111_195.0
    lon = ORIGIN[1] + c * BLOCK_M / (111_195.0 * np.cos(np.radians(ORIGIN[0])))
    return lat.astype(np.float64), lon.astype(np.float64)


def grid_network(
    rows: int, cols: int, seed: int = 1, progress: Callable[[float], None] | None = None
) -> RoadNetwork:
    """A driving-only network; roads carry no shapes (the grid is straight)."""
    lat, lon = grid_coordinates(rows, cols)
    arcs = grid_arcs(rows, cols, seed)
    return network_from_arcs(f"grid-{rows}x{cols}", lat, lon, arcs, progress)


def network_from_arcs(
    name: str,
    lat: Floats,
    lon: Floats,
    arcs: Arcs,
    progress: Callable[[float], None] | None = None,
) -> RoadNetwork:
    """A driving network from explicit arcs between nodes at (lat, lon)."""
    graph = profile_graph(Profile.DRIVING, arcs, progress)
    empty = np.zeros(0, dtype=np.int64)
    roads = Roads(empty, empty, empty, np.zeros(1, dtype=np.int64), lat[:0], lon[:0])
    return RoadNetwork(name, lat, lon, {Profile.DRIVING: graph}, roads)
