"""NetworkTravelTimes as dispatch sees it: network times, snapping, ranking, fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from commonwatch.domain.travel import Method, Point, Profile, StraightLine, haversine_m
from commonwatch.routing.arcs import Arcs
from commonwatch.routing.synthetic import grid_arcs, grid_coordinates, network_from_arcs
from commonwatch.routing.times import NetworkTravelTimes, load_travel_times

ROWS = COLS = 20
RIVER = 9  # no street crosses between row 9 and row 10 ...
BRIDGE = 19  # ... except in the last column


def node(r: int, c: int) -> int:
    return r * COLS + c


def river_town() -> NetworkTravelTimes:
    arcs = grid_arcs(ROWS, COLS, seed=3)
    a, b = np.minimum(arcs.src, arcs.dst), np.maximum(arcs.src, arcs.dst)
    crossing = (a // COLS == RIVER) & (b // COLS == RIVER + 1) & (a % COLS != BRIDGE)
    lat, lon = grid_coordinates(ROWS, COLS)
    return NetworkTravelTimes(network_from_arcs("river", lat, lon, arcs.take(~crossing)))


def at(times: NetworkTravelTimes, n: int) -> Point:
    return Point(float(times.network.lat[n]), float(times.network.lon[n]))


def test_it_ranks_a_farther_but_faster_unit_above_a_nearer_one() -> None:
    town = river_town()
    incident = at(town, node(RIVER + 1, 0))
    across_river = at(town, node(RIVER, 0))  # 100 m away, but the bridge is 1.9 km east
    same_side = at(town, node(RIVER + 8, 0))  # 800 m away on the incident's side
    assert haversine_m(across_river, incident) < haversine_m(same_side, incident)
    near, far = town.many_to_one([across_river, same_side], incident, Profile.DRIVING)
    assert far.seconds < near.seconds
    assert {near.method, far.method} == {Method.NETWORK}
    assert near.meters > 3_000


def test_it_adds_the_snap_leg_at_the_profile_speed() -> None:
    town = river_town()
    target = at(town, node(15, 15))
    on_node = at(town, node(15, 5))
    off_road = Point(on_node.lat + 0.0002, on_node.lon)  # about 22 m north of the node
    snap = town.snap(off_road, Profile.DRIVING)
    assert snap is not None
    assert 15 < snap.meters < 30
    exact, shifted = town.many_to_one([on_node, off_road], target, Profile.DRIVING)
    assert shifted.meters == exact.meters + snap.meters
    assert shifted.seconds > exact.seconds


def test_it_says_unreachable_between_islands() -> None:
    one = grid_arcs(8, 8)
    other = Arcs(one.src + 64, one.dst + 64, one.ms, one.meters)
    lat, lon = grid_coordinates(16, 8)  # the second island sits north of the first
    times = NetworkTravelTimes(network_from_arcs("islands", lat, lon, Arcs.concat(one, other)))
    home, away = at(times, 0), at(times, 100)
    there, here = times.many_to_one([away, home], home, Profile.DRIVING)
    assert not there.reachable
    assert here.reachable
    assert here.seconds == 0


def test_it_falls_back_to_straight_lines_for_a_profile_the_network_lacks() -> None:
    town = river_town()
    estimates = town.many_to_one([at(town, 0)], at(town, 399), Profile.WALKING)
    assert estimates[0].method is Method.FALLBACK


def test_it_falls_back_and_says_so_when_no_network_is_imported(tmp_path: Path) -> None:
    times = load_travel_times(tmp_path)
    assert isinstance(times, StraightLine)
    estimates = times.many_to_one([Point(-20.46, -54.61)], Point(-20.47, -54.62), Profile.DRIVING)
    assert estimates[0].method is Method.FALLBACK


def test_it_answers_one_to_many_like_many_to_one_reversed() -> None:
    town = river_town()
    origin = at(town, node(2, 3))
    targets = [at(town, node(r, 17)) for r in (0, 5, 12, 19)]
    forward = town.one_to_many(origin, targets, Profile.DRIVING)
    for target, est in zip(targets, forward, strict=True):
        (back,) = town.many_to_one([origin], target, Profile.DRIVING)
        assert est.seconds == back.seconds
