"""Events: COPY a batch in, keep only the new ones (idempotent on id), learn their places."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from commonwatch.domain.model import UNASSIGNED_PATH, DeviceEvent, EventState, Place
from commonwatch.storage.incidents import Conn

_COLUMNS = (
    "id", "device_id", "community_id", "type", "state", "value", "source",
    "device_ts", "received_ts", "stream_seq",
)  # fmt: skip

_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS incoming_events (
    id text, device_id text, community_id text, type text, state text, value float8,
    source text, device_ts timestamptz, received_ts timestamptz, stream_seq bigint
) ON COMMIT DELETE ROWS
"""

# Insert what is new; hand back the non-info ones with their place, resolved from the registry.
_INSERT = f"""
WITH ins AS (
    INSERT INTO events ({", ".join(_COLUMNS)}, jpath)
    SELECT t.id, t.device_id, COALESCE(d.community_id, NULLIF(t.community_id, ''), 'unassigned'),
           t.type, t.state, t.value, t.source, t.device_ts, t.received_ts, t.stream_seq,
           COALESCE(d.jpath, c.jpath, '{UNASSIGNED_PATH}'::ltree)
    FROM incoming_events t
    LEFT JOIN devices d ON d.id = t.device_id
    LEFT JOIN communities c ON c.id = t.community_id
    ON CONFLICT (id) DO NOTHING
    RETURNING id, device_id, community_id, type, state, value, source, device_ts, received_ts,
              stream_seq, jpath
)
SELECT x.*, (SELECT count(*) FROM ins) AS inserted
FROM (SELECT 1) AS one
LEFT JOIN (
    SELECT ins.*, d.building_id FROM ins LEFT JOIN devices d ON d.id = ins.device_id
    WHERE ins.state <> 'info'
) AS x ON true
"""


async def prepare(conn: asyncpg.Connection) -> None:
    await conn.execute(_TEMP)


def _record(e: DeviceEvent, seq: int | None) -> tuple[object, ...]:
    return (
        e.id, e.device_id, e.community_id, e.type, e.state.value, e.value, e.source,
        e.device_ts, e.received_ts, seq,
    )  # fmt: skip


async def insert_new(
    conn: Conn, events: Sequence[DeviceEvent], seqs: Sequence[int | None]
) -> tuple[int, list[tuple[DeviceEvent, Place]]]:
    """(count inserted, the inserted non-info events with places), in receive order."""
    records = [_record(e, s) for e, s in zip(events, seqs, strict=True)]
    await conn.execute(_TEMP)  # per session; a no-op after the first batch on a connection
    await conn.copy_records_to_table("incoming_events", records=records, columns=_COLUMNS)
    # The query always returns at least one row; `id` is NULL when no new event is notable.
    rows = await conn.fetch(_INSERT)
    inserted = int(rows[0]["inserted"])
    notable = [_with_place(r) for r in rows if r["id"] is not None]
    notable.sort(key=lambda pair: (pair[0].received_ts, pair[0].id))
    return inserted, notable


def _with_place(row: asyncpg.Record) -> tuple[DeviceEvent, Place]:
    event = DeviceEvent(
        id=row["id"],
        device_id=row["device_id"],
        community_id=row["community_id"],
        type=row["type"],
        state=EventState(row["state"]),
        device_ts=row["device_ts"],
        received_ts=row["received_ts"],
        value=row["value"],
        source=row["source"],
    )
    return event, Place(row["community_id"], row["building_id"], row["jpath"])


async def link_incidents(conn: Conn, event_incident: dict[str, str]) -> None:
    if event_incident:
        await conn.execute(
            "UPDATE events SET incident_id = x.incident_id "
            "FROM unnest($1::text[], $2::text[]) AS x(event_id, incident_id) "
            "WHERE events.id = x.event_id",
            list(event_incident),
            list(event_incident.values()),
        )
