"""Read models for the API: incidents with their timeline, devices with their alarm state.

Every query takes the caller's scope (an ltree path, '' for everything) so that nothing outside
the caller's jurisdiction is ever read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from commonwatch.storage import registry
from commonwatch.storage.incidents import Conn


class IncidentView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str
    priority: int
    status: str
    resolution: str | None
    jpath: str
    community_id: str
    building_id: str | None
    event_count: int
    confidence: float
    escalation_level: int
    device_ids: list[str]
    event_types: list[str]
    first_device_ts: datetime
    received_at: datetime
    opened_at: datetime
    last_event_at: datetime
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    version: int


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    kind: str
    actor: str | None
    data: msgspec.Raw  # the domain event as it was recorded


class IncidentDetail(IncidentView, frozen=True, kw_only=True):
    timeline: list[TimelineEntry]


class IncidentFilter(msgspec.Struct, frozen=True, kw_only=True):
    """None means 'any'. `after` is the (opened_at, id) of the last row already seen."""

    scope: str = ""
    statuses: list[str] | None = None
    types: list[str] | None = None
    priorities: list[int] | None = None
    community: str | None = None
    jurisdiction: str | None = None
    since: datetime | None = None
    after: tuple[datetime, str] | None = None


class AlarmView(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str
    event_id: str
    since: datetime


class DeviceDetail(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    community_id: str
    building_id: str | None
    name: str | None
    lat: float | None
    lon: float | None
    jpath: str
    last_seen_at: datetime | None
    alarms: list[AlarmView]


_VIEW_COLUMNS = ", ".join(f for f in IncidentView.__struct_fields__)

_LIST = f"""
SELECT {_VIEW_COLUMNS} FROM incidents
WHERE ($1::text = '' OR jpath <@ $1::ltree)
  AND ($2::text[] IS NULL OR status = ANY($2::text[]))
  AND ($3::text[] IS NULL OR type = ANY($3::text[]))
  AND ($4::int[] IS NULL OR priority = ANY($4::int[]))
  AND ($5::text IS NULL OR community_id = $5::text)
  AND ($6::text IS NULL OR jpath <@ $6::ltree)
  AND ($7::timestamptz IS NULL OR opened_at >= $7::timestamptz)
  AND ($8::timestamptz IS NULL OR (opened_at, id) < ($8::timestamptz, $9::text))
ORDER BY opened_at DESC, id DESC
LIMIT $10
"""


async def list_incidents(conn: Conn, where: IncidentFilter, *, limit: int) -> list[IncidentView]:
    after_at, after_id = where.after if where.after else (None, "")
    rows = await conn.fetch(
        _LIST,
        where.scope,
        where.statuses,
        where.types,
        where.priorities,
        where.community,
        where.jurisdiction,
        where.since,
        after_at,
        after_id,
        limit,
    )
    return [IncidentView(**dict(r)) for r in rows]


async def get_incident(conn: Conn, incident_id: str, *, scope: str) -> IncidentView | None:
    row = await conn.fetchrow(
        f"SELECT {_VIEW_COLUMNS} FROM incidents WHERE id = $1 AND ($2 = '' OR jpath <@ $2::ltree)",
        incident_id,
        scope,
    )
    return IncidentView(**dict(row)) if row else None


async def timeline(conn: Conn, incident_id: str) -> list[TimelineEntry]:
    rows = await conn.fetch(
        "SELECT id, at, kind, actor, data::text AS data FROM incident_timeline "
        "WHERE incident_id = $1 ORDER BY at, id",
        incident_id,
    )
    return [
        TimelineEntry(
            id=r["id"], at=r["at"], kind=r["kind"], actor=r["actor"], data=msgspec.Raw(r["data"])
        )
        for r in rows
    ]


async def incident_detail(conn: Conn, incident_id: str, *, scope: str) -> IncidentDetail | None:
    view = await get_incident(conn, incident_id, scope=scope)
    if view is None:
        return None
    entries = await timeline(conn, incident_id)
    fields = msgspec.structs.asdict(view)
    return IncidentDetail(**fields, timeline=entries)


async def device_detail(conn: Conn, device_id: str, *, scope: str) -> DeviceDetail | None:
    row = await conn.fetchrow(
        "SELECT id, kind, community_id, building_id, name, lat, lon, jpath, "
        "(SELECT max(received_ts) FROM events e WHERE e.device_id = d.id) AS last_seen_at "
        "FROM devices d WHERE id = $1 AND ($2 = '' OR jpath <@ $2::ltree)",
        device_id,
        scope,
    )
    if row is None:
        return None
    alarms = [
        AlarmView(event_type=a["event_type"], event_id=a["event_id"], since=a["since"])
        for a in await registry.device_alarms(conn, device_id)
    ]
    return DeviceDetail(**dict(row), alarms=alarms)


async def missing_jurisdictions(conn: Conn, paths: Sequence[str]) -> list[str]:
    """Those of `paths` that have no row in jurisdictions yet, in the order given."""
    found = await conn.fetch(
        "SELECT path FROM jurisdictions WHERE path::text = ANY($1::text[])", list(paths)
    )
    known = {r["path"] for r in found}
    return [p for p in paths if p not in known]
