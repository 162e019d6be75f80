"""Correlation: device events in, incidents and device-state changes out. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from commonwatch.domain.events import (
    DeviceAlarmCleared,
    DeviceAlarmRaised,
    DomainEvent,
    EventCorrelated,
    IncidentOpened,
    IncidentResolved,
)
from commonwatch.domain.model import (
    DeviceEvent,
    EventState,
    Incident,
    IncidentStatus,
    Place,
)
from commonwatch.domain.rules import GroupRule, Rules


def dedupe_key(event: DeviceEvent) -> str:
    return f"dev:{event.device_id}:{event.type}"


def group_key(group: GroupRule, place: Place) -> str:
    scope_id = place.building_id if group.scope == "building" and place.building_id else None
    return f"grp:{group.name}:{scope_id or 'c:' + place.community_id}"


def keys_for(event: DeviceEvent, place: Place, rules: Rules) -> list[str]:
    """Correlation keys under which an earlier incident could take this event."""
    if event.state is EventState.INFO or rules.mapping_for(event.type) is None:
        return []
    keys = [dedupe_key(event)]
    group = rules.group_for(event.type)
    if group is not None and event.state is EventState.ALARM:
        keys.append(group_key(group, place))
    return keys


@dataclass
class Outcome:
    """What one batch of events did: domain events in order and the incidents they touched."""

    events: list[DomainEvent] = field(default_factory=list)
    touched: dict[str, Incident] = field(default_factory=dict)
    opened: set[str] = field(default_factory=set)
    event_incident: dict[str, str] = field(default_factory=dict)


class Correlator:
    """Applies the rules to events one by one, over the open incidents it was given."""

    def __init__(self, rules: Rules, open_incidents: Iterable[Incident], new_id: Callable[[], str]):
        self._rules = rules
        self._new_id = new_id
        self._by_key: dict[str, Incident] = {}
        for incident in sorted(open_incidents, key=lambda i: i.last_event_at):
            self._index(incident)
        self.outcome = Outcome()

    def _index(self, incident: Incident) -> None:
        for key in incident.keys:
            self._by_key[key] = incident

    def apply(self, event: DeviceEvent, place: Place) -> None:
        if event.state is EventState.ALARM:
            self._alarm(event, place)
        elif event.state is EventState.RESTORE:
            self._restore(event)

    def _alarm(self, event: DeviceEvent, place: Place) -> None:
        mapping = self._rules.mapping_for(event.type)
        if mapping is None:
            return
        self._emit(DeviceAlarmRaised(at=event.received_ts, **_device_fields(event)))
        group = self._rules.group_for(event.type)
        incident = self._match(event, place, group)
        if incident is None:
            self._open(event, place, mapping.incident, group)
        else:
            self._join(incident, event, group)

    def _match(self, event: DeviceEvent, place: Place, group: GroupRule | None) -> Incident | None:
        found = self._live(dedupe_key(event), event.received_ts, self._rules.dedupe_window_s)
        if found is None and group is not None:
            found = self._live(group_key(group, place), event.received_ts, group.window_s)
        return found

    def _live(self, key: str, now: datetime, window_s: float) -> Incident | None:
        incident = self._by_key.get(key)
        if incident is None or not incident.is_open:
            return None
        if (now - incident.last_event_at).total_seconds() > window_s:
            return None
        return incident

    def _open(self, event: DeviceEvent, place: Place, itype: str, group: GroupRule | None) -> None:
        incident = Incident(
            id=self._new_id(),
            type=itype,
            priority=self._rules.priority_of(itype),
            status=IncidentStatus.NEW,
            jpath=place.jpath,
            community_id=place.community_id,
            building_id=place.building_id,
            opened_at=event.received_ts,
            received_at=event.received_ts,
            first_device_ts=event.device_ts,
            last_event_at=event.received_ts,
            keys={dedupe_key(event)} | ({group_key(group, place)} if group else set()),
            devices={event.device_id},
            event_types={event.type},
        )
        self._index(incident)
        self.outcome.opened.add(incident.id)
        self._record(incident, event)
        self._emit(
            IncidentOpened(
                at=event.received_ts,
                incident_id=incident.id,
                incident_type=itype,
                priority=incident.priority,
                jpath=place.jpath,
                community_id=place.community_id,
                building_id=place.building_id,
                **_device_fields(event),
            )
        )

    def _join(self, incident: Incident, event: DeviceEvent, group: GroupRule | None) -> None:
        incident.event_count += 1
        incident.last_event_at = max(incident.last_event_at, event.received_ts)
        incident.event_types.add(event.type)
        incident.keys.add(dedupe_key(event))
        if event.device_id not in incident.devices:
            incident.devices.add(event.device_id)
            self._corroborate(incident, group)
        self._index(incident)
        self._record(incident, event)
        self._emit(
            EventCorrelated(
                at=event.received_ts,
                incident_id=incident.id,
                event_count=incident.event_count,
                priority=incident.priority,
                confidence=incident.confidence,
                **_device_fields(event),
            )
        )

    def _corroborate(self, incident: Incident, group: GroupRule | None) -> None:
        """Another device saw it too: more confidence, and with a group rule, more urgency."""
        devices = len(incident.devices)
        incident.confidence = round(1.0 - 0.5**devices, 4)
        if group is not None:
            # An incident opened under earlier rules may have a type these rules no longer define.
            itype = self._rules.incident_types.get(incident.type)
            base = itype.priority if itype else incident.priority
            raised = base - group.raise_priority_per_device * (devices - 1)
            incident.priority = max(1, min(incident.priority, raised))

    def _restore(self, event: DeviceEvent) -> None:
        mapping = self._rules.mapping_for(event.type)
        if mapping is None:
            return
        self._emit(DeviceAlarmCleared(at=event.received_ts, **_device_fields(event)))
        incident = self._by_key.get(dedupe_key(event))
        if incident is None or not incident.is_open or not mapping.auto_resolve_on_restore:
            return
        incident.status = IncidentStatus.RESOLVED
        self._record(incident, event)
        self._emit(
            IncidentResolved(
                at=event.received_ts,
                incident_id=incident.id,
                resolution="handled",
                by="rule:auto_resolve_on_restore",
                note=f"{event.type} restored on device {event.device_id}",
            )
        )

    def _record(self, incident: Incident, event: DeviceEvent) -> None:
        self.outcome.touched[incident.id] = incident
        self.outcome.event_incident[event.id] = incident.id

    def _emit(self, event: DomainEvent) -> None:
        self.outcome.events.append(event)


def _device_fields(event: DeviceEvent) -> dict[str, str]:
    return {"event_id": event.id, "device_id": event.device_id, "event_type": event.type}
