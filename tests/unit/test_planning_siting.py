"""Post siting: the MIP finds the optimum brute force proves; heuristic and bound bracket it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from commonwatch.domain.travel import Point
from commonwatch.planning.exact import solve_exact
from commonwatch.planning.graphs import Graph, read_edges_csv, read_orlib
from commonwatch.planning.heuristic import solve_heuristic
from commonwatch.planning.problem import Instance, Method, Objective
from commonwatch.planning.solve import demand_from_history, solve

ORLIB = Path(__file__).parents[1] / "fixtures" / "orlib" / "pmed-tiny.txt"


def random_graph(n: int, seed: int) -> Graph:
    """Connected: a random spanning tree plus extra edges, integer costs."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    u = [int(order[i]) for i in range(1, n)]
    v = [int(order[rng.integers(0, i)]) for i in range(1, n)]
    for _ in range(n):
        a, b = rng.choice(n, 2, replace=False)
        u.append(int(a))
        v.append(int(b))
    cost = rng.integers(1, 30, len(u)).astype(float)
    return Graph([str(i) for i in range(n)], np.array(u), np.array(v), cost)


def brute_force(inst: Instance) -> float:
    values = [
        inst.value(list(s)) for s in itertools.combinations(range(inst.costs.shape[1]), inst.k)
    ]
    return min(values) if inst.objective is Objective.MEDIAN else max(values)


def instance(seed: int, objective: Objective, k: int) -> Instance:
    costs = random_graph(14 + seed % 5, seed).distances()
    weights = np.random.default_rng(seed).integers(1, 6, len(costs)).astype(float)
    radius = float(np.median(costs)) / 2 if objective is Objective.COVERAGE else None
    return Instance(costs, weights, k, objective, radius)


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize(("seed", "k"), [(1, 2), (2, 3), (3, 3), (4, 4)])
def test_it_finds_the_optimum_that_brute_force_proves(
    objective: Objective, seed: int, k: int
) -> None:
    inst = instance(seed, objective, k)
    sol = solve_exact(inst)
    assert sol.value == pytest.approx(brute_force(inst))
    assert sol.gap == pytest.approx(0.0, abs=1e-9)
    assert sol.method is Method.EXACT
    assert len(sol.sites) == k


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", [5, 6, 7])
def test_it_brackets_the_optimum_between_heuristic_and_bound(
    objective: Objective, seed: int
) -> None:
    inst = instance(seed, objective, 3)
    best = brute_force(inst)
    sol = solve_heuristic(inst)
    if objective is Objective.MEDIAN:
        assert sol.bound <= best + 1e-6 <= sol.value + 2e-6
    else:
        assert sol.value - 1e-6 <= best <= sol.bound + 1e-6
    assert 0.0 <= sol.gap < 0.25


def test_it_reads_or_library_files_keeping_the_last_duplicate_edge() -> None:
    orlib = read_orlib(ORLIB)
    d = orlib.graph.distances()
    assert orlib.p == 3
    assert len(d) == 14
    # "5 7" appears three times (25, 3, 18): the last, 18, counts; not the cheapest
    assert d[4, 6] == 18.0


def test_it_solves_the_or_library_instance_to_its_brute_force_optimum() -> None:
    orlib = read_orlib(ORLIB)
    inst = Instance(orlib.graph.distances(), np.ones(14), orlib.p, Objective.MEDIAN)
    assert solve(inst).value == pytest.approx(brute_force(inst))


def test_it_reads_plain_edge_lists_as_undirected(tmp_path: Path) -> None:
    path = tmp_path / "edges.csv"
    path.write_text("u,v,cost\nhq,north,5\nnorth,east,4\nhq,east,12\n")
    graph = read_edges_csv(path)
    d = graph.distances()
    hq, east = graph.labels.index("hq"), graph.labels.index("east")
    assert d[hq, east] == d[east, hq] == 9.0


def test_it_turns_incident_history_into_weighted_demand() -> None:
    here = Point(-20.46, -54.61)
    history = [here, Point(here.lat + 1e-5, here.lon), Point(-20.50, -54.65)]
    demand = demand_from_history(history, cell_m=200)
    assert sorted(demand.weights.tolist()) == [1.0, 2.0]


def test_it_picks_the_heuristic_beyond_mip_size() -> None:
    rng = np.random.default_rng(9)
    pts = rng.random((250, 2))
    costs = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    sol = solve(Instance(costs, np.ones(250), 5, Objective.MEDIAN))
    assert sol.method is Method.HEURISTIC
    assert sol.gap < 0.05
