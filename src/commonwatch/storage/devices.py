"""Device alarm state: one row per device and event type while it is in alarm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commonwatch.domain.events import DeviceAlarmCleared, DeviceAlarmRaised, DomainEvent
from commonwatch.storage.incidents import Conn


async def apply_alarm_changes(
    conn: Conn, events: Sequence[DomainEvent], jpaths: Mapping[str, str]
) -> None:
    for event in events:
        if isinstance(event, DeviceAlarmRaised):
            await conn.execute(
                "INSERT INTO device_alarms (device_id, event_type, event_id, since, jpath) "
                "VALUES ($1, $2, $3, $4, $5::ltree) ON CONFLICT (device_id, event_type) "
                "DO UPDATE SET event_id = EXCLUDED.event_id",
                event.device_id,
                event.event_type,
                event.event_id,
                event.at,
                jpaths.get(event.device_id, "unassigned"),
            )
        elif isinstance(event, DeviceAlarmCleared):
            await conn.execute(
                "DELETE FROM device_alarms WHERE device_id = $1 AND event_type = $2",
                event.device_id,
                event.event_type,
            )
