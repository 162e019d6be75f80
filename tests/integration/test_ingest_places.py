"""Where the worker stores events: the registry's places, remembered and forgotten on change."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from msgspec.structs import replace

from commonwatch.handlers.ingest import ingest_batch
from commonwatch.storage import db, places
from commonwatch.storage.places import PlaceCache
from tests.conftest import Servers
from tests.integration.test_ingest_pipeline import RULES, T0, event


@pytest.fixture
async def conn(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    await db.migrate(servers.database_url)
    connection = await db.connect(servers.database_url)
    yield connection
    await connection.close()


async def register(conn: asyncpg.Connection, community: str, device: str | None = None) -> None:
    jpath = f"placetest.{community.replace('-', '_')}"
    await conn.execute(
        "INSERT INTO communities (id, name, jpath) VALUES ($1, $1, $2::ltree) "
        "ON CONFLICT (id) DO NOTHING",
        community,
        jpath,
    )
    if device:
        await conn.execute(
            "INSERT INTO devices (id, kind, community_id, jpath) VALUES ($1, 'sensor', $2, $3)",
            device,
            community,
            f"{jpath}.{device.replace('-', '_')}",
        )


async def stored_place(conn: asyncpg.Connection, event_id: str) -> tuple[str, str]:
    row = await conn.fetchrow("SELECT community_id, jpath FROM events WHERE id = $1", event_id)
    assert row is not None
    return row["community_id"], row["jpath"]


def names() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"c-a{tag}", f"c-b{tag}", f"d-{tag}"


async def test_events_take_the_registered_place_then_the_community_then_unassigned(
    conn: asyncpg.Connection,
) -> None:
    home, other, device = names()
    await register(conn, home, device)
    await register(conn, other)
    known = replace(event(device, "smoke"), community_id=other)  # the registry wins
    stray = replace(event("d-unregistered-" + device, "door", "info"), community_id=other)
    lost = replace(event("d-lost-" + device, "door", "info"), community_id="c-nowhere")
    await ingest_batch(conn, [known, stray, lost], [None] * 3, rules=RULES)
    assert await stored_place(conn, known.id) == (
        home,
        f"placetest.{home.replace('-', '_')}.{device.replace('-', '_')}",
    )
    assert await stored_place(conn, stray.id) == (other, f"placetest.{other.replace('-', '_')}")
    assert await stored_place(conn, lost.id) == ("c-nowhere", "unassigned")


async def test_a_moved_device_is_seen_in_its_new_place_at_once(
    conn: asyncpg.Connection, servers: Servers
) -> None:
    home, other, device = names()
    await register(conn, home, device)
    await register(conn, other)
    cache = PlaceCache()
    await conn.add_listener(places.CHANNEL, cache.forget)
    await ingest_batch(conn, [event(device, "door", "info")], [None], rules=RULES, places=cache)
    admin = await db.connect(servers.database_url)
    try:
        await admin.execute(
            "UPDATE devices SET community_id = $2, jpath = $3::ltree WHERE id = $1",
            device,
            other,
            f"placetest.{other.replace('-', '_')}",
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the NOTIFY travels on the worker's connection
    moved = event(device, "door", "info")
    await ingest_batch(conn, [moved], [None], rules=RULES, places=cache)
    assert (await stored_place(conn, moved.id))[0] == other


async def test_a_batch_repeating_stored_ids_keeps_one_row_each_and_correlates_only_new(
    conn: asyncpg.Connection,
) -> None:
    home, _, device = names()
    await register(conn, home, device)
    first = event(device, "smoke")
    await ingest_batch(conn, [first], [None], rules=RULES)
    second = event(device, "heat")
    result = await ingest_batch(conn, [first, second, second], [None] * 3, rules=RULES)
    count = await conn.fetchval("SELECT count(*) FROM events WHERE device_id = $1", device)
    assert (result.stored, count) == (1, 2)
    assert result.correlated == 1


async def test_an_alarm_and_its_restore_in_one_batch_leave_the_device_clear(
    conn: asyncpg.Connection,
) -> None:
    home, _, device = names()
    await register(conn, home, device)
    later = T0 + timedelta(seconds=5)
    batch = [
        event(device, "water_leak"),
        event(device, "water_leak", "restore", at=later),
        event(device, "smoke", at=later),
    ]
    await ingest_batch(conn, batch, [None] * 3, rules=RULES)
    alarms = await conn.fetch("SELECT event_type FROM device_alarms WHERE device_id = $1", device)
    assert [r["event_type"] for r in alarms] == ["smoke"]
