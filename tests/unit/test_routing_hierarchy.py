"""The contraction hierarchy and its sweep give exactly Dijkstra's answers, one-ways included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from commonwatch.routing.arcs import INF_MS, Arcs, fastest
from commonwatch.routing.contract import contract
from commonwatch.routing.hierarchy import Hierarchy, layout
from commonwatch.routing.sweep import Sweeper
from commonwatch.routing.synthetic import grid_arcs


def random_roads(n: int, seed: int) -> Arcs:
    """A random geometric graph with a third of its streets one-way."""
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2)) * 1000
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    near = np.argsort(d, axis=1)[:, 1:4]
    a = np.repeat(np.arange(n), 3)
    b = near.ravel()
    meters = d[a, b]
    ms = np.maximum(1, (meters / rng.uniform(5, 20, len(a)) * 1000).astype(np.int64))
    two_way = rng.random(len(a)) > 0.33
    return Arcs.of(
        np.concatenate([a, b[two_way]]),
        np.concatenate([b, a[two_way]]),
        np.concatenate([ms, ms[two_way]]),
        np.concatenate([meters, meters[two_way]]),
    )


def reference(n: int, arcs: Arcs) -> tuple[csr_matrix, csr_matrix]:
    best = fastest(arcs, n)
    graph = csr_matrix((best.ms.astype(float), (best.src, best.dst)), shape=(n, n))
    return graph, graph.T.tocsr()


def positions(h: Hierarchy) -> np.ndarray:
    pos = np.empty(h.size, dtype=np.int64)
    pos[h.nodes] = np.arange(h.size)
    return pos


def as_seconds(ms: np.ndarray) -> np.ndarray:
    out = ms.astype(float)
    out[ms >= INF_MS] = np.inf
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_matches_dijkstra_to_and_from_every_node(seed: int) -> None:
    n = 300
    arcs = random_roads(n, seed)
    h = layout(contract(n, arcs, core_size=12))
    sweeper, pos = Sweeper(h), positions(h)
    graph, reverse = reference(n, arcs)
    for node in (0, 17, 123, 299):
        to = sweeper.to_target(int(pos[node]))
        assert np.array_equal(as_seconds(to.ms[pos]), dijkstra(reverse, indices=node))
        fro = sweeper.from_source(int(pos[node]))
        assert np.array_equal(as_seconds(fro.ms[pos]), dijkstra(graph, indices=node))


def test_it_answers_only_the_wanted_nodes_the_same_as_all() -> None:
    n = 40 * 40
    arcs = grid_arcs(40, 40, seed=4)
    h = layout(contract(n, arcs, core_size=30))
    sweeper, pos = Sweeper(h), positions(h)
    wanted = pos[np.random.default_rng(5).choice(n, 50, replace=False)]
    whole = sweeper.to_target(int(pos[777]))
    part = sweeper.to_target(int(pos[777]), wanted)
    assert np.array_equal(part.ms, whole.ms[wanted])
    assert np.allclose(part.meters, whole.meters[wanted])


def test_it_measures_the_meters_of_the_fastest_path() -> None:
    n = 30 * 30
    arcs = grid_arcs(30, 30, seed=6)
    h = layout(contract(n, arcs, core_size=20))
    pos = positions(h)
    best = fastest(arcs, n)
    graph = csr_matrix((best.ms.astype(float), (best.src, best.dst)), shape=(n, n))
    meters = {(int(a), int(b)): m for a, b, m in zip(best.src, best.dst, best.meters, strict=True)}
    _, pred = dijkstra(graph, indices=0, return_predecessors=True)
    field = Sweeper(h).from_source(int(pos[0]))
    for target in (899, 450, 29):
        total, v = 0.0, target
        while v != 0:
            total += meters[(int(pred[v]), v)]
            v = int(pred[v])
        assert field.meters[pos[target]] == pytest.approx(total)


def test_it_says_unreachable_across_disconnected_parts() -> None:
    left = grid_arcs(5, 5)
    right = Arcs(left.src + 25, left.dst + 25, left.ms, left.meters)
    h = layout(contract(50, Arcs.concat(left, right), core_size=4))
    pos = positions(h)
    field = Sweeper(h).to_target(int(pos[0]))
    assert (field.ms[pos[25:]] >= INF_MS).all()
    assert (field.ms[pos[:25]] < INF_MS).all()
