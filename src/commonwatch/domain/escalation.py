"""Escalation timers: when an unacknowledged incident becomes more urgent. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from commonwatch.domain.events import IncidentEscalated
from commonwatch.domain.model import IncidentStatus
from commonwatch.domain.rules import EscalationRule, Rules

ESCALATE = "escalate_unacknowledged"


@dataclass(frozen=True, slots=True)
class TimerSpec:
    incident_id: str
    kind: str
    due_at: datetime
    level: int


@dataclass(frozen=True, slots=True)
class Escalation:
    event: IncidentEscalated | None
    next_timer: TimerSpec | None


def first_timer(
    rules: Rules, *, incident_id: str, incident_type: str, opened_at: datetime
) -> TimerSpec | None:
    rule = rules.escalation_for(incident_type)
    if rule is None:
        return None
    due = opened_at + timedelta(seconds=rule.after_s)
    return TimerSpec(incident_id=incident_id, kind=ESCALATE, due_at=due, level=1)


def fire_timer(
    rules: Rules,
    *,
    timer: TimerSpec,
    incident_type: str,
    status: IncidentStatus,
    priority: int,
    now: datetime,
) -> Escalation:
    """A due timer: escalate if nobody has acknowledged yet, and plan the next step."""
    rule = rules.escalation_for(incident_type)
    if rule is None or status is not IncidentStatus.NEW:
        return Escalation(event=None, next_timer=None)
    event = IncidentEscalated(
        at=now,
        incident_id=timer.incident_id,
        level=timer.level,
        priority=max(1, priority - rule.raise_priority),
        reason=f"not acknowledged within {_elapsed(rule, timer.level)}",
    )
    next_timer = None
    if rule.repeat_every_s is not None and timer.level < rule.max_level:
        due = now + timedelta(seconds=rule.repeat_every_s)
        next_timer = TimerSpec(timer.incident_id, timer.kind, due, timer.level + 1)
    return Escalation(event=event, next_timer=next_timer)


def _elapsed(rule: EscalationRule, level: int) -> str:
    total = rule.after_s + (rule.repeat_every_s or 0.0) * (level - 1)
    return f"{total:g} s"
