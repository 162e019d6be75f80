"""Evidence links, source device states, unit positions, device health and bridge connections.
Functions never commit: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from commonwatch.ingest.bridge.outputs import Evidence, Position, Scalar, StateSnapshot, UnitGone
from commonwatch.storage.incidents import Conn

# The jurisdiction of a device: its registry entry, else its community, else unassigned.
_DEVICE_JPATH = (
    "COALESCE((SELECT jpath FROM devices WHERE id = {d}), "
    "(SELECT jpath FROM communities WHERE id = {c}), 'unassigned'::ltree)"
)

# --- source device states --------------------------------------------------------------------

_values = msgspec.json.Decoder(dict[str, Scalar])


async def load_states(conn: Conn) -> list[StateSnapshot]:
    rows = await conn.fetch("SELECT source, device_key, seq, state::text AS s FROM source_states")
    return [
        StateSnapshot(r["source"], r["device_key"], r["seq"], _values.decode(r["s"])) for r in rows
    ]


async def save_states(conn: Conn, snapshots: Sequence[StateSnapshot]) -> None:
    if snapshots:
        await conn.executemany(
            "INSERT INTO source_states (source, device_key, seq, state) VALUES ($1, $2, $3, "
            "$4::jsonb) ON CONFLICT (source, device_key) DO UPDATE SET seq = EXCLUDED.seq, "
            "state = EXCLUDED.state, updated_at = now()",
            [(s.source, s.key, s.seq, msgspec.json.encode(s.values).decode()) for s in snapshots],
        )


# --- evidence --------------------------------------------------------------------------------


class EvidenceView(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    kind: str
    url: str
    device_id: str | None
    created_at: datetime


async def add_evidence(conn: Conn, items: Sequence[Evidence]) -> None:
    if items:
        await conn.executemany(
            "INSERT INTO evidence (event_id, kind, url, jpath) VALUES ($1, $2, $3, "
            + _DEVICE_JPATH.format(d="$4", c="$5")
            + ") ON CONFLICT (event_id, kind) DO NOTHING",
            [(e.event_id, e.kind, e.url, e.device, e.community or "") for e in items],
        )


async def link_evidence(conn: Conn) -> int:
    """Copy the incident of each linked event onto its evidence, so the link outlives the
    event's retention."""
    status = await conn.execute(
        "UPDATE evidence SET incident_id = ev.incident_id FROM events ev "
        "WHERE evidence.incident_id IS NULL AND ev.id = evidence.event_id "
        "AND ev.incident_id IS NOT NULL"
    )
    return int(status.rsplit(" ", 1)[-1])


async def evidence_for_incident(conn: Conn, incident_id: str) -> list[EvidenceView]:
    rows = await conn.fetch(
        "SELECT x.event_id, x.kind, x.url, ev.device_id, x.created_at FROM evidence x "
        "LEFT JOIN events ev ON ev.id = x.event_id "
        "WHERE x.incident_id = $1 OR (x.incident_id IS NULL AND ev.incident_id = $1) "
        "ORDER BY x.created_at, x.id",
        incident_id,
    )
    return [EvidenceView(**dict(r)) for r in rows]


# --- unit positions --------------------------------------------------------------------------


class UnitPositionView(msgspec.Struct, frozen=True, kw_only=True):
    unit_id: str
    lat: float
    lon: float
    accuracy_m: float | None
    speed_kmh: float | None
    battery: float | None
    at: datetime
    connected: bool


async def save_positions(conn: Conn, positions: Sequence[Position]) -> None:
    if not positions:
        return
    # A position older than the one stored (a replayed backlog) only adds a track point.
    await conn.executemany(
        "INSERT INTO unit_positions (unit_id, lat, lon, accuracy_m, speed_kmh, battery, at, "
        "jpath) VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE((SELECT jpath FROM communities "
        "WHERE id = $8), ''::ltree)) ON CONFLICT (unit_id) DO UPDATE SET lat = EXCLUDED.lat, "
        "lon = EXCLUDED.lon, accuracy_m = EXCLUDED.accuracy_m, speed_kmh = EXCLUDED.speed_kmh, "
        "battery = EXCLUDED.battery, at = EXCLUDED.at, jpath = EXCLUDED.jpath, connected = true, "
        "updated_at = now() WHERE unit_positions.at <= EXCLUDED.at",
        [
            (p.unit_id, p.lat, p.lon, p.accuracy_m, p.speed_kmh, p.battery, p.at, p.community)
            for p in positions
        ],
    )
    await conn.executemany(
        "INSERT INTO unit_tracks (unit_id, at, lat, lon) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING",
        [(p.unit_id, p.at, p.lat, p.lon) for p in positions],
    )


async def mark_gone(conn: Conn, gone: Sequence[UnitGone]) -> None:
    if gone:
        await conn.executemany(
            "UPDATE unit_positions SET connected = false, updated_at = now() "
            "WHERE unit_id = $1 AND at <= $2",
            [(g.unit_id, g.at) for g in gone],
        )


async def unit_positions(conn: Conn, *, scope: str) -> list[UnitPositionView]:
    """Units in `scope`; units placed in no community only for callers who see everything."""
    rows = await conn.fetch(
        "SELECT unit_id, lat, lon, accuracy_m, speed_kmh, battery, at, connected "
        "FROM unit_positions WHERE $1 = '' OR (jpath <> '' AND jpath <@ $1::ltree) "
        "ORDER BY unit_id",
        scope,
    )
    return [UnitPositionView(**dict(r)) for r in rows]


# --- device health ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthRow:
    device_id: str
    state: str
    issues: frozenset[str]
    since: datetime


class UnhealthyDevice(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    state: str
    issues: list[str]
    since: datetime
    updated_at: datetime
    open_tickets: int


async def health_for_update(conn: Conn, device_ids: Sequence[str]) -> dict[str, HealthRow]:
    rows = await conn.fetch(
        "SELECT device_id, state, issues, since FROM device_health "
        "WHERE device_id = ANY($1::text[]) ORDER BY device_id FOR UPDATE",
        list(device_ids),
    )
    return {
        r["device_id"]: HealthRow(r["device_id"], r["state"], frozenset(r["issues"]), r["since"])
        for r in rows
    }


async def write_health(conn: Conn, row: HealthRow, community_id: str) -> None:
    await conn.execute(
        "INSERT INTO device_health (device_id, community_id, state, issues, since, jpath) "
        "VALUES ($1, $2, $3, $4, $5, " + _DEVICE_JPATH.format(d="$1", c="$2") + ") "
        "ON CONFLICT (device_id) DO UPDATE SET state = EXCLUDED.state, issues = EXCLUDED.issues, "
        "since = EXCLUDED.since, updated_at = now(), community_id = CASE WHEN "
        "EXCLUDED.community_id = '' THEN device_health.community_id ELSE EXCLUDED.community_id END",
        row.device_id,
        community_id,
        row.state,
        sorted(row.issues),
        row.since,
    )


async def open_tickets(conn: Conn, device_id: str, issues: Sequence[str], at: datetime) -> None:
    if issues:
        await conn.executemany(
            "INSERT INTO maintenance_tickets (device_id, issue, opened_at, jpath) "
            "SELECT $1, $2, $3, COALESCE((SELECT jpath FROM device_health WHERE device_id = $1), "
            "''::ltree) ON CONFLICT (device_id, issue) WHERE closed_at IS NULL DO NOTHING",
            [(device_id, issue, at) for issue in issues],
        )


async def close_tickets(conn: Conn, device_id: str, issues: Sequence[str], at: datetime) -> None:
    if issues:
        await conn.execute(
            "UPDATE maintenance_tickets SET closed_at = $3 WHERE device_id = $1 "
            "AND issue = ANY($2::text[]) AND closed_at IS NULL",
            device_id,
            list(issues),
            at,
        )


async def silent_devices(conn: Conn, cutoff: datetime) -> list[tuple[str, str]]:
    """(device, community) of devices not heard from since `cutoff`: registered devices older
    than the cut-off, and devices health already knows of."""
    rows = await conn.fetch(
        "WITH known AS (SELECT id AS device_id, community_id, created_at FROM devices "
        "UNION SELECT device_id, community_id, since FROM device_health "
        "WHERE NOT (device_id IN (SELECT id FROM devices))) "
        "SELECT k.device_id, k.community_id FROM known k WHERE k.created_at < $1 AND NOT EXISTS "
        "(SELECT 1 FROM events e WHERE e.device_id = k.device_id AND e.received_ts >= $1) "
        "AND NOT EXISTS (SELECT 1 FROM device_health h WHERE h.device_id = k.device_id "
        "AND 'stale' = ANY(h.issues)) ORDER BY 1",
        cutoff,
    )
    return [(r["device_id"], r["community_id"]) for r in rows]


async def heard_again(conn: Conn, cutoff: datetime) -> list[tuple[str, str]]:
    """(device, community) of stale devices that have sent something since `cutoff`."""
    rows = await conn.fetch(
        "SELECT h.device_id, h.community_id FROM device_health h WHERE 'stale' = ANY(h.issues) "
        "AND EXISTS (SELECT 1 FROM events e WHERE e.device_id = h.device_id "
        "AND e.received_ts >= $1) ORDER BY 1",
        cutoff,
    )
    return [(r["device_id"], r["community_id"]) for r in rows]


async def unhealthy_devices(conn: Conn, community_id: str) -> list[UnhealthyDevice]:
    rows = await conn.fetch(
        "SELECT h.device_id, h.state, h.issues, h.since, h.updated_at, "
        "(SELECT count(*) FROM maintenance_tickets t WHERE t.device_id = h.device_id "
        "AND t.closed_at IS NULL) AS open_tickets FROM device_health h "
        "WHERE h.community_id = $1 AND h.state <> 'ok' ORDER BY h.since, h.device_id",
        community_id,
    )
    return [UnhealthyDevice(**dict(r)) for r in rows]


# --- bridge connections ----------------------------------------------------------------------


class ConnectionView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    url: str
    source: str
    state: str
    since: datetime
    last_error: str | None = None
    messages: int = 0
    last_message_at: datetime | None = None


async def save_connections(conn: Conn, items: Sequence[ConnectionView]) -> None:
    if items:
        await conn.executemany(
            "INSERT INTO source_connections (name, url, source, state, since, last_error, "
            "messages, last_message_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, source = EXCLUDED.source, "
            "state = EXCLUDED.state, since = EXCLUDED.since, last_error = EXCLUDED.last_error, "
            "messages = EXCLUDED.messages, last_message_at = EXCLUDED.last_message_at, "
            "updated_at = now()",
            [_connection_row(c) for c in items],
        )


def _connection_row(c: ConnectionView) -> tuple[object, ...]:
    return (c.name, c.url, c.source, c.state, c.since, c.last_error, c.messages, c.last_message_at)


async def list_connections(conn: Conn) -> list[ConnectionView]:
    rows = await conn.fetch(
        "SELECT name, url, source, state, since, last_error, messages, last_message_at "
        "FROM source_connections ORDER BY name"
    )
    return [ConnectionView(**dict(r)) for r in rows]
