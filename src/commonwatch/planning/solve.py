"""Choose k posts: exact where the MIP fits, the heuristic beyond; demand from points or history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonwatch.domain.travel import Point, Profile, TravelTimes
from commonwatch.planning.exact import solve_exact
from commonwatch.planning.heuristic import solve_heuristic
from commonwatch.planning.problem import Instance, Matrix, Method, Solution, Vector

# The p-median model has demand x candidate assignment variables; HiGHS proves optima of a few
# hundred candidates by a couple of hundred demand points in seconds to a minute on a small
# machine; beyond that the heuristic with its bound is the better use of time.
EXACT_MAX_CELLS = 40_000


@dataclass(frozen=True, slots=True)
class Demand:
    """Where help is needed and how much: incident history or given points, weighted."""

    points: list[Point]
    weights: Vector


def demand_from_history(points: list[Point], cell_m: float = 200.0) -> Demand:
    """Incidents binned to a grid of `cell_m` cells: each cell's centroid weighs its count."""
    if not points:
        return Demand([], np.zeros(0))
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    dlat = cell_m / 111_195.0
    dlon = dlat / max(np.cos(np.radians(lat.mean())), 1e-6)
    cells = np.stack([np.floor(lat / dlat), np.floor(lon / dlon)], axis=1)
    _, group, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    clat = np.bincount(group, weights=lat) / counts
    clon = np.bincount(group, weights=lon) / counts
    centroids = [Point(float(a), float(b)) for a, b in zip(clat, clon, strict=True)]
    return Demand(centroids, counts.astype(np.float64))


def travel_costs(
    times: TravelTimes, demand: list[Point], candidates: list[Point], profile: Profile
) -> Matrix:
    """Seconds from each candidate post to each demand point: [demand, candidate].

    One many-to-one query per demand point: every candidate to it, as a unit would drive.
    """
    rows = [
        [e.seconds if e.reachable else np.inf for e in times.many_to_one(candidates, d, profile)]
        for d in demand
    ]
    return np.array(rows, dtype=np.float64).reshape(len(demand), len(candidates))


def solve(inst: Instance, method: Method | None = None, time_limit: float = 60.0) -> Solution:
    """`method` None: exact when the model is small enough, else the heuristic."""
    cells = inst.costs.shape[0] * inst.costs.shape[1]
    chosen = method or (Method.EXACT if cells <= EXACT_MAX_CELLS else Method.HEURISTIC)
    if chosen is Method.EXACT:
        return solve_exact(inst, time_limit)
    return solve_heuristic(inst)
