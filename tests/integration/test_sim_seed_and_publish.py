"""The demo district in real servers: seeded once however often, heard through MQTT -> JetStream."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import nats
import pytest
from nats.js import JetStreamContext

from commonwatch.bus.streams import ensure_streams
from commonwatch.bus.subjects import EVENTS_STREAM, event_subject
from commonwatch.sim.district import CITY_PATH, DemoDistrict, build_district
from commonwatch.sim.seed import seed
from commonwatch.sim.simulator import run_simulator
from commonwatch.storage import db, registry
from tests.conftest import Servers

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def district() -> DemoDistrict:
    return build_district()


@pytest.fixture
async def conn(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    await db.migrate(servers.database_url)
    connection = await db.connect(servers.database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def js(servers: Servers) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(servers.nats_url)
    context = nc.jetstream()
    await ensure_streams(context)
    try:
        yield context
    finally:
        await nc.close()


Rows = list[tuple[object, ...]]


async def snapshot(conn: asyncpg.Connection, district: DemoDistrict) -> dict[str, Rows]:
    queries = {
        "jurisdictions": (
            "SELECT path::text, kind, name, timezone FROM jurisdictions "
            "WHERE path <@ $1::ltree ORDER BY path",
            CITY_PATH,
        ),
        "communities": (
            "SELECT id, name, jpath::text, lat, lon, polygon::text FROM communities "
            "WHERE id = ANY($1) ORDER BY id",
            [c.id for c in district.communities],
        ),
        "buildings": (
            "SELECT id, community_id, name, jpath::text, lat, lon FROM buildings "
            "WHERE id = ANY($1) ORDER BY id",
            [b.id for b in district.buildings],
        ),
        "devices": (
            "SELECT id, kind, community_id, building_id, name, jpath::text, lat, lon FROM devices "
            "WHERE id = ANY($1) ORDER BY id",
            [d.id for d in district.devices],
        ),
    }
    return {
        table: [tuple(r) for r in await conn.fetch(sql, arg)]
        for table, (sql, arg) in queries.items()
    }


async def test_it_seeds_the_district_once_however_often_it_runs(
    conn: asyncpg.Connection, district: DemoDistrict
) -> None:
    seeded = await seed(conn)
    first = await snapshot(conn, district)
    again = await seed(conn)
    second = await snapshot(conn, district)

    assert seeded == again == district
    assert first == second
    assert {table: len(rows) for table, rows in second.items()} == {
        "jurisdictions": len(district.jurisdictions),
        "communities": len(district.communities),
        "buildings": len(district.buildings),
        "devices": len(district.devices),
    }
    device = district.devices[0]
    assert await registry.get_device(conn, device.id) == device
    assert await registry.get_community(conn, "c07") == district.communities[6]


async def last_seq(js: JetStreamContext) -> int:
    return int((await js.stream_info(EVENTS_STREAM)).state.last_seq)


async def wait_for_growth(js: JetStreamContext, before: int, at_least: int) -> int:
    deadline = time.monotonic() + 10
    after = await last_seq(js)
    while after - before < at_least and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        after = await last_seq(js)
    return after


async def test_it_publishes_chatter_and_a_fire_alarm_through_mqtt_into_the_events_stream(
    servers: Servers, js: JetStreamContext, district: DemoDistrict
) -> None:
    before = await last_seq(js)
    stop = threading.Event()
    simulating = asyncio.create_task(
        asyncio.to_thread(
            run_simulator, host="127.0.0.1", port=servers.mqtt_port, district=district,
            rate=20, stop=stop, first_scenario_s=0.0,
        )
    )  # fmt: skip
    try:
        await asyncio.sleep(2.0)
    finally:
        stop.set()
        await asyncio.wait_for(simulating, 15)
    try:
        after = await wait_for_growth(js, before, at_least=30)
        messages = [await js.get_msg(EVENTS_STREAM, seq) for seq in range(before + 1, after + 1)]
    finally:
        for community in district.communities:  # leave the shared stream as we found it
            await js.purge_stream(EVENTS_STREAM, subject=event_subject(community.id, ">"))

    devices = {d.id: d for d in district.devices}
    bodies = [msgspec.json.decode(m.data or b"") for m in messages]
    senders = [devices[(m.subject or "").rsplit(".", 1)[-1]] for m in messages]
    assert 30 <= len(messages) <= 60
    assert {(m.headers or {}).get("Nmqtt-Pub") for m in messages} == {"1"}  # QoS 1, via MQTT
    assert all(
        m.subject == event_subject(d.community_id, d.id)
        for m, d in zip(messages, senders, strict=True)
    )
    assert {b["state"] for b in bodies} == {"info", "alarm"}
    alarms = [
        (d.kind, b["type"]) for d, b in zip(senders, bodies, strict=True) if b["state"] == "alarm"
    ]
    assert alarms == [("smoke_detector", "smoke")]
    assert len({b["id"] for b in bodies}) == len(bodies)
