"""Domain events travel as JSON tagged by "kind" and come back as the same typed value."""

from __future__ import annotations

import json

import msgspec
import pytest

from commonwatch.domain.events import (
    INCIDENT_EVENTS,
    DeviceAlarmCleared,
    DeviceAlarmRaised,
    DomainEvent,
    EventCorrelated,
    IncidentAcknowledged,
    IncidentClosed,
    IncidentEscalated,
    IncidentOpened,
    IncidentResolved,
    NoteAdded,
    decode,
    encode,
    kind_of,
)
from tests.unit.factories import T0, at

EXAMPLES: list[DomainEvent] = [
    IncidentOpened(
        at=T0,
        incident_id="inc-1",
        incident_type="fire",
        priority=1,
        jpath="city.riverside.maple_court",
        community_id="riverside",
        building_id="maple-court",
        event_id="ev-1",
        device_id="smoke-kitchen",
        event_type="smoke",
    ),
    IncidentOpened(
        at=T0,
        incident_id="inc-2",
        incident_type="fire",
        priority=1,
        jpath="city.riverside",
        community_id="riverside",
        building_id=None,
        event_id="ev-2",
        device_id="kiosk-1",
        event_type="smoke",
    ),
    EventCorrelated(
        at=at(30),
        incident_id="inc-1",
        event_id="ev-3",
        device_id="heat-hall",
        event_type="heat",
        event_count=2,
        priority=1,
        confidence=0.75,
    ),
    DeviceAlarmRaised(at=T0, device_id="smoke-kitchen", event_type="smoke", event_id="ev-1"),
    DeviceAlarmCleared(at=at(60), device_id="smoke-kitchen", event_type="smoke", event_id="ev-4"),
    IncidentAcknowledged(at=at(20), incident_id="inc-1", by="operator:ana"),
    IncidentResolved(at=at(600), incident_id="inc-1", resolution="handled", by="operator:ana"),
    IncidentResolved(
        at=at(600),
        incident_id="inc-3",
        resolution="handled",
        by="rule:auto_resolve_on_restore",
        note="tamper restored on device panel-2",
    ),
    IncidentClosed(at=at(900), incident_id="inc-1", by="operator:ana"),
    NoteAdded(at=at(40), incident_id="inc-1", by="operator:ana", text="caretaker on the way"),
    IncidentEscalated(
        at=at(30), incident_id="inc-1", level=1, priority=1, reason="not acknowledged within 30 s"
    ),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: kind_of(e))
def test_it_decodes_what_it_encodes(event: DomainEvent) -> None:
    back = decode(encode(event))
    assert back == event
    assert type(back) is type(event)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: kind_of(e))
def test_it_tags_each_event_with_its_kind(event: DomainEvent) -> None:
    payload = json.loads(encode(event))
    assert payload["kind"] == type(event).__name__ == kind_of(event)


def test_it_writes_times_as_utc_rfc3339() -> None:
    payload = json.loads(encode(EXAMPLES[0]))
    assert payload["at"] == "2025-03-01T12:00:00Z"


def test_it_decodes_the_wire_form_the_outbox_relay_publishes() -> None:
    wire = (
        b'{"kind":"IncidentAcknowledged","at":"2025-03-01T12:00:20Z",'
        b'"incident_id":"inc-1","by":"operator:ana"}'
    )
    assert decode(wire) == IncidentAcknowledged(at=at(20), incident_id="inc-1", by="operator:ana")


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: kind_of(e))
def test_it_names_the_incident_an_event_belongs_to(event: DomainEvent) -> None:
    if isinstance(event, INCIDENT_EVENTS):
        assert event.incident_ref == event.incident_id
    else:
        assert event.incident_ref is None


def test_it_refuses_a_kind_it_does_not_know() -> None:
    with pytest.raises(msgspec.ValidationError, match="Invalid value 'IncidentExploded'"):
        decode(b'{"kind":"IncidentExploded","at":"2025-03-01T12:00:00Z"}')


def test_it_refuses_an_event_missing_a_field() -> None:
    with pytest.raises(msgspec.ValidationError, match="missing required field `by`"):
        decode(b'{"kind":"NoteAdded","at":"2025-03-01T12:00:00Z","incident_id":"i","text":"t"}')


def test_it_keeps_domain_events_immutable() -> None:
    with pytest.raises(AttributeError):
        EXAMPLES[0].at = at(1)  # type: ignore[misc]
