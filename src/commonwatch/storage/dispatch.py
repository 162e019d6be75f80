"""Stations, units, positions, assignments and interval timestamps. Functions never commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg
import msgspec

from commonwatch.bus.subjects import change_subject
from commonwatch.domain.dispatch import DemandPoint, FleetUnit
from commonwatch.domain.escalation import TimerSpec
from commonwatch.domain.events import DomainEvent, encode
from commonwatch.domain.intervals import IncidentTimes
from commonwatch.domain.model import Incident
from commonwatch.domain.travel import Point
from commonwatch.domain.units import (
    ACK_TIMER,
    Position,
    Shift,
    Station,
    StationKind,
    Unit,
    UnitKind,
    UnitStatus,
)
from commonwatch.storage import incidents
from commonwatch.storage.incidents import Conn

# --- stations and units -----------------------------------------------------------------------


def station_from_row(r: asyncpg.Record) -> Station:
    return Station(r["id"], r["name"], StationKind(r["kind"]), r["lat"], r["lon"], r["jpath"])


async def insert_station(conn: Conn, s: Station) -> bool:
    """True when created, False when a station with this id exists."""
    created = await conn.fetchval(
        "INSERT INTO stations (id, name, kind, lat, lon, jpath) "
        "VALUES ($1, $2, $3, $4, $5, $6::ltree) ON CONFLICT (id) DO NOTHING RETURNING id",
        s.id,
        s.name,
        s.kind.value,
        s.lat,
        s.lon,
        s.jpath,
    )
    return created is not None


async def get_station(conn: Conn, station_id: str) -> Station | None:
    row = await conn.fetchrow("SELECT * FROM stations WHERE id = $1", station_id)
    return station_from_row(row) if row else None


async def list_stations(conn: Conn, *, scope: str) -> list[Station]:
    rows = await conn.fetch(
        "SELECT * FROM stations WHERE $1 = '' OR jpath <@ $1::ltree ORDER BY id", scope
    )
    return [station_from_row(r) for r in rows]


def unit_from_row(r: asyncpg.Record, shifts: Sequence[Shift] = ()) -> Unit:
    return Unit(
        id=r["id"],
        name=r["name"],
        kind=UnitKind(r["kind"]),
        station_id=r["station_id"],
        jpath=r["jpath"],
        capabilities=frozenset(r["capabilities"]),
        status=UnitStatus(r["status"]),
        status_since=r["status_since"],
        always_on_duty=r["always_on_duty"],
        shifts=tuple(shifts),
    )


async def insert_unit(conn: Conn, u: Unit) -> bool:
    created = await conn.fetchval(
        "INSERT INTO units (id, name, kind, station_id, capabilities, jpath, status, "
        "status_since, always_on_duty) VALUES ($1, $2, $3, $4, $5, $6::ltree, $7, $8, $9) "
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        u.id,
        u.name,
        u.kind.value,
        u.station_id,
        sorted(u.capabilities),
        u.jpath,
        u.status.value,
        u.status_since,
        u.always_on_duty,
    )
    return created is not None


async def _shifts(conn: Conn, unit_ids: Sequence[str], at: datetime) -> dict[str, list[Shift]]:
    """Shifts that have not ended by `at` (enough to tell who is on duty from `at` on)."""
    rows = await conn.fetch(
        "SELECT unit_id, starts_at, ends_at FROM unit_shifts "
        "WHERE unit_id = ANY($1::text[]) AND ends_at > $2 ORDER BY starts_at",
        list(unit_ids),
        at,
    )
    out: dict[str, list[Shift]] = defaultdict(list)
    for r in rows:
        out[r["unit_id"]].append(Shift(r["starts_at"], r["ends_at"]))
    return out


async def get_unit(conn: Conn, unit_id: str, *, at: datetime, lock: bool = False) -> Unit | None:
    lock_clause = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(f"SELECT * FROM units WHERE id = $1{lock_clause}", unit_id)
    if row is None:
        return None
    return unit_from_row(row, (await _shifts(conn, [unit_id], at)).get(unit_id, []))


async def list_units(conn: Conn, *, scope: str, within: str, at: datetime) -> list[Unit]:
    rows = await conn.fetch(
        "SELECT * FROM units WHERE ($1 = '' OR jpath <@ $1::ltree) "
        "AND ($2 = '' OR jpath <@ $2::ltree) ORDER BY id",
        scope,
        within,
    )
    shifts = await _shifts(conn, [r["id"] for r in rows], at)
    return [unit_from_row(r, shifts.get(r["id"], [])) for r in rows]


async def add_shift(conn: Conn, unit_id: str, shift: Shift) -> None:
    await conn.execute(
        "INSERT INTO unit_shifts (unit_id, starts_at, ends_at) VALUES ($1, $2, $3)",
        unit_id,
        shift.starts_at,
        shift.ends_at,
    )


async def set_unit_status(
    conn: Conn,
    unit: Unit,
    target: UnitStatus,
    *,
    at: datetime,
    incident_id: str | None,
    actor: str,
) -> None:
    await conn.execute(
        "UPDATE units SET status = $2, status_since = $3 WHERE id = $1", unit.id, target.value, at
    )
    await conn.execute(
        "INSERT INTO unit_status_log (unit_id, from_status, to_status, at, incident_id, actor, "
        "jpath) VALUES ($1, $2, $3, $4, $5, $6, $7::ltree)",
        unit.id,
        unit.status.value,
        target.value,
        at,
        incident_id,
        actor,
        unit.jpath,
    )


# --- positions --------------------------------------------------------------------------------


async def upsert_position(
    conn: Conn, unit: Unit, fix: Position, *, speed_kmh: float | None = None
) -> bool:
    """Store the fix unless a newer one is stored already; True when stored."""
    stored = await conn.fetchval(
        "INSERT INTO unit_positions (unit_id, lat, lon, accuracy_m, speed_kmh, at, jpath) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::ltree) ON CONFLICT (unit_id) DO UPDATE SET "
        "lat = EXCLUDED.lat, lon = EXCLUDED.lon, accuracy_m = EXCLUDED.accuracy_m, "
        "speed_kmh = EXCLUDED.speed_kmh, at = EXCLUDED.at, jpath = EXCLUDED.jpath "
        "WHERE unit_positions.at <= EXCLUDED.at RETURNING unit_id",
        unit.id,
        fix.lat,
        fix.lon,
        fix.accuracy_m,
        speed_kmh,
        fix.at,
        unit.jpath,
    )
    return stored is not None


async def positions(conn: Conn, unit_ids: Sequence[str]) -> dict[str, Position]:
    rows = await conn.fetch(
        "SELECT unit_id, lat, lon, at, accuracy_m FROM unit_positions "
        "WHERE unit_id = ANY($1::text[])",
        list(unit_ids),
    )
    return {r["unit_id"]: Position(r["lat"], r["lon"], r["at"], r["accuracy_m"]) for r in rows}


async def fleet(conn: Conn, *, scope: str, within: str, at: datetime) -> list[FleetUnit]:
    units = await list_units(conn, scope=scope, within=within, at=at)
    fixes = await positions(conn, [u.id for u in units])
    return [FleetUnit(u, fixes.get(u.id)) for u in units]


# --- places -----------------------------------------------------------------------------------


async def incident_location(conn: Conn, incident: Incident) -> Point | None:
    """The building's coordinates, else the community's."""
    row = await conn.fetchrow(
        "SELECT b.lat AS b_lat, b.lon AS b_lon, c.lat AS c_lat, c.lon AS c_lon "
        "FROM communities c LEFT JOIN buildings b ON b.id = $2 WHERE c.id = $1",
        incident.community_id,
        incident.building_id,
    )
    if row is None:
        return None
    for prefix in ("b", "c"):
        lat, lon = row[f"{prefix}_lat"], row[f"{prefix}_lon"]
        if lat is not None and lon is not None:
            return Point(lat, lon)
    return None


async def demand_points(conn: Conn, *, within: str) -> list[DemandPoint]:
    """Communities with coordinates: the places coverage is measured for."""
    rows = await conn.fetch(
        "SELECT id, lat, lon FROM communities WHERE ($1 = '' OR jpath <@ $1::ltree) "
        "AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY id",
        within,
    )
    return [DemandPoint(r["id"], Point(r["lat"], r["lon"])) for r in rows]


# --- assignments ------------------------------------------------------------------------------


class AssignmentView(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    incident_id: str
    unit_id: str
    jpath: str
    assigned_by: str | None
    eta_s: float | None
    dispatched_at: datetime
    ack_due_at: datetime
    en_route_at: datetime | None
    on_scene_at: datetime | None
    cleared_at: datetime | None
    unacknowledged_at: datetime | None

    @property
    def counts(self) -> bool:
        """Open, and acknowledged or still within its acknowledgement time."""
        answered = self.en_route_at is not None or self.on_scene_at is not None
        return self.cleared_at is None and (answered or self.unacknowledged_at is None)


_ASSIGNMENT = (
    "id, incident_id, unit_id, jpath, assigned_by, eta_s, dispatched_at, ack_due_at, "
    "en_route_at, on_scene_at, cleared_at, unacknowledged_at"
)


def assignment_from_row(r: asyncpg.Record) -> AssignmentView:
    return AssignmentView(**dict(r.items()))


async def insert_assignment(
    conn: Conn,
    *,
    incident: Incident,
    unit: Unit,
    at: datetime,
    ack_due_at: datetime,
    by: str,
    eta_s: float | None,
) -> AssignmentView:
    row = await conn.fetchrow(
        "INSERT INTO assignments (incident_id, unit_id, jpath, assigned_by, eta_s, "
        "dispatched_at, ack_due_at) VALUES ($1, $2, $3::ltree, $4, $5, $6, $7) "
        f"RETURNING {_ASSIGNMENT}",
        incident.id,
        unit.id,
        incident.jpath,
        by,
        eta_s,
        at,
        ack_due_at,
    )
    assert row is not None
    await incidents.add_timers(conn, [TimerSpec(incident.id, ACK_TIMER, ack_due_at, 1)])
    return assignment_from_row(row)


async def open_assignment(conn: Conn, unit_id: str) -> AssignmentView | None:
    row = await conn.fetchrow(
        f"SELECT {_ASSIGNMENT} FROM assignments WHERE unit_id = $1 AND cleared_at IS NULL",
        unit_id,
    )
    return assignment_from_row(row) if row else None


async def incident_assignments(conn: Conn, incident_id: str) -> list[AssignmentView]:
    rows = await conn.fetch(
        f"SELECT {_ASSIGNMENT} FROM assignments WHERE incident_id = $1 ORDER BY id", incident_id
    )
    return [assignment_from_row(r) for r in rows]


_STAMPS = frozenset({"en_route_at", "on_scene_at", "cleared_at", "unacknowledged_at"})


async def stamp_assignment(conn: Conn, assignment_id: int, column: str, at: datetime) -> None:
    if column not in _STAMPS:
        raise ValueError(f"not an assignment timestamp: {column}")
    await conn.execute(
        f"UPDATE assignments SET {column} = COALESCE({column}, $2) WHERE id = $1",
        assignment_id,
        at,
    )


_CLAIM_ACK = f"""
SELECT t.id, t.incident_id FROM timers t
WHERE t.kind = '{ACK_TIMER}' AND t.due_at <= $1 AND t.fired_at IS NULL AND t.cancelled_at IS NULL
ORDER BY t.due_at LIMIT $2
FOR UPDATE SKIP LOCKED
"""


async def claim_ack_timers(conn: Conn, *, now: datetime, limit: int) -> list[tuple[int, str]]:
    rows = await conn.fetch(_CLAIM_ACK, now, limit)
    if rows:
        await conn.execute(
            "UPDATE timers SET fired_at = $2 WHERE id = ANY($1::bigint[])",
            [r["id"] for r in rows],
            now,
        )
    return [(r["id"], r["incident_id"]) for r in rows]


async def overdue_assignments(conn: Conn, incident_id: str, now: datetime) -> list[AssignmentView]:
    rows = await conn.fetch(
        f"SELECT {_ASSIGNMENT} FROM assignments WHERE incident_id = $1 AND ack_due_at <= $2 "
        "AND en_route_at IS NULL AND on_scene_at IS NULL AND cleared_at IS NULL "
        "AND unacknowledged_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED",
        incident_id,
        now,
    )
    return [assignment_from_row(r) for r in rows]


# --- changes others must hear about units that are not on an incident ------------------------


async def append_unit_outbox(conn: Conn, events: Sequence[DomainEvent], jpath: str) -> None:
    rows = [
        (change_subject("unit", str(getattr(e, "unit_id", "none"))), encode(e), jpath)
        for e in events
    ]
    if rows:
        await conn.executemany(
            "INSERT INTO outbox (subject, payload, jpath) VALUES ($1, $2, $3::ltree)", rows
        )
        await conn.execute("SELECT pg_notify('outbox', '')")


# --- intervals --------------------------------------------------------------------------------


async def interval_times(
    conn: Conn, *, scope: str, jurisdiction: str, since: datetime | None, until: datetime | None
) -> list[IncidentTimes]:
    rows = await conn.fetch(
        "SELECT incident_id, source, incident_type, jpath, received_at, answered_at, "
        "dispatched_at, en_route_at, on_scene_at FROM incident_intervals "
        "WHERE ($1 = '' OR jpath <@ $1::ltree) AND ($2 = '' OR jpath <@ $2::ltree) "
        "AND ($3::timestamptz IS NULL OR received_at >= $3) "
        "AND ($4::timestamptz IS NULL OR received_at < $4)",
        scope,
        jurisdiction,
        since,
        until,
    )
    return [IncidentTimes(**dict(r.items())) for r in rows]


async def get_incident(conn: Conn, incident_id: str) -> Incident | None:
    """Read without locking, for answers that change nothing."""
    row = await conn.fetchrow(
        f"SELECT {incidents.INCIDENT_COLUMNS} FROM incidents WHERE id = $1", incident_id
    )
    return incidents.incident_from_row(row) if row else None


async def registered_units(conn: Conn, unit_ids: Iterable[str]) -> set[str]:
    ids = list(unit_ids)
    if not ids:
        return set()
    rows = await conn.fetch("SELECT id FROM units WHERE id = ANY($1::text[])", ids)
    return {r["id"] for r in rows}
