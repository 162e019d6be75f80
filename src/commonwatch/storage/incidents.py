"""Incident persistence. Functions work inside the caller's transaction; none commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg
import msgspec

from commonwatch.domain.escalation import TimerSpec
from commonwatch.domain.events import DomainEvent, kind_of
from commonwatch.domain.model import Incident, IncidentStatus, Resolution

Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

INCIDENT_COLUMNS = (
    "id, type, priority, status, jpath, community_id, building_id, opened_at, received_at, "
    "first_device_ts, last_event_at, event_count, confidence, escalation_level, "
    "correlation_keys, device_ids, event_types"
)


def incident_from_row(row: asyncpg.Record) -> Incident:
    return Incident(
        id=row["id"],
        type=row["type"],
        priority=row["priority"],
        status=IncidentStatus(row["status"]),
        jpath=row["jpath"],
        community_id=row["community_id"],
        building_id=row["building_id"],
        opened_at=row["opened_at"],
        received_at=row["received_at"],
        first_device_ts=row["first_device_ts"],
        last_event_at=row["last_event_at"],
        event_count=row["event_count"],
        confidence=row["confidence"],
        escalation_level=row["escalation_level"],
        keys=set(row["correlation_keys"]),
        devices=set(row["device_ids"]),
        event_types=set(row["event_types"]),
    )


async def lock_keys(conn: Conn, keys: Iterable[str]) -> None:
    """Serialise correlation on these keys across workers until the transaction ends."""
    ordered = sorted(set(keys))
    if ordered:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest($1::text[]) AS k ORDER BY k",
            ordered,
        )


async def open_by_keys(conn: Conn, keys: Sequence[str]) -> list[Incident]:
    rows = await conn.fetch(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents "
        "WHERE status IN ('new', 'acknowledged', 'dispatched', 'on_scene') "
        "AND correlation_keys && $1::text[] FOR UPDATE",
        list(keys),
    )
    return [incident_from_row(r) for r in rows]


async def get_for_update(conn: Conn, incident_id: str) -> Incident | None:
    row = await conn.fetchrow(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE", incident_id
    )
    return incident_from_row(row) if row else None


_UPSERT = """
INSERT INTO incidents (id, type, priority, status, jpath, community_id, building_id, opened_at,
    received_at, first_device_ts, last_event_at, event_count, confidence, escalation_level,
    correlation_keys, device_ids, event_types, resolved_at, resolution)
VALUES ($1, $2, $3, $4::text, $5::ltree, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
    CASE WHEN $4::text = 'resolved' THEN $11::timestamptz END,
    CASE WHEN $4::text = 'resolved' THEN 'handled' END)
ON CONFLICT (id) DO UPDATE SET
    priority = EXCLUDED.priority, status = EXCLUDED.status, event_count = EXCLUDED.event_count,
    confidence = EXCLUDED.confidence, correlation_keys = EXCLUDED.correlation_keys,
    device_ids = EXCLUDED.device_ids, event_types = EXCLUDED.event_types,
    last_event_at = EXCLUDED.last_event_at,
    resolved_at = COALESCE(incidents.resolved_at, EXCLUDED.resolved_at),
    resolution = COALESCE(incidents.resolution, EXCLUDED.resolution),
    updated_at = now(), version = incidents.version + 1
"""


def _upsert_args(i: Incident) -> tuple[object, ...]:
    return (
        i.id, i.type, i.priority, i.status.value, i.jpath, i.community_id, i.building_id,
        i.opened_at, i.received_at, i.first_device_ts, i.last_event_at, i.event_count,
        i.confidence, i.escalation_level, sorted(i.keys), sorted(i.devices), sorted(i.event_types),
    )  # fmt: skip


async def save_correlated(conn: Conn, incidents: Iterable[Incident]) -> None:
    args = [_upsert_args(i) for i in incidents]
    if args:
        await conn.executemany(_UPSERT, args)


async def set_status(
    conn: Conn,
    incident_id: str,
    status: IncidentStatus,
    *,
    at: datetime,
    resolution: Resolution | None = None,
) -> None:
    column = {
        IncidentStatus.ACKNOWLEDGED: "acknowledged_at",
        IncidentStatus.DISPATCHED: "dispatched_at",
        IncidentStatus.ON_SCENE: "on_scene_at",
        IncidentStatus.RESOLVED: "resolved_at",
        IncidentStatus.CLOSED: "closed_at",
    }[status]
    await conn.execute(
        f"UPDATE incidents SET status = $2, {column} = COALESCE({column}, $3), "
        "resolution = COALESCE($4, resolution), updated_at = now(), version = version + 1 "
        "WHERE id = $1",
        incident_id,
        status.value,
        at,
        resolution.value if resolution else None,
    )


async def set_escalation(conn: Conn, incident_id: str, *, level: int, priority: int) -> None:
    await conn.execute(
        "UPDATE incidents SET escalation_level = $2, priority = LEAST(priority, $3), "
        "updated_at = now(), version = version + 1 WHERE id = $1",
        incident_id,
        level,
        priority,
    )


async def append_timeline(conn: Conn, events: Sequence[DomainEvent], actor: str | None) -> None:
    rows = [
        (e.incident_ref, e.at, kind_of(e), actor or getattr(e, "by", None), _json(e))
        for e in events
        if e.incident_ref
    ]
    if rows:
        await conn.executemany(
            "INSERT INTO incident_timeline (incident_id, at, kind, actor, data) "
            "VALUES ($1, $2, $3, $4, $5::jsonb)",
            rows,
        )


def _json(event: DomainEvent) -> str:
    return msgspec.json.encode(event).decode()


async def add_timers(conn: Conn, timers: Iterable[TimerSpec]) -> None:
    rows = [(t.incident_id, t.kind, t.level, t.due_at) for t in timers]
    if rows:
        await conn.executemany(
            "INSERT INTO timers (incident_id, kind, level, due_at) VALUES ($1, $2, $3, $4)", rows
        )


async def cancel_timers(conn: Conn, incident_ids: Sequence[str]) -> None:
    if incident_ids:
        await conn.execute(
            "UPDATE timers SET cancelled_at = now() "
            "WHERE incident_id = ANY($1::text[]) AND fired_at IS NULL AND cancelled_at IS NULL",
            list(incident_ids),
        )
