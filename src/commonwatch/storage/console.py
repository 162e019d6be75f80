"""Read models for the operations console: compact, scoped, one query each.

The console keeps every open incident in memory and patches it from the change stream, so it needs
a few wide reads at start rather than many pages. Nothing here reads personal data (no notes).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from commonwatch.storage.incidents import Conn

MAX_QUEUE = 20_000


class QueueRow(msgspec.Struct, frozen=True, kw_only=True):
    """One open incident as the queue and the map show it, placed at its building or community."""

    id: str
    type: str
    priority: int
    status: str
    jpath: str
    community_id: str
    community_name: str | None
    building_id: str | None
    building_name: str | None
    lat: float | None
    lon: float | None
    event_count: int
    escalation_level: int
    opened_at: datetime
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    updated_at: datetime


class DevicePoint(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    community_id: str
    lat: float | None
    lon: float | None
    alarm: bool


class Jurisdiction(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    kind: str
    name: str
    timezone: str


class CommunityHealth(msgspec.Struct, frozen=True, kw_only=True):
    community_id: str
    name: str
    devices: int
    in_alarm: int
    silent: int  # nothing heard within the silence window


class QuietCommunity(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str


_QUEUE = """
SELECT i.id, i.type, i.priority, i.status, i.jpath, i.community_id, c.name AS community_name,
       i.building_id, b.name AS building_name,
       COALESCE(b.lat, c.lat) AS lat, COALESCE(b.lon, c.lon) AS lon,
       i.event_count, i.escalation_level, i.opened_at, i.acknowledged_at, i.dispatched_at,
       i.on_scene_at, i.updated_at
FROM incidents i
LEFT JOIN communities c ON c.id = i.community_id
LEFT JOIN buildings b ON b.id = i.building_id
WHERE i.status IN ('new', 'acknowledged', 'dispatched', 'on_scene')
  AND ($1::text = '' OR i.jpath <@ $1::ltree)
  AND ($2::text[] IS NULL OR i.id = ANY($2::text[]))
ORDER BY i.priority, i.opened_at
LIMIT $3
"""


async def open_queue(conn: Conn, *, scope: str, ids: list[str] | None = None) -> list[QueueRow]:
    rows = await conn.fetch(_QUEUE, scope, ids, MAX_QUEUE)
    return [QueueRow(**dict(r)) for r in rows]


async def device_points(conn: Conn, *, scope: str) -> list[DevicePoint]:
    rows = await conn.fetch(
        "SELECT d.id, d.kind, d.community_id, d.lat, d.lon, "
        "EXISTS (SELECT 1 FROM device_alarms a WHERE a.device_id = d.id) AS alarm "
        "FROM devices d WHERE $1 = '' OR d.jpath <@ $1::ltree ORDER BY d.id",
        scope,
    )
    return [DevicePoint(**dict(r)) for r in rows]


async def jurisdictions(conn: Conn, *, scope: str) -> list[Jurisdiction]:
    """Cities, districts and communities in the scope, and the scope's ancestors (time zones)."""
    rows = await conn.fetch(
        "SELECT path, kind, name, timezone FROM jurisdictions "
        "WHERE kind IN ('city', 'district', 'community') "
        "AND ($1 = '' OR path <@ $1::ltree OR path @> $1::ltree) ORDER BY path",
        scope,
    )
    return [Jurisdiction(**dict(r)) for r in rows]


async def community_health(
    conn: Conn, *, scope: str, heard_since: datetime
) -> list[CommunityHealth]:
    # One index probe per device (events_device): cheap, where a max() over a day of events is not.
    rows = await conn.fetch(
        "SELECT c.id AS community_id, c.name, count(d.id) AS devices, "
        "count(d.id) FILTER (WHERE EXISTS (SELECT 1 FROM device_alarms a "
        "  WHERE a.device_id = d.id)) AS in_alarm, "
        "count(d.id) FILTER (WHERE NOT EXISTS (SELECT 1 FROM events e "
        "  WHERE e.device_id = d.id AND e.received_ts >= $2)) AS silent "
        "FROM communities c LEFT JOIN devices d ON d.community_id = c.id "
        "WHERE $1 = '' OR c.jpath <@ $1::ltree GROUP BY c.id, c.name ORDER BY c.name",
        scope,
        heard_since,
    )
    return [CommunityHealth(**dict(r)) for r in rows]


async def open_by_priority(conn: Conn, *, scope: str) -> dict[int, int]:
    rows = await conn.fetch(
        "SELECT priority, count(*) AS n FROM incidents "
        "WHERE status IN ('new', 'acknowledged', 'dispatched', 'on_scene') "
        "AND ($1 = '' OR jpath <@ $1::ltree) GROUP BY priority",
        scope,
    )
    counts = dict.fromkeys(range(1, 6), 0)
    counts.update({r["priority"]: r["n"] for r in rows})
    return counts


async def quiet_communities(conn: Conn, *, scope: str, since: datetime) -> list[QuietCommunity]:
    rows = await conn.fetch(
        "SELECT c.id, c.name FROM communities c "
        "WHERE ($1 = '' OR c.jpath <@ $1::ltree) AND c.id NOT IN "
        "(SELECT DISTINCT community_id FROM incidents WHERE opened_at >= $2) ORDER BY c.name",
        scope,
        since,
    )
    return [QuietCommunity(id=r["id"], name=r["name"]) for r in rows]


class OpenAssignment(msgspec.Struct, frozen=True, kw_only=True):
    unit_id: str
    incident_id: str
    eta_s: float | None
    dispatched_at: datetime
    en_route_at: datetime | None
    on_scene_at: datetime | None


async def open_assignments(
    conn: Conn, *, scope: str, unit_id: str | None = None
) -> list[OpenAssignment]:
    """Units currently sent somewhere (the dispatch module's assignments, read only)."""
    rows = await conn.fetch(
        "SELECT unit_id, incident_id, eta_s, dispatched_at, en_route_at, on_scene_at "
        "FROM assignments WHERE cleared_at IS NULL AND ($1 = '' OR jpath <@ $1::ltree) "
        "AND ($2::text IS NULL OR unit_id = $2) ORDER BY dispatched_at",
        scope,
        unit_id,
    )
    return [OpenAssignment(**dict(r)) for r in rows]
