"""Escalation: an incident nobody acknowledges becomes more urgent, step by step, up to a limit."""

from __future__ import annotations

import pytest

from commonwatch.domain.escalation import ESCALATE, Escalation, TimerSpec, fire_timer, first_timer
from commonwatch.domain.events import IncidentEscalated
from commonwatch.domain.model import IncidentStatus
from commonwatch.domain.rules import Rules, parse_rules
from tests.unit.factories import T0, at

NO_REPEAT = """
[incident_types]
water_leak = { label = "Water leak", priority = 3 }
intrusion = { label = "Intrusion", priority = 2 }

[events]
water_leak = { incident = "water_leak" }

[[escalations]]
incident_types = ["water_leak"]
after_s = 45
raise_priority = 2
"""


def test_it_plans_the_first_escalation_of_a_fire_after_thirty_seconds(
    default_rules: Rules,
) -> None:
    timer = first_timer(default_rules, incident_id="inc-1", incident_type="fire", opened_at=T0)
    assert timer == TimerSpec(incident_id="inc-1", kind=ESCALATE, due_at=at(30), level=1)


def test_it_plans_other_incident_types_by_the_catch_all_rule(default_rules: Rules) -> None:
    timer = first_timer(default_rules, incident_id="inc-2", incident_type="tamper", opened_at=T0)
    assert timer is not None
    assert timer.due_at == at(120)


def test_it_plans_nothing_when_no_rule_applies() -> None:
    rules = parse_rules(NO_REPEAT)
    assert first_timer(rules, incident_id="inc-1", incident_type="intrusion", opened_at=T0) is None


def escalate(
    rules: Rules, timer: TimerSpec, *, priority: int, status: IncidentStatus = IncidentStatus.NEW
) -> Escalation:
    return fire_timer(
        rules, timer=timer, incident_type="fire", status=status, priority=priority, now=timer.due_at
    )


def fire_first(rules: Rules) -> TimerSpec:
    timer = first_timer(rules, incident_id="inc-1", incident_type="fire", opened_at=T0)
    assert timer is not None
    return timer


def test_it_escalates_a_new_incident_one_priority_step(default_rules: Rules) -> None:
    # Fire starts at 1; use a fire already made less urgent by hand to see the step.
    result = escalate(default_rules, fire_first(default_rules), priority=3)
    assert result.event == IncidentEscalated(
        at=at(30),
        incident_id="inc-1",
        level=1,
        priority=2,
        reason="not acknowledged within 30 s",
    )


def test_it_never_escalates_beyond_priority_one(default_rules: Rules) -> None:
    result = escalate(default_rules, fire_first(default_rules), priority=1)
    assert result.event is not None
    assert result.event.priority == 1


def test_it_raises_priority_by_the_rules_step_but_never_below_one() -> None:
    rules = parse_rules(NO_REPEAT)
    timer = TimerSpec("inc-1", ESCALATE, at(45), 1)
    for priority, expected in [(5, 3), (3, 1), (2, 1)]:
        result = fire_timer(
            rules,
            timer=timer,
            incident_type="water_leak",
            status=IncidentStatus.NEW,
            priority=priority,
            now=at(45),
        )
        assert result.event is not None
        assert result.event.priority == expected


def test_it_plans_the_next_level_after_the_repeat_interval(default_rules: Rules) -> None:
    result = escalate(default_rules, fire_first(default_rules), priority=1)
    assert result.next_timer == TimerSpec("inc-1", ESCALATE, at(90), 2)


def test_it_stops_planning_at_the_maximum_level(default_rules: Rules) -> None:
    timer: TimerSpec | None = fire_first(default_rules)
    levels, reasons = [], []
    while timer is not None:
        result = escalate(default_rules, timer, priority=1)
        assert result.event is not None
        levels.append(result.event.level)
        reasons.append(result.event.reason)
        timer = result.next_timer
    assert levels == [1, 2, 3]
    assert reasons == [
        "not acknowledged within 30 s",
        "not acknowledged within 90 s",
        "not acknowledged within 150 s",
    ]


def test_it_plans_no_next_level_without_a_repeat_interval() -> None:
    rules = parse_rules(NO_REPEAT)
    result = fire_timer(
        rules,
        timer=TimerSpec("inc-1", ESCALATE, at(45), 1),
        incident_type="water_leak",
        status=IncidentStatus.NEW,
        priority=3,
        now=at(45),
    )
    assert result.event is not None
    assert result.next_timer is None


@pytest.mark.parametrize("status", sorted(set(IncidentStatus) - {IncidentStatus.NEW}))
def test_it_does_nothing_once_someone_has_acknowledged(
    default_rules: Rules, status: IncidentStatus
) -> None:
    result = escalate(default_rules, fire_first(default_rules), priority=1, status=status)
    assert result == Escalation(event=None, next_timer=None)


def test_it_does_nothing_for_a_type_no_rule_covers() -> None:
    rules = parse_rules(NO_REPEAT)
    result = fire_timer(
        rules,
        timer=TimerSpec("inc-1", ESCALATE, at(45), 1),
        incident_type="intrusion",
        status=IncidentStatus.NEW,
        priority=2,
        now=at(45),
    )
    assert result == Escalation(event=None, next_timer=None)
