"""The real Monaco extract, imported once: one-way streets, map lines, loading, the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import msgspec
import numpy as np
import pytest

from commonwatch.domain.travel import Method, Point, Profile
from commonwatch.routing import network as store
from commonwatch.routing.cli import register
from commonwatch.routing.geojson import road_map
from commonwatch.routing.importer import Manifest, import_network
from commonwatch.routing.times import NetworkTravelTimes, load_travel_times

MONACO = Path(__file__).parents[1] / "fixtures" / "osm" / "monaco.osm.pbf"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("routing")


@pytest.fixture(scope="module")
def manifest(data_dir: Path) -> Manifest:
    return import_network(MONACO, data_dir)


@pytest.fixture(scope="module")
def monaco(manifest: Manifest, data_dir: Path) -> NetworkTravelTimes:
    times = load_travel_times(data_dir)
    assert isinstance(times, NetworkTravelTimes)
    return times


def one_way_pair(times: NetworkTravelTimes) -> tuple[Point, Point]:
    """Both ends of a one-way street whose points snap to exactly those nodes."""
    g = times.network.profiles[Profile.DRIVING]
    keys = set(zip(g.arcs.src.tolist(), g.arcs.dst.tolist(), strict=True))
    snappable = set(g.snappable.tolist())
    for a, b in keys:
        if (b, a) not in keys and a in snappable and b in snappable:
            net = times.network
            pa, pb = (Point(float(net.lat[g.nodes[x]]), float(net.lon[g.nodes[x]])) for x in (a, b))
            sa, sb = times.snap(pa, Profile.DRIVING), times.snap(pb, Profile.DRIVING)
            if sa and sb and sa.meters == 0 == sb.meters and sa.node == g.nodes[a]:
                return pa, pb
    raise AssertionError("no one-way street found")


def test_it_records_what_it_imported(manifest: Manifest, data_dir: Path) -> None:
    written = json.loads((data_dir / "network" / "monaco.json").read_text())
    assert written["nodes"] == manifest.nodes > 500
    assert manifest.profiles["driving"].one_way_arcs > 50
    assert manifest.profiles["walking"].one_way_arcs == 0
    assert "OpenStreetMap" in written["attribution"]
    lon0, lat0, lon1, lat1 = manifest.bbox
    assert 7.40 < lon0 < lon1 < 7.45
    assert 43.72 < lat0 < lat1 < 43.76


def test_it_respects_one_way_streets(monaco: NetworkTravelTimes) -> None:
    a, b = one_way_pair(monaco)
    (with_flow,) = monaco.many_to_one([a], b, Profile.DRIVING)
    (against,) = monaco.many_to_one([b], a, Profile.DRIVING)
    assert with_flow.method is Method.NETWORK
    assert with_flow.seconds < against.seconds


def test_it_walks_against_the_one_way(monaco: NetworkTravelTimes) -> None:
    a, b = one_way_pair(monaco)
    (there,) = monaco.many_to_one([a], b, Profile.WALKING)
    (back,) = monaco.many_to_one([b], a, Profile.WALKING)
    assert back.seconds == pytest.approx(there.seconds, rel=0.25)


def test_it_saves_and_loads_the_same_network(monaco: NetworkTravelTimes, data_dir: Path) -> None:
    again = store.load(data_dir / "network" / "monaco.npz")
    assert np.array_equal(again.lat, monaco.network.lat)
    assert set(again.profiles) == {Profile.DRIVING, Profile.CYCLING, Profile.WALKING}


def test_it_draws_driving_roads_within_a_bound(monaco: NetworkTravelTimes) -> None:
    full = road_map(monaco.network)
    small = road_map(monaco.network, max_features=50, max_points=300)
    assert not full.truncated
    assert small.truncated
    assert len(small.features) == 50
    assert sum(len(f.geometry.coordinates) for f in small.features) <= 300 + 50
    doc = json.loads(msgspec.json.encode(small))
    assert doc["type"] == "FeatureCollection"
    assert doc["features"][0]["geometry"]["type"] == "LineString"


def test_it_imports_from_the_command_line(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(["network", "import", str(MONACO), "--data-dir", str(tmp_path)])
    assert ns.func(ns) == 0
    assert (tmp_path / "network" / "monaco.npz").is_file()


def test_it_serves_the_imported_roads_to_the_console_map(
    manifest: Manifest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import msgspec

    from commonwatch.api.routes import routing

    monkeypatch.setenv("COMMONWATCH_DATA_DIR", str(data_dir))
    routing._roads.cache_clear()
    body = routing._roads()
    routing._roads.cache_clear()
    assert body is not None
    roads = msgspec.json.decode(body)
    assert roads["type"] == "FeatureCollection"
    assert roads["features"][0]["geometry"]["type"] == "LineString"


def test_it_has_no_roads_to_serve_without_an_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commonwatch.api.routes import routing

    monkeypatch.setenv("COMMONWATCH_DATA_DIR", str(tmp_path))
    routing._roads.cache_clear()
    assert routing._roads() is None
    routing._roads.cache_clear()
