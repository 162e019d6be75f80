"""Recommendation: candidates per slot ranked by ETA (straight-line fake travel), every exclusion
explained, and the coverage option that spares the last unit covering a community."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from commonwatch.domain.dispatch import (
    CoverageSpec,
    DemandPoint,
    FleetUnit,
    Recommendation,
    Scene,
    SlotCoverage,
    recommend,
    replacement_for,
)
from commonwatch.domain.travel import (
    CIRCUITY,
    SPEED_MPS,
    Estimate,
    Method,
    Point,
    Profile,
    StraightLine,
    haversine_m,
)
from commonwatch.domain.units import (
    DispatchSettings,
    Position,
    Shift,
    Slot,
    Unit,
    UnitKind,
    UnitStatus,
)
from tests.unit.factories import T0, at

SCENE = Point(22.5, 114.0)
SETTINGS = DispatchSettings()
K = UnitKind
ENGINES = Slot(role="engine", kinds=[K.FIRE_ENGINE], count=2)
PATROL = Slot(role="patrol", kinds=[K.PATROL_CAR, K.FOOT_PATROL, K.EBIKE_PATROL])
FIRE = [ENGINES, PATROL]


def member(
    unit_id: str,
    kind: UnitKind,
    east_deg: float | None,
    *,
    status: UnitStatus = UnitStatus.AVAILABLE,
    fix_at: float = 0.0,
    **unit: object,
) -> FleetUnit:
    """A unit `east_deg` degrees of longitude east of the scene (None: no position)."""
    position = None if east_deg is None else Position(SCENE.lat, SCENE.lon + east_deg, at(fix_at))
    base = Unit(unit_id, unit_id, kind, "station", "city.north", status=status)
    return FleetUnit(replace(base, **unit), position)  # type: ignore[arg-type]


def rank(
    fleet: Sequence[FleetUnit],
    slots: Sequence[Slot] = FIRE,
    *,
    assigned: tuple[Unit, ...] = (),
    travel: object = None,
    coverage: CoverageSpec | None = None,
) -> Recommendation:
    scene = Scene("inc-1", "fire", SCENE, assigned)
    chosen_travel = travel or StraightLine()
    return recommend(scene, fleet, slots, chosen_travel, SETTINGS, now=T0, coverage=coverage)  # type: ignore[arg-type]


def expected_eta(east_deg: float, profile: Profile = Profile.DRIVING) -> float:
    meters = haversine_m(Point(SCENE.lat, SCENE.lon + east_deg), SCENE) * CIRCUITY
    return round(meters / SPEED_MPS[profile], 1)


def test_it_ranks_each_slot_by_eta_and_explains_every_candidate() -> None:
    fleet = [
        member("E-far", K.FIRE_ENGINE, 0.02),
        member("E-near", K.FIRE_ENGINE, 0.005),
        member("E-mid", K.FIRE_ENGINE, 0.01),
        member("P1", K.PATROL_CAR, 0.003),
    ]
    engines, patrol = rank(fleet).slots
    assert [c.unit_id for c in engines.candidates] == ["E-near", "E-mid", "E-far"]
    assert [c.chosen for c in engines.candidates] == [True, True, False]
    near = engines.candidates[0]
    assert near.eta_s == expected_eta(0.005)
    assert near.method == "fallback"
    assert near.why == "ETA 1 min 23 s over 0.7 km (fallback)"
    assert (patrol.needed, [c.unit_id for c in patrol.candidates]) == (1, ["P1"])


def test_it_says_plainly_when_only_straight_line_travel_times_are_known() -> None:
    found = rank([member("E1", K.FIRE_ENGINE, 0.01)])
    assert found.travel_method == "fallback"
    assert found.notice is not None
    assert "straight-line" in found.notice


class Network:
    """A road network that cannot reach units more than 0.015 degrees away."""

    def many_to_one(self, origins: list[Point], target: Point, profile: Profile) -> list[Estimate]:
        return [
            Estimate(
                seconds=60.0,
                meters=500.0,
                method=Method.NETWORK,
                reachable=abs(o.lon - target.lon) < 0.015,
            )
            for o in origins
        ]


def test_it_gives_no_notice_on_a_road_network_and_excludes_what_it_cannot_reach() -> None:
    found = rank(
        [member("E1", K.FIRE_ENGINE, 0.01), member("E2", K.FIRE_ENGINE, 0.03)], travel=Network()
    )
    assert (found.travel_method, found.notice) == ("network", None)
    engines = found.slots[0]
    assert [c.unit_id for c in engines.candidates] == ["E1"]
    assert [(e.unit_id, e.reason) for e in engines.excluded] == [("E2", "unreachable")]


def test_it_excludes_units_that_cannot_go_and_says_why() -> None:
    shift = Shift(at(3600), at(7200))
    fleet = [
        member("E-ok", K.FIRE_ENGINE, 0.01),
        member("E-off", K.FIRE_ENGINE, 0.001, always_on_duty=False, shifts=(shift,)),
        member("E-busy", K.FIRE_ENGINE, 0.001, status=UnitStatus.ON_SCENE),
        member("E-oos", K.FIRE_ENGINE, 0.001, status=UnitStatus.OUT_OF_SERVICE),
        member("E-lost", K.FIRE_ENGINE, None),
        member("E-old", K.FIRE_ENGINE, 0.001, fix_at=-600),
        member("G1", K.SECURITY_GUARD, 0.001),
    ]
    engines = rank(fleet).slots[0]
    assert [c.unit_id for c in engines.candidates] == ["E-ok"]
    reasons = {e.unit_id: e.reason for e in engines.excluded}
    assert reasons == {
        "E-off": "off duty",
        "E-busy": "busy (on_scene)",
        "E-oos": "out of service",
        "E-lost": "no position",
        "E-old": "stale position (600 s old, limit 120 s)",
        "G1": "wrong capability: a security_guard does not serve as engine",
    }
    # Units of the right kind come first: they are what the dispatcher looks for.
    assert engines.excluded[-1].unit_id == "G1"
    assert engines.excluded_total == 6


def test_it_returns_a_returning_unit_to_service_as_a_candidate() -> None:
    fleet = [member("E1", K.FIRE_ENGINE, 0.01, status=UnitStatus.RETURNING)]
    assert rank(fleet).slots[0].candidates[0].status == "returning"


def test_it_fills_a_slot_with_units_already_sent_first() -> None:
    sent = member("E-sent", K.FIRE_ENGINE, 0.001, status=UnitStatus.DISPATCHED)
    fleet = [sent, member("E1", K.FIRE_ENGINE, 0.01), member("E2", K.FIRE_ENGINE, 0.02)]
    engines = rank(fleet, assigned=(sent.unit,)).slots[0]
    assert (engines.filled_by, engines.needed) == (["E-sent"], 1)
    assert [(c.unit_id, c.chosen) for c in engines.candidates] == [("E1", True), ("E2", False)]
    assert "E-sent" not in {e.unit_id for e in engines.excluded}


def test_it_never_suggests_one_unit_for_two_slots() -> None:
    first = Slot(role="first", kinds=[K.PATROL_CAR])
    second = Slot(role="second", kinds=[K.PATROL_CAR, K.FOOT_PATROL])
    fleet = [member("P1", K.PATROL_CAR, 0.001), member("F1", K.FOOT_PATROL, 0.002)]
    one, two = rank(fleet, [first, second]).slots
    assert [c.unit_id for c in one.candidates if c.chosen] == ["P1"]
    assert [c.unit_id for c in two.candidates if c.chosen] == ["F1"]
    assert ("P1", "chosen for first") in {(e.unit_id, e.reason) for e in two.excluded}


def test_it_asks_for_the_capabilities_a_slot_names() -> None:
    volunteers = Slot(role="volunteers", kinds=[K.VOLUNTEER_TEAM], capabilities=["first_aid"])
    fleet = [
        member("V-untrained", K.VOLUNTEER_TEAM, 0.001),
        member("V-first-aid", K.VOLUNTEER_TEAM, 0.004, capabilities=frozenset({"first_aid"})),
    ]
    slot = rank(fleet, [volunteers]).slots[0]
    assert [c.unit_id for c in slot.candidates] == ["V-first-aid"]
    assert slot.candidates[0].eta_s == expected_eta(0.004, Profile.WALKING)
    assert [(e.unit_id, e.reason) for e in slot.excluded] == [
        ("V-untrained", "wrong capability: lacks first_aid")
    ]


def test_it_says_when_the_rules_name_no_units_for_a_type() -> None:
    found = rank([member("E1", K.FIRE_ENGINE, 0.01)], [])
    assert found.slots == []
    assert found.notice == "the dispatch rules name no units for incident type fire"


def test_it_suggests_the_best_chosen_unit_of_the_same_kind_as_a_replacement() -> None:
    fleet = [
        member("E1", K.FIRE_ENGINE, 0.01),
        member("E2", K.FIRE_ENGINE, 0.02),
        member("P1", K.PATROL_CAR, 0.001),
    ]
    found = rank(fleet)
    replacement = replacement_for(found, K.FIRE_ENGINE)
    assert replacement is not None
    assert replacement.unit_id == "E1"
    patrol = replacement_for(found, K.FOOT_PATROL)
    assert patrol is not None
    assert patrol.unit_id == "P1"


# --- coverage ---------------------------------------------------------------------------------


def test_it_computes_covered_share_and_expected_coverage_by_hand() -> None:
    # Demand points 0, 1 (weight 1 each) and 2 (weight 2); unit A reaches 0 and 1, B reaches 1.
    cover = SlotCoverage(
        reach={"A": frozenset({0, 1}), "B": frozenset({1})},
        weights=(1.0, 1.0, 2.0),
        q=0.5,
        penalty_s=100.0,
    )
    assert cover.share() == 0.5  # points 0 and 1: weight 2 of 4
    assert cover.share(["A"]) == 0.25
    # Expected coverage: 1*(1-0.5) + 1*(1-0.5^2) + 2*0 = 1.25, of 4.
    assert cover.expected() == pytest.approx(0.3125)
    assert cover.expected(["A"]) == pytest.approx(0.125)
    # Taking the last unit covering a point costs most: A alone covers point 0.
    assert cover.penalty("A") == pytest.approx(18.75)
    assert cover.penalty("B") == pytest.approx(6.25)


EAST, HOME, WEST = Point(22.5, 114.03), SCENE, Point(22.5, 113.97)
COVERAGE = CoverageSpec(
    (DemandPoint("east", EAST), DemandPoint("home", HOME), DemandPoint("west", WEST)),
    minutes=8,
    busy_probability=0.3,
    penalty_s=600,
)


def patrols() -> list[FleetUnit]:
    # A is nearest but the only one within 8 minutes of the east; B is a little farther and the
    # west has C as well.
    return [
        member("A", K.PATROL_CAR, 0.004),
        member("B", K.PATROL_CAR, -0.0045),
        member("C", K.PATROL_CAR, -0.03),
    ]


def test_it_sends_the_nearest_unit_without_the_coverage_option() -> None:
    slot = rank(patrols(), [PATROL]).slots[0]
    assert [c.unit_id for c in slot.candidates if c.chosen] == ["A"]
    assert slot.coverage_before is None


def test_it_spares_the_last_unit_covering_a_community_with_the_coverage_option() -> None:
    slot = rank(patrols(), [PATROL], coverage=COVERAGE).slots[0]
    by_id = {c.unit_id: c for c in slot.candidates}
    assert [c.unit_id for c in slot.candidates if c.chosen] == ["B"]
    # MEXCLP with q = 0.3: A alone covers the east, so losing it costs 600 * (0.84 - 0.5367).
    assert by_id["A"].coverage_penalty_s == pytest.approx(182.0, abs=0.1)
    assert by_id["B"].coverage_penalty_s == pytest.approx(84.0, abs=0.1)
    assert by_id["A"].coverage_after == pytest.approx(2 / 3, abs=1e-4)
    assert by_id["B"].coverage_after == 1.0
    assert (slot.coverage_before, slot.coverage_after) == (1.0, 1.0)
    assert "100% of demand points stay covered within 8 min" in by_id["B"].why
    assert by_id["B"].score_s == pytest.approx(by_id["B"].eta_s + 84.0, abs=0.1)
