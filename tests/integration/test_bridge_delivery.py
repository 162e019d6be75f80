"""Facts the bridge relies on, checked on the real NATS MQTT gateway, and its dead letters."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StreamConfig

from commonwatch.bus import deadletter
from commonwatch.bus.streams import ensure_streams
from commonwatch.ingest.bridge.config import parse_config
from commonwatch.ingest.bridge.embedded import RawCaptured, refuse_capture, subject_to_topic
from commonwatch.ingest.bridge.outputs import Context, no_state
from commonwatch.ingest.bridge.pipeline import Pipeline
from commonwatch.ingest.bridge.router import Inbound, Router
from commonwatch.ingest.native.parse import ParseError
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db
from tests.conftest import Servers

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
ROUTER = Router.from_config(parse_config(""))


@pytest.fixture(scope="module")
async def nc(servers: Servers) -> AsyncIterator[Client]:
    await db.migrate(servers.database_url)
    client = await connect_nats(servers.nats_url, "test-bridge-delivery")
    await ensure_streams(client.jetstream())
    yield client
    await client.close()


def mqtt_publish(port: int, messages: list[tuple[str, bytes, int]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for _ in range(250):  # publish only once the broker has said CONNACK
            if client.is_connected():
                break
            time.sleep(0.02)
        for topic, payload, qos in messages:
            client.publish(topic, payload, qos=qos).wait_for_publish(5)
    finally:
        client.disconnect()  # first: loop_stop would otherwise wait out paho's 1 s select
        client.loop_stop()


async def received(
    nc: Client, subject: str, send: list[tuple[str, bytes, int]], port: int
) -> list[Msg]:
    got: list[Msg] = []

    async def on_msg(msg: Msg) -> None:
        got.append(msg)

    sub = await nc.subscribe(subject, cb=on_msg)
    await nc.flush()
    await asyncio.to_thread(mqtt_publish, port, send)
    for _ in range(100):
        if len(got) >= len(send):
            break
        await asyncio.sleep(0.02)
    await sub.unsubscribe()
    return got


async def test_it_gets_mqtt_publishes_of_qos_0_and_1_on_core_subjects_with_dots_kept(
    nc: Client, servers: Servers
) -> None:
    prefix = f"probe{uuid.uuid4().hex[:6]}"
    send = [(f"{prefix}/cam.1/status/detect", b"online", 0), (f"{prefix}/events", b"{}", 1)]
    got = await received(nc, f"{prefix}.>", send, servers.mqtt_port)
    assert sorted((subject_to_topic(m.subject), m.headers.get("Nmqtt-Pub") if m.headers else None)
                  for m in got) == sorted((t, str(q)) for t, _, q in send)  # fmt: skip


def test_it_loses_a_client_that_publishes_a_topic_with_whitespace_to_the_embedded_listener(
    servers: Servers,
) -> None:
    """NATS subjects cannot hold whitespace, so the gateway drops the connection. Zigbee2MQTT
    friendly names with spaces must come in through an external broker ([[bridge.brokers]])."""
    lost: list[object] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_disconnect = lambda *args: lost.append(args)
    client.connect("127.0.0.1", servers.mqtt_port)
    client.loop_start()
    try:
        for _ in range(250):
            if client.is_connected():
                break
            time.sleep(0.02)
        client.publish("zigbee2mqtt/kitchen smoke", b"{}", qos=0)
        for _ in range(100):
            if lost:
                break
            time.sleep(0.02)
    finally:
        client.disconnect()
        client.loop_stop()
    assert lost


async def test_it_still_gets_them_on_core_subjects_when_a_stream_captures_them(
    nc: Client, servers: Servers
) -> None:
    """The brief expected the gateway to stop core delivery once a stream captures a subject;
    nats-server 2.15 delivers to both. The bridge refuses such a stream anyway (next test)."""
    prefix = f"probe{uuid.uuid4().hex[:6]}"
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=prefix.upper(), subjects=[f"{prefix}.>"]))
    try:
        got = await received(nc, f"{prefix}.>", [(f"{prefix}/x", b"1", 1)], servers.mqtt_port)
        stored = (await js.stream_info(prefix.upper())).state.messages
    finally:
        await js.delete_stream(prefix.upper())
    assert (len(got), stored) == (1, 1)


async def test_it_refuses_to_run_while_a_stream_would_store_raw_payloads(nc: Client) -> None:
    js = nc.jetstream()
    prefix = f"probe{uuid.uuid4().hex[:6]}"
    await refuse_capture(js, [f"{prefix}.>"])  # nothing captures it yet
    await js.add_stream(StreamConfig(name=prefix.upper(), subjects=[f"{prefix}.events"]))
    try:
        with pytest.raises(RawCaptured, match=prefix.upper()):
            await refuse_capture(js, [f"{prefix}.>"])
    finally:
        await js.delete_stream(prefix.upper())


# Malformed payloads, found by hypothesis once per run (derandomized): each source's parser
# refuses them, and the bridge must dead-letter every one with its reason and without its body.
TOPICS = ["frigate/events", "frigate/reviews", "zigbee2mqtt/hall", "owntracks/u/d",
          "homeassistant/alarm_control_panel/a/state"]  # fmt: skip


def refused_by(topic: str, keep: int) -> list[bytes]:
    picked: list[bytes] = []

    @settings(max_examples=60, database=None, derandomize=True)
    @given(st.binary(max_size=40) | st.text(max_size=30).map(str.encode))
    def collect(payload: bytes) -> None:
        translator = ROUTER.pick(Inbound(topic, payload, NOW))
        assert translator is not None
        try:
            translator.translate(topic, payload, Context(NOW), no_state)
        except ParseError:
            if len(picked) < keep:
                picked.append(payload)

    collect()
    return picked


def malformed_corpus(per_topic: int = 8) -> list[tuple[str, bytes]]:
    return [(topic, p) for topic in TOPICS for p in refused_by(topic, per_topic)]


async def test_it_dead_letters_every_malformed_message_with_a_reason_and_no_body(
    nc: Client, servers: Servers
) -> None:
    corpus = malformed_corpus()
    js = nc.jetstream()
    pool = await db.create_pool(servers.database_url, max_size=2)
    assert pool is not None
    try:
        pipeline = Pipeline(ROUTER, pool, js)
        before = (await js.stream_info("CW_DEADLETTER")).state.last_seq
        for topic, payload in corpus:
            await pipeline.handle(Inbound(topic, payload, datetime.now(UTC)))
    finally:
        await pool.close()
    letters = await deadletter.recent(js, limit=len(corpus))
    mine = [d for d in letters if d.seq > before]
    assert len(corpus) >= 20
    assert len(mine) == len(corpus) == pipeline.counts.dead
    assert all(d.reason and d.body is None for d in mine)
    assert {d.source for d in mine} == {"frigate", "zigbee2mqtt", "owntracks", "homeassistant"}


async def test_it_hands_nothing_on_for_a_message_no_source_claims(
    nc: Client, servers: Servers
) -> None:
    pool: asyncpg.Pool | None = await db.create_pool(servers.database_url, max_size=1)
    assert pool is not None
    try:
        pipeline = Pipeline(ROUTER, pool, nc.jetstream())
        await pipeline.handle(Inbound("somewhere/else", b"{}", datetime.now(UTC)))
    finally:
        await pool.close()
    assert (pipeline.counts.ignored, pipeline.counts.dead, pipeline.publisher.published) == (
        1,
        0,
        0,
    )
