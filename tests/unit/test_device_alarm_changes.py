"""Alarm state changes of a batch reduce to the last one per device and type."""

from __future__ import annotations

from datetime import UTC, datetime

from commonwatch.domain.events import DeviceAlarmCleared, DeviceAlarmRaised, IncidentOpened
from commonwatch.storage.devices import final_changes

AT = datetime(2026, 11, 29, tzinfo=UTC)


def raised(device: str, kind: str, event_id: str) -> DeviceAlarmRaised:
    return DeviceAlarmRaised(at=AT, device_id=device, event_type=kind, event_id=event_id)


def cleared(device: str, kind: str, event_id: str) -> DeviceAlarmCleared:
    return DeviceAlarmCleared(at=AT, device_id=device, event_type=kind, event_id=event_id)


def test_the_last_change_per_device_and_type_wins() -> None:
    changes = final_changes(
        [
            raised("d1", "smoke", "e1"),
            cleared("d1", "smoke", "e2"),
            cleared("d2", "water_leak", "e3"),
            raised("d2", "water_leak", "e4"),
            raised("d1", "heat", "e5"),
        ]
    )
    assert changes == [
        cleared("d1", "smoke", "e2"),
        raised("d2", "water_leak", "e4"),
        raised("d1", "heat", "e5"),
    ]


def test_other_domain_events_are_not_alarm_changes() -> None:
    opened = IncidentOpened(
        at=AT, incident_id="i1", incident_type="fire", priority=1, jpath="x", community_id="c",
        building_id=None, event_id="e1", device_id="d1", event_type="smoke",
    )  # fmt: skip
    assert final_changes([opened]) == []
