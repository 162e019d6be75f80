"""Domain events: what happened, in the past tense. They feed the timeline and the outbox."""

from __future__ import annotations

from datetime import datetime

import msgspec


class DomainEvent(msgspec.Struct, frozen=True, tag_field="kind", kw_only=True):
    at: datetime

    @property
    def incident_ref(self) -> str | None:
        return getattr(self, "incident_id", None)


class IncidentOpened(DomainEvent, frozen=True, tag=True):
    incident_id: str
    incident_type: str
    priority: int
    jpath: str
    community_id: str
    building_id: str | None
    event_id: str
    device_id: str
    event_type: str


class EventCorrelated(DomainEvent, frozen=True, tag=True):
    incident_id: str
    event_id: str
    device_id: str
    event_type: str
    event_count: int
    priority: int
    confidence: float


class DeviceAlarmRaised(DomainEvent, frozen=True, tag=True):
    device_id: str
    event_type: str
    event_id: str


class DeviceAlarmCleared(DomainEvent, frozen=True, tag=True):
    device_id: str
    event_type: str
    event_id: str


class IncidentAcknowledged(DomainEvent, frozen=True, tag=True):
    incident_id: str
    by: str


class IncidentResolved(DomainEvent, frozen=True, tag=True):
    incident_id: str
    resolution: str
    by: str
    note: str | None = None


class IncidentClosed(DomainEvent, frozen=True, tag=True):
    incident_id: str
    by: str


class NoteAdded(DomainEvent, frozen=True, tag=True):
    incident_id: str
    by: str
    text: str


class IncidentEscalated(DomainEvent, frozen=True, tag=True):
    incident_id: str
    level: int
    priority: int
    reason: str


AnyDomainEvent = (
    IncidentOpened
    | EventCorrelated
    | DeviceAlarmRaised
    | DeviceAlarmCleared
    | IncidentAcknowledged
    | IncidentResolved
    | IncidentClosed
    | NoteAdded
    | IncidentEscalated
)

INCIDENT_EVENTS = (
    IncidentOpened,
    EventCorrelated,
    IncidentAcknowledged,
    IncidentResolved,
    IncidentClosed,
    NoteAdded,
    IncidentEscalated,
)


def kind_of(event: DomainEvent) -> str:
    return type(event).__name__


def encode(event: DomainEvent) -> bytes:
    return msgspec.json.encode(event)


_decoder: msgspec.json.Decoder[AnyDomainEvent] = msgspec.json.Decoder(AnyDomainEvent)


def decode(data: bytes) -> AnyDomainEvent:
    return _decoder.decode(data)
