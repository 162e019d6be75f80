"""Jurisdictions, communities, buildings and devices. Functions never commit."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from commonwatch.domain.places import Building, Community, Device
from commonwatch.storage.incidents import Conn


async def upsert_jurisdiction(
    conn: Conn, *, path: str, kind: str, name: str, timezone: str = "UTC"
) -> None:
    await conn.execute(
        "INSERT INTO jurisdictions (path, kind, name, timezone) VALUES ($1::ltree, $2, $3, $4) "
        "ON CONFLICT (path) DO UPDATE SET name = EXCLUDED.name, timezone = EXCLUDED.timezone",
        path,
        kind,
        name,
        timezone,
    )


async def upsert_communities(conn: Conn, items: Sequence[Community]) -> None:
    await conn.executemany(
        "INSERT INTO communities (id, name, jpath, lat, lon, polygon) "
        "VALUES ($1, $2, $3::ltree, $4, $5, $6::jsonb) ON CONFLICT (id) DO UPDATE SET "
        "name = EXCLUDED.name, jpath = EXCLUDED.jpath, lat = EXCLUDED.lat, lon = EXCLUDED.lon, "
        "polygon = EXCLUDED.polygon",
        [
            (c.id, c.name, c.jpath, c.lat, c.lon, json.dumps(c.polygon) if c.polygon else None)
            for c in items
        ],
    )


async def upsert_buildings(conn: Conn, items: Sequence[Building]) -> None:
    await conn.executemany(
        "INSERT INTO buildings (id, community_id, name, jpath, lat, lon) "
        "VALUES ($1, $2, $3, $4::ltree, $5, $6) ON CONFLICT (id) DO UPDATE SET "
        "name = EXCLUDED.name, jpath = EXCLUDED.jpath, lat = EXCLUDED.lat, lon = EXCLUDED.lon",
        [(b.id, b.community_id, b.name, b.jpath, b.lat, b.lon) for b in items],
    )


async def upsert_devices(conn: Conn, items: Sequence[Device]) -> None:
    await conn.executemany(
        "INSERT INTO devices (id, kind, community_id, building_id, name, lat, lon, jpath) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::ltree) ON CONFLICT (id) DO UPDATE SET "
        "kind = EXCLUDED.kind, community_id = EXCLUDED.community_id, "
        "building_id = EXCLUDED.building_id, name = EXCLUDED.name, lat = EXCLUDED.lat, "
        "lon = EXCLUDED.lon, jpath = EXCLUDED.jpath",
        [
            (d.id, d.kind, d.community_id, d.building_id, d.name, d.lat, d.lon, d.jpath)
            for d in items
        ],
    )


def community_from_row(r: asyncpg.Record) -> Community:
    polygon = json.loads(r["polygon"]) if r["polygon"] else None
    return Community(r["id"], r["name"], r["jpath"], r["lat"], r["lon"], polygon)


def building_from_row(r: asyncpg.Record) -> Building:
    return Building(r["id"], r["community_id"], r["name"], r["jpath"], r["lat"], r["lon"])


def device_from_row(r: asyncpg.Record) -> Device:
    return Device(
        r["id"], r["kind"], r["community_id"], r["jpath"], r["building_id"], r["name"],
        r["lat"], r["lon"],
    )  # fmt: skip


async def get_community(conn: Conn, community_id: str) -> Community | None:
    row = await conn.fetchrow("SELECT * FROM communities WHERE id = $1", community_id)
    return community_from_row(row) if row else None


async def get_building(conn: Conn, building_id: str) -> Building | None:
    row = await conn.fetchrow("SELECT * FROM buildings WHERE id = $1", building_id)
    return building_from_row(row) if row else None


async def get_device(conn: Conn, device_id: str) -> Device | None:
    row = await conn.fetchrow("SELECT * FROM devices WHERE id = $1", device_id)
    return device_from_row(row) if row else None


async def list_communities(conn: Conn, *, scope: str = "") -> list[Community]:
    rows = await conn.fetch(
        "SELECT * FROM communities WHERE $1 = '' OR jpath <@ $1::ltree ORDER BY id", scope
    )
    return [community_from_row(r) for r in rows]


async def list_devices(
    conn: Conn, *, scope: str = "", community_id: str | None = None, limit: int = 500,
    after: str = "",
) -> list[Device]:  # fmt: skip
    rows = await conn.fetch(
        "SELECT * FROM devices WHERE ($1 = '' OR jpath <@ $1::ltree) "
        "AND ($2::text IS NULL OR community_id = $2) AND id > $3 ORDER BY id LIMIT $4",
        scope,
        community_id,
        after,
        limit,
    )
    return [device_from_row(r) for r in rows]


async def device_alarms(conn: Conn, device_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT event_type, event_id, since FROM device_alarms WHERE device_id = $1 "
            "ORDER BY since",
            device_id,
        )
    )
