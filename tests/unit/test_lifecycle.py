"""The incident lifecycle: which status changes a person or a rule may make."""

from __future__ import annotations

import itertools

import pytest

from commonwatch.domain.model import (
    OPEN_STATUSES,
    IllegalTransition,
    IncidentStatus,
    check_transition,
)
from tests.unit.factories import alarm, open_incident

S = IncidentStatus

# The lifecycle, written out by hand so that a change to TRANSITIONS has to change this too.
ALLOWED = {
    (S.NEW, S.ACKNOWLEDGED),
    (S.NEW, S.DISPATCHED),
    (S.NEW, S.RESOLVED),
    (S.ACKNOWLEDGED, S.DISPATCHED),
    (S.ACKNOWLEDGED, S.RESOLVED),
    (S.DISPATCHED, S.ON_SCENE),
    (S.DISPATCHED, S.RESOLVED),
    (S.ON_SCENE, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
}
ILLEGAL = sorted(set(itertools.product(S, S)) - ALLOWED)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_it_allows_each_step_of_the_lifecycle(current: S, target: S) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_it_refuses_every_other_step_and_says_why(current: S, target: S) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target)
    message = str(caught.value)
    assert f"that is {current.value}" in message
    assert f"not {target.value}" in message


def test_it_lists_the_allowed_next_statuses_in_the_reason() -> None:
    with pytest.raises(IllegalTransition, match="can move to acknowledged, dispatched, resolved"):
        check_transition(S.NEW, S.ON_SCENE)


def test_it_says_a_closed_incident_can_move_to_nothing() -> None:
    with pytest.raises(IllegalTransition, match="can move to nothing, not new"):
        check_transition(S.CLOSED, S.NEW)


def test_it_treats_an_illegal_transition_as_a_value_error() -> None:
    # Callers that already map ValueError to a 4xx answer get this for free.
    assert issubclass(IllegalTransition, ValueError)


@pytest.mark.parametrize("status", sorted(S))
def test_it_never_lets_a_status_move_to_itself(status: S) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(status, status)


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_it_lets_every_open_incident_be_resolved(status: S) -> None:
    check_transition(status, S.RESOLVED)


def test_it_counts_new_acknowledged_dispatched_and_on_scene_as_open() -> None:
    assert {S.NEW, S.ACKNOWLEDGED, S.DISPATCHED, S.ON_SCENE} == OPEN_STATUSES


@pytest.mark.parametrize("status", sorted(S))
def test_it_reports_an_incident_open_exactly_when_its_status_is_open(status: S) -> None:
    incident = open_incident("inc-1", alarm("smoke-1", "smoke"), incident_type="fire", priority=1)
    incident.status = status
    assert incident.is_open is (status in OPEN_STATUSES)
