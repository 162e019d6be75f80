"""The ingest pipeline on real servers: JetStream -> worker -> PostgreSQL, idempotent and exact."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from nats.aio.client import Client

from commonwatch.bus import deadletter, relay, subjects
from commonwatch.bus.streams import ensure_streams
from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.handlers.escalation import fire_due_timers
from commonwatch.handlers.ingest import ingest_batch
from commonwatch.handlers.retention import enforce_retention
from commonwatch.runtime.rules import load_rules
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db
from tests.conftest import Servers
from tests.integration.workers import Workers

RULES = load_rules(None)
T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def nc(servers: Servers) -> AsyncIterator[Client]:
    await db.migrate(servers.database_url)
    client = await connect_nats(servers.nats_url, "test-pipeline")
    await ensure_streams(client.jetstream())
    yield client
    await client.close()


@pytest.fixture
async def conn(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    connection = await db.connect(servers.database_url)
    yield connection
    await connection.close()


def event(device: str, etype: str, state: str = "alarm", at: datetime = T0) -> DeviceEvent:
    return DeviceEvent(
        id=f"t-{uuid.uuid4().hex}",
        device_id=device,
        community_id="c-pipe",
        type=etype,
        state=EventState(state),
        device_ts=at,
        received_ts=at,
    )


async def drain(worker: Workers) -> int:
    total = 0
    while n := await worker.step(expires_s=0.3):
        total += n
    return total


async def test_it_stores_each_event_once_however_often_it_is_delivered(
    nc: Client, conn: asyncpg.Connection
) -> None:
    device = f"dev-{uuid.uuid4().hex[:6]}"
    batch = [event(device, "smoke"), event(device, "heartbeat", "info")]
    first = await ingest_batch(conn, batch, [None, None], rules=RULES)
    again = await ingest_batch(conn, batch, [None, None], rules=RULES)
    rows = await conn.fetchval("SELECT count(*) FROM events WHERE device_id = $1", device)
    incident = await conn.fetchrow(
        "SELECT event_count FROM incidents WHERE $1 = ANY(device_ids)", device
    )
    assert (first.stored, first.opened) == (2, 1)
    assert (again.stored, again.opened, again.correlated) == (0, 0, 0)
    assert rows == 2
    assert incident is not None
    assert incident["event_count"] == 1


async def test_it_consumes_from_jetstream_and_dead_letters_garbage(
    nc: Client, conn: asyncpg.Connection
) -> None:
    js = nc.jetstream()
    community, device = "c-js", f"panel.{uuid.uuid4().hex[:6]}"
    subject = subjects.event_subject(community, device)
    await js.publish(subject, json.dumps({"type": "panic", "state": "alarm"}).encode())
    await js.publish(subject, b"{{{")
    worker = Workers(nc=nc, js=js, conn=conn, rules=RULES)
    await worker.start()
    assert await drain(worker) >= 2
    stored = await conn.fetchrow("SELECT id, community_id FROM events WHERE device_id = $1", device)
    letters = [d for d in await deadletter.recent(js, 100) if d.origin_subject == subject]
    assert stored is not None
    assert stored["id"].startswith("js-")
    assert stored["community_id"] == community
    assert len(letters) == 1
    assert "malformed" in letters[0].reason


async def test_it_relays_the_outbox_in_order_exactly_once_per_row(
    nc: Client, conn: asyncpg.Connection
) -> None:
    js = nc.jetstream()
    await ingest_batch(conn, [event(f"relay-{uuid.uuid4().hex[:6]}", "gas")], [None], rules=RULES)
    before = (await js.stream_info(subjects.CHANGES_STREAM)).state.last_seq
    published = 0
    while n := await relay.relay_once(conn, js):
        published += n
    after = (await js.stream_info(subjects.CHANGES_STREAM)).state.last_seq
    pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    assert published >= 2  # the device alarm and the incident opening
    assert after - before == published
    assert pending == 0


async def test_it_escalates_an_unacknowledged_incident_when_its_timer_is_due(
    conn: asyncpg.Connection,
) -> None:
    device = f"panic-{uuid.uuid4().hex[:6]}"
    await ingest_batch(conn, [event(device, "panic")], [None], rules=RULES)
    incident = await conn.fetchrow(
        "SELECT id, priority FROM incidents WHERE $1 = ANY(device_ids)", device
    )
    assert incident is not None
    level = "SELECT escalation_level FROM incidents WHERE id = $1"
    await fire_due_timers(conn, rules=RULES, now=T0 + timedelta(seconds=10))
    assert await conn.fetchval(level, incident["id"]) == 0
    fired = await fire_due_timers(conn, rules=RULES, now=T0 + timedelta(seconds=31))
    after = await conn.fetchrow(
        "SELECT escalation_level, priority FROM incidents WHERE id = $1", incident["id"]
    )
    kinds = await conn.fetch(
        "SELECT kind FROM incident_timeline WHERE incident_id = $1", incident["id"]
    )
    next_timer = await conn.fetchval(
        "SELECT level FROM timers WHERE incident_id = $1 AND fired_at IS NULL", incident["id"]
    )
    assert fired >= 1
    assert after is not None
    assert after["escalation_level"] == 1
    assert "IncidentEscalated" in [k["kind"] for k in kinds]
    assert next_timer == 2


async def test_it_deletes_events_older_than_their_retention_limit(
    conn: asyncpg.Connection,
) -> None:
    device = f"old-{uuid.uuid4().hex[:6]}"
    ancient = T0 - timedelta(days=400)
    await ingest_batch(conn, [event(device, "heartbeat", "info", at=ancient)], [None], rules=RULES)
    deleted = await enforce_retention(conn, now=T0)
    left = await conn.fetchval("SELECT count(*) FROM events WHERE device_id = $1", device)
    assert deleted["events"] >= 1
    assert left == 0
