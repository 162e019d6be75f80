"""Who may use a road, which way, how fast: the profile rules."""

from __future__ import annotations

import pytest

from commonwatch.domain.travel import Profile
from commonwatch.routing.profiles import CYCLING_KMH, WALKING_KMH, parse_maxspeed, passage

D, C, W = Profile.DRIVING, Profile.CYCLING, Profile.WALKING


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("30 mph", 30 * 1.609344),
        ("60 km/h", 60.0),
        ("50;30", 30.0),
        ("BR:urban", 60.0),
        ("DE:rural", 100.0),
        ("FR:urban", 50.0),
        ("DE:zone30", 30.0),
        ("walk", 7.0),
    ],
)
def test_it_reads_maxspeed_values_as_km_per_hour(value: str, kmh: float) -> None:
    parsed = parse_maxspeed(value)
    assert parsed is not None
    assert parsed[0] == pytest.approx(kmh)


@pytest.mark.parametrize("value", [None, "", "signals", "none", "variable", "0"])
def test_it_ignores_maxspeed_values_that_say_no_number(value: str | None) -> None:
    assert parse_maxspeed(value) is None


def test_it_uses_a_tagged_maxspeed_over_the_class_default() -> None:
    p = passage(D, {"highway": "primary", "maxspeed": "80"})
    assert p is not None
    assert p.kmh == 80.0


def test_it_keeps_a_slow_class_below_a_zone_limit() -> None:
    p = passage(D, {"highway": "residential", "maxspeed": "BR:urban"})
    assert p is not None
    assert p.kmh == 30.0


@pytest.mark.parametrize(
    ("tags", "forward", "backward"),
    [
        ({"oneway": "yes"}, True, False),
        ({"oneway": "1"}, True, False),
        ({"oneway": "true"}, True, False),
        ({"oneway": "-1"}, False, True),
        ({"oneway": "no"}, True, True),
        ({"junction": "roundabout"}, True, False),
        ({"junction": "roundabout", "oneway": "no"}, True, True),
        ({}, True, True),
    ],
)
def test_it_reads_one_way_streets_for_driving(
    tags: dict[str, str], forward: bool, backward: bool
) -> None:
    p = passage(D, {"highway": "residential", **tags})
    assert p is not None
    assert (p.forward, p.backward) == (forward, backward)


def test_it_lets_bicycles_ride_against_a_one_way_when_tagged() -> None:
    p = passage(C, {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"})
    assert p is not None
    assert (p.forward, p.backward) == (True, True)


def test_it_ignores_one_way_for_walking() -> None:
    p = passage(W, {"highway": "residential", "oneway": "yes"})
    assert p is not None
    assert (p.forward, p.backward) == (True, True)


def test_it_keeps_cars_off_footways_and_pedestrians_off_motorways() -> None:
    assert passage(D, {"highway": "footway"}) is None
    assert passage(W, {"highway": "motorway"}) is None
    assert passage(W, {"highway": "footway"}) is not None


def test_it_applies_the_access_hierarchy() -> None:
    assert passage(D, {"highway": "residential", "access": "private"}) is None
    assert passage(D, {"highway": "residential", "access": "no", "motor_vehicle": "yes"})
    assert passage(C, {"highway": "footway", "bicycle": "yes"}) is not None
    assert passage(C, {"highway": "footway", "access": "yes"}) is None
    assert passage(W, {"highway": "residential", "foot": "no"}) is None


def test_it_gives_cycling_and_walking_fixed_speeds() -> None:
    tags = {"highway": "primary", "maxspeed": "80"}
    cyc, walk = passage(C, tags), passage(W, tags)
    assert cyc is not None
    assert walk is not None
    assert (cyc.kmh, walk.kmh) == (CYCLING_KMH, WALKING_KMH)


def test_it_skips_areas_and_unknown_classes() -> None:
    assert passage(W, {"highway": "pedestrian", "area": "yes"}) is None
    assert passage(D, {"highway": "proposed"}) is None
