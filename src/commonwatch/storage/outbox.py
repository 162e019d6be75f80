"""The outbox: what others must hear, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commonwatch.bus.subjects import change_subject
from commonwatch.domain.events import (
    DeviceAlarmCleared,
    DeviceAlarmRaised,
    DomainEvent,
    encode,
)
from commonwatch.storage.incidents import Conn


def subject_for(event: DomainEvent) -> str:
    if isinstance(event, DeviceAlarmRaised | DeviceAlarmCleared):
        return change_subject("device", event.device_id)
    unit_id = getattr(event, "unit_id", None)
    if event.incident_ref is None and isinstance(unit_id, str):
        return change_subject("unit", unit_id)
    return change_subject("incident", event.incident_ref or "none")


async def append(
    conn: Conn, events: Sequence[DomainEvent], jpaths: Mapping[str, str], default_jpath: str
) -> None:
    """One outbox row per event; `jpaths` maps incident or device ids to their jurisdiction."""
    rows = []
    for event in events:
        ref = event.incident_ref or str(getattr(event, "device_id", ""))
        rows.append((subject_for(event), encode(event), jpaths.get(ref, default_jpath)))
    if rows:
        await conn.executemany(
            "INSERT INTO outbox (subject, payload, jpath) VALUES ($1, $2, $3::ltree)", rows
        )
    if rows:
        await conn.execute("SELECT pg_notify('outbox', '')")
