"""Device alarm state: one row per device and event type while it is in alarm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commonwatch.domain.events import DeviceAlarmCleared, DeviceAlarmRaised, DomainEvent
from commonwatch.storage.incidents import Conn

AlarmChange = DeviceAlarmRaised | DeviceAlarmCleared

_RAISE = """
INSERT INTO device_alarms (device_id, event_type, event_id, since, jpath)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::ltree[])
ON CONFLICT (device_id, event_type) DO UPDATE SET event_id = EXCLUDED.event_id
"""

_CLEAR = """
DELETE FROM device_alarms a USING unnest($1::text[], $2::text[]) AS x(device_id, event_type)
WHERE a.device_id = x.device_id AND a.event_type = x.event_type
"""


def final_changes(events: Sequence[DomainEvent]) -> list[AlarmChange]:
    """The last change per (device, type): a batch's alarm then restore ends cleared."""
    last: dict[tuple[str, str], AlarmChange] = {}
    for e in events:
        if isinstance(e, DeviceAlarmRaised | DeviceAlarmCleared):
            last[(e.device_id, e.event_type)] = e
    return list(last.values())


async def apply_alarm_changes(
    conn: Conn, events: Sequence[DomainEvent], jpaths: Mapping[str, str]
) -> None:
    """At most two statements per batch, whatever the number of changes."""
    changes = final_changes(events)
    raised = [c for c in changes if isinstance(c, DeviceAlarmRaised)]
    cleared = [c for c in changes if isinstance(c, DeviceAlarmCleared)]
    if raised:
        await conn.execute(
            _RAISE,
            [c.device_id for c in raised],
            [c.event_type for c in raised],
            [c.event_id for c in raised],
            [c.at for c in raised],
            [jpaths.get(c.device_id, "unassigned") for c in raised],
        )
    if cleared:
        await conn.execute(_CLEAR, [c.device_id for c in cleared], [c.event_type for c in cleared])
