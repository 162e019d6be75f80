"""Builders for the pure-core tests: a frozen clock, named places and devices, and a correlator
fed the way the ingest handler feeds it. No servers, no wall clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from commonwatch.domain.correlation import Correlator, Outcome, dedupe_key
from commonwatch.domain.model import DeviceEvent, EventState, Incident, IncidentStatus, Place
from commonwatch.domain.rules import Rules

# The frozen clock: every time in the unit suite is an offset from this instant.
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# Two buildings in one community, and a kiosk on the street that belongs to no building.
RIVERSIDE = "riverside"
MAPLE_COURT = Place(RIVERSIDE, "maple-court", "city.riverside.maple_court")
OAK_HOUSE = Place(RIVERSIDE, "oak-house", "city.riverside.oak_house")
STREET = Place(RIVERSIDE, None, "city.riverside")

_event_ids = itertools.count(1)


def device_event(
    device: str,
    event_type: str,
    *,
    after_s: float = 0.0,
    state: EventState = EventState.ALARM,
    event_id: str | None = None,
) -> DeviceEvent:
    """One event from `device`, received `after_s` seconds after T0 (device clock 2 s earlier)."""
    return DeviceEvent(
        id=event_id or f"ev-{next(_event_ids)}",
        device_id=device,
        community_id=RIVERSIDE,
        type=event_type,
        state=state,
        device_ts=at(after_s - 2),
        received_ts=at(after_s),
    )


def alarm(device: str, event_type: str, after_s: float = 0.0) -> DeviceEvent:
    return device_event(device, event_type, after_s=after_s)


def restore(device: str, event_type: str, after_s: float = 0.0) -> DeviceEvent:
    return device_event(device, event_type, after_s=after_s, state=EventState.RESTORE)


def info(device: str, event_type: str, after_s: float = 0.0) -> DeviceEvent:
    return device_event(device, event_type, after_s=after_s, state=EventState.INFO)


@dataclass
class Desk:
    """One batch through one Correlator, with predictable incident ids inc-1, inc-2, ..."""

    rules: Rules
    open_incidents: Sequence[Incident] = ()
    correlator: Correlator = field(init=False)

    def __post_init__(self) -> None:
        ids = itertools.count(1)
        self.correlator = Correlator(self.rules, self.open_incidents, lambda: f"inc-{next(ids)}")

    def send(self, event: DeviceEvent, place: Place = MAPLE_COURT) -> Desk:
        self.correlator.apply(event, place)
        return self

    def send_all(self, events: Iterable[DeviceEvent], place: Place = MAPLE_COURT) -> Desk:
        for event in events:
            self.send(event, place)
        return self

    @property
    def outcome(self) -> Outcome:
        return self.correlator.outcome

    def incident(self, incident_id: str) -> Incident:
        return self.outcome.touched[incident_id]

    def incident_of(self, event: DeviceEvent) -> Incident:
        return self.incident(self.outcome.event_incident[event.id])

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.outcome.events]


def open_incident(
    incident_id: str,
    first: DeviceEvent,
    *,
    incident_type: str,
    priority: int,
    status: IncidentStatus = IncidentStatus.NEW,
    extra_keys: Iterable[str] = (),
    place: Place = MAPLE_COURT,
) -> Incident:
    """An incident as storage would hand it back from an earlier batch."""
    return Incident(
        id=incident_id,
        type=incident_type,
        priority=priority,
        status=status,
        jpath=place.jpath,
        community_id=place.community_id,
        building_id=place.building_id,
        opened_at=first.received_ts,
        received_at=first.received_ts,
        first_device_ts=first.device_ts,
        last_event_at=first.received_ts,
        keys={dedupe_key(first), *extra_keys},
        devices={first.device_id},
        event_types={first.type},
    )
