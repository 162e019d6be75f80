"""On the real extracts, one-way streets included, the hierarchy answers exactly as Dijkstra."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from commonwatch.domain.travel import Profile
from commonwatch.routing import network as store
from commonwatch.routing.arcs import INF_MS, fastest
from commonwatch.routing.importer import import_network
from commonwatch.routing.network import ProfileGraph
from commonwatch.routing.sweep import Sweeper

OSM = Path(__file__).parents[1] / "fixtures" / "osm"


@pytest.fixture(scope="module", params=["monaco", "campo-grande"])
def network(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp(request.param)
    import_network(OSM / f"{request.param}.osm.pbf", data_dir)
    return data_dir / "network" / f"{request.param}.npz"


def seconds(ms: np.ndarray) -> np.ndarray:
    out = ms.astype(float)
    out[ms >= INF_MS] = np.inf
    return out


def reference(g: ProfileGraph) -> csr_matrix:
    n = len(g.nodes)
    best = fastest(g.arcs, n)
    return csr_matrix((best.ms.astype(float), (best.src, best.dst)), shape=(n, n))


@pytest.mark.parametrize("profile", [Profile.DRIVING, Profile.WALKING])
def test_it_matches_dijkstra_both_ways(network: Path, profile: Profile) -> None:
    g = store.load(network).profiles[profile]
    pairs = set(zip(g.arcs.src.tolist(), g.arcs.dst.tolist(), strict=True))
    one_way = [(a, b) for a, b in pairs if (b, a) not in pairs]
    assert len(one_way) > 50 if profile is Profile.DRIVING else not one_way
    graph = reference(g)
    reverse = graph.T.tocsr()
    sweeper = Sweeper(g.hierarchy)
    pos = np.empty(len(g.nodes), dtype=np.int64)
    pos[g.hierarchy.nodes] = np.arange(len(g.nodes))
    rng = np.random.default_rng(11)
    for node in rng.choice(g.snappable, 6, replace=False):
        to, fro = sweeper.to_target(int(pos[node])), sweeper.from_source(int(pos[node]))
        assert np.array_equal(seconds(to.ms[pos]), dijkstra(reverse, indices=node))
        assert np.array_equal(seconds(fro.ms[pos]), dijkstra(graph, indices=node))
        units = rng.choice(len(g.nodes), 500)
        part = sweeper.to_target(int(pos[node]), pos[units])
        assert np.array_equal(seconds(part.ms), dijkstra(reverse, indices=node)[units])
        assert np.allclose(part.meters, to.meters[pos[units]])
