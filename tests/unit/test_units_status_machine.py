"""Units: the status machine, duty by shift, stale positions and arrival by distance."""

from __future__ import annotations

import itertools

import pytest

from commonwatch.domain.model import IllegalTransition
from commonwatch.domain.travel import Point, Profile
from commonwatch.domain.units import (
    DISPATCHABLE,
    PROFILE_OF,
    IllegalUnitTransition,
    Position,
    Shift,
    Unit,
    UnitKind,
    UnitStatus,
    arrival_distance,
    check_unit_transition,
)
from tests.unit.factories import T0, at

S = UnitStatus

# The machine, written out by hand so that a change to UNIT_TRANSITIONS has to change this too.
ALLOWED = {
    (S.AVAILABLE, S.DISPATCHED),
    (S.AVAILABLE, S.BUSY),
    (S.AVAILABLE, S.OUT_OF_SERVICE),
    (S.DISPATCHED, S.EN_ROUTE),
    (S.DISPATCHED, S.ON_SCENE),
    (S.DISPATCHED, S.AVAILABLE),
    (S.DISPATCHED, S.OUT_OF_SERVICE),
    (S.EN_ROUTE, S.ON_SCENE),
    (S.EN_ROUTE, S.AVAILABLE),
    (S.EN_ROUTE, S.OUT_OF_SERVICE),
    (S.ON_SCENE, S.BUSY),
    (S.ON_SCENE, S.RETURNING),
    (S.ON_SCENE, S.AVAILABLE),
    (S.BUSY, S.RETURNING),
    (S.BUSY, S.AVAILABLE),
    (S.BUSY, S.OUT_OF_SERVICE),
    (S.RETURNING, S.AVAILABLE),
    (S.RETURNING, S.DISPATCHED),
    (S.RETURNING, S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, S.AVAILABLE),
}
ILLEGAL = sorted(set(itertools.product(S, S)) - ALLOWED)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_it_allows_each_step_of_the_machine(current: S, target: S) -> None:
    check_unit_transition("E1", current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_it_refuses_every_other_step_and_says_why(current: S, target: S) -> None:
    with pytest.raises(IllegalUnitTransition) as refused:
        check_unit_transition("E1", current, target)
    assert f"unit E1 is {current}" in str(refused.value)
    assert f"not {target}" in str(refused.value)


def test_it_reports_a_refused_unit_step_as_a_lifecycle_conflict() -> None:
    # The API maps IllegalTransition to 409: a unit's refusal must be one too.
    with pytest.raises(IllegalTransition):
        check_unit_transition("E1", S.OUT_OF_SERVICE, S.DISPATCHED)


def test_it_sends_only_free_units() -> None:
    assert {S.AVAILABLE, S.RETURNING} == DISPATCHABLE


def test_it_moves_each_kind_of_unit_at_its_own_pace() -> None:
    assert PROFILE_OF[UnitKind.FIRE_ENGINE] is Profile.DRIVING
    assert PROFILE_OF[UnitKind.EBIKE_PATROL] is Profile.CYCLING
    assert PROFILE_OF[UnitKind.SECURITY_GUARD] is Profile.WALKING
    assert set(PROFILE_OF) == set(UnitKind)


def unit(*, always: bool = False, shifts: tuple[Shift, ...] = ()) -> Unit:
    return Unit(
        "V1",
        "Volunteers",
        UnitKind.VOLUNTEER_TEAM,
        "base",
        "city.north",
        always_on_duty=always,
        shifts=shifts,
    )


def test_it_puts_a_unit_on_duty_only_while_a_shift_covers_the_time() -> None:
    shifts = (Shift(at(0), at(3600)), Shift(at(7200), at(10800)))
    volunteers = unit(shifts=shifts)
    assert volunteers.is_on_duty(at(0))
    assert volunteers.is_on_duty(at(3599))
    assert not volunteers.is_on_duty(at(3600))  # a shift ends at its end
    assert not volunteers.is_on_duty(at(5000))
    assert volunteers.is_on_duty(at(7200))


def test_it_keeps_a_standing_unit_on_duty_without_shifts() -> None:
    assert unit(always=True).is_on_duty(T0)
    assert not unit().is_on_duty(T0)


def test_it_calls_a_position_stale_once_older_than_the_limit() -> None:
    fix = Position(22.5, 114.0, at(0))
    assert fix.age_s(at(120)) == 120
    assert not fix.is_stale(at(120), 120)
    assert fix.is_stale(at(121), 120)
    assert fix.age_s(at(-5)) == 0  # a fix from the future is fresh, not negative


def test_it_sees_a_unit_arrive_within_the_radius_and_not_beyond() -> None:
    scene = Point(22.5, 114.0)
    # 0.0006 degrees of latitude is about 67 m.
    near = arrival_distance(Position(22.5006, 114.0, T0), scene, 75)
    assert near is not None
    assert 60 < near < 70
    assert arrival_distance(Position(22.5008, 114.0, T0), scene, 75) is None
