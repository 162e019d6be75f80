"""Events: COPY a batch in, idempotent on id, each row with the place it was resolved to.

`insert_all` COPYs straight into `events`. A batch that holds an id already stored (a
redelivery after a crash, a device resending) fails there with a unique violation, which aborts
the transaction; the use case then runs again with `insert_new`, which writes through a temp
table with `ON CONFLICT DO NOTHING` and tells which rows were new.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from commonwatch.domain.model import DeviceEvent, EventState, Place
from commonwatch.storage.incidents import Conn

_COLUMNS = (
    "id", "device_id", "community_id", "type", "state", "value", "source",
    "device_ts", "received_ts", "stream_seq", "jpath",
)  # fmt: skip

_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS incoming_events (
    id text, device_id text, community_id text, type text, state text, value float8,
    source text, device_ts timestamptz, received_ts timestamptz, stream_seq bigint, jpath ltree
) ON COMMIT DELETE ROWS
"""

_INSERT_NEW = f"""
INSERT INTO events ({", ".join(_COLUMNS)})
SELECT {", ".join(_COLUMNS)} FROM incoming_events
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


def _record(e: DeviceEvent, seq: int | None, place: Place) -> tuple[object, ...]:
    return (
        e.id, e.device_id, place.community_id, e.type, e.state.value, e.value, e.source,
        e.device_ts, e.received_ts, seq, place.jpath,
    )  # fmt: skip


async def insert_all(
    conn: Conn, events: Sequence[DeviceEvent], seqs: Sequence[int | None], places: Sequence[Place]
) -> tuple[int, list[tuple[DeviceEvent, Place]]]:
    """The fast path: every event is new, or asyncpg.UniqueViolationError."""
    await conn.copy_records_to_table(
        "events", records=_records(events, seqs, places), columns=_COLUMNS
    )
    return len(events), _notable(events, places, None)


async def insert_new(
    conn: Conn, events: Sequence[DeviceEvent], seqs: Sequence[int | None], places: Sequence[Place]
) -> tuple[int, list[tuple[DeviceEvent, Place]]]:
    """(count inserted, the inserted non-info events with places), in receive order."""
    new = await _insert_missing(conn, _records(events, seqs, places))
    return len(new), _notable(events, places, new)


def _records(
    events: Sequence[DeviceEvent], seqs: Sequence[int | None], places: Sequence[Place]
) -> list[tuple[object, ...]]:
    return [_record(*row) for row in zip(events, seqs, places, strict=True)]


def _notable(
    events: Sequence[DeviceEvent], places: Sequence[Place], new: set[str] | None
) -> list[tuple[DeviceEvent, Place]]:
    """Non-info events that were stored (all when `new` is None), sorted by receive time."""
    notable = [
        (_placed(e, p), p)
        for e, p in zip(events, places, strict=True)
        if e.state is not EventState.INFO and (new is None or e.id in new)
    ]
    notable.sort(key=lambda pair: (pair[0].received_ts, pair[0].id))
    return notable


async def _insert_missing(conn: Conn, records: list[tuple[object, ...]]) -> set[str]:
    await conn.execute(_TEMP)  # per session; a no-op after the first time on a connection
    await conn.copy_records_to_table("incoming_events", records=records, columns=_COLUMNS)
    rows = await conn.fetch(_INSERT_NEW)
    return {r["id"] for r in rows}


def _placed(event: DeviceEvent, place: Place) -> DeviceEvent:
    if event.community_id == place.community_id:
        return event
    return msgspec.structs.replace(event, community_id=place.community_id)


async def link_incidents(conn: Conn, event_incident: dict[str, str]) -> None:
    if event_incident:
        await conn.execute(
            "UPDATE events SET incident_id = x.incident_id "
            "FROM unnest($1::text[], $2::text[]) AS x(event_id, incident_id) "
            "WHERE events.id = x.event_id",
            list(event_incident),
            list(event_incident.values()),
        )
