"""Events, incidents and their lifecycle."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import msgspec


class EventState(StrEnum):
    ALARM = "alarm"
    RESTORE = "restore"
    INFO = "info"


class IncidentStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Resolution(StrEnum):
    HANDLED = "handled"
    FALSE_ALARM = "false_alarm"
    DUPLICATE = "duplicate"
    TEST = "test"
    NO_ACTION = "no_action"


OPEN_STATUSES: frozenset[IncidentStatus] = frozenset(
    {
        IncidentStatus.NEW,
        IncidentStatus.ACKNOWLEDGED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.ON_SCENE,
    }
)

# The lifecycle as data: from a status, the statuses a person (or a rule) may move it to.
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.NEW: frozenset(
        {IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED}
    ),
    IncidentStatus.ACKNOWLEDGED: frozenset({IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED}),
    IncidentStatus.DISPATCHED: frozenset({IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED}),
    IncidentStatus.ON_SCENE: frozenset({IncidentStatus.RESOLVED}),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow; the message says why."""


def check_transition(current: IncidentStatus, target: IncidentStatus) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise IllegalTransition(
            f"an incident that is {current} can move to {allowed}, not {target}"
        )


_LABEL = re.compile(r"[^a-z0-9_]+")


def ltree_label(raw: str) -> str:
    """An ltree label from any identifier: ltree allows only [A-Za-z0-9_] (and '-' since PG 16)."""
    label = _LABEL.sub("_", raw.lower()).strip("_")
    return label or "x"


UNASSIGNED_PATH = "unassigned"


class DeviceEvent(msgspec.Struct, frozen=True):
    """A normalised observation from a device, as the correlator sees it.

    A msgspec Struct rather than a frozen dataclass: the worker makes one per event, and a
    frozen dataclass costs 4 µs to build against 0.6 µs for a Struct."""

    id: str
    device_id: str
    community_id: str
    type: str
    state: EventState
    device_ts: datetime
    received_ts: datetime
    value: float | None = None
    source: str = "http"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a device is: its community, building and jurisdiction path."""

    community_id: str
    building_id: str | None
    jpath: str


@dataclass(slots=True)
class Incident:
    id: str
    type: str
    priority: int
    status: IncidentStatus
    jpath: str
    community_id: str
    building_id: str | None
    opened_at: datetime
    received_at: datetime
    first_device_ts: datetime
    last_event_at: datetime
    event_count: int = 1
    confidence: float = 0.5
    escalation_level: int = 0
    keys: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    event_types: set[str] = field(default_factory=set)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
