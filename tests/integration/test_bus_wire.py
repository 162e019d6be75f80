"""The wire consumer against a real NATS server: batches, acks, redelivery, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from commonwatch.bus.streams import ensure_consumer
from commonwatch.bus.wire import WireConsumer
from tests.conftest import Servers

STREAM, SUBJECT, DURABLE = "WIRE_TEST", "wiretest", "wire"


@pytest.fixture
async def stream(bus: JetStreamContext) -> AsyncIterator[JetStreamContext]:
    await bus.add_stream(StreamConfig(name=STREAM, subjects=[f"{SUBJECT}.>"]))
    config = ConsumerConfig(
        durable_name=DURABLE, ack_policy=AckPolicy.EXPLICIT, ack_wait=1.0, max_ack_pending=10_000
    )
    await bus.add_consumer(STREAM, config)
    yield bus
    await bus.delete_stream(STREAM)


async def publish(js: JetStreamContext, n: int) -> None:
    for i in range(n):
        await js.publish(f"{SUBJECT}.d{i % 7}", f"m{i}".encode())


async def drain(consumer: WireConsumer, n: int) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(50):
        batch = await consumer.fetch(expires_s=0.5)
        got += [d.data for d in batch]
        await consumer.ack(batch)
        if len(got) >= n:
            break
    return got


async def test_batches_arrive_in_order_and_acks_clear_the_consumer(
    stream: JetStreamContext, servers: Servers
) -> None:
    await publish(stream, 1200)
    consumer = WireConsumer(servers.nats_url, STREAM, DURABLE, batch=500)
    await consumer.start()
    try:
        got = await drain(consumer, 1200)
        assert got == [f"m{i}".encode() for i in range(1200)]
        assert await consumer.fetch(expires_s=0.2) == []
        info = await stream.consumer_info(STREAM, DURABLE)
        assert (info.num_pending, info.num_ack_pending) == (0, 0)
    finally:
        await consumer.close()


async def test_unacknowledged_messages_come_back(
    stream: JetStreamContext, servers: Servers
) -> None:
    await publish(stream, 10)
    consumer = WireConsumer(servers.nats_url, STREAM, DURABLE, batch=100)
    await consumer.start()
    try:
        first = await consumer.fetch(expires_s=0.5)
        assert [d.delivered for d in first] == [1] * 10
        await asyncio.sleep(1.3)  # past ack_wait
        again = await consumer.fetch(expires_s=1.0)
        assert [d.stream_seq for d in again] == [d.stream_seq for d in first]
        assert {d.delivered for d in again} == {2}
        await consumer.ack(again)
    finally:
        await consumer.close()


async def test_a_dropped_connection_is_re_established(
    stream: JetStreamContext, servers: Servers
) -> None:
    consumer = WireConsumer(servers.nats_url, STREAM, DURABLE, batch=100)
    await consumer.start()
    try:
        proto = consumer._proto
        assert proto is not None and proto.transport is not None
        proto.transport.abort()
        await publish(stream, 5)
        got = await drain(consumer, 5)
        assert got == [f"m{i}".encode() for i in range(5)]
    finally:
        await consumer.close()


async def test_a_consumer_made_with_another_ack_policy_moves_over_after_its_ack_floor(
    stream: JetStreamContext, servers: Servers
) -> None:
    await publish(stream, 30)
    consumer = WireConsumer(servers.nats_url, STREAM, DURABLE, batch=20)
    await consumer.start()
    try:
        first = await consumer.fetch(expires_s=0.5)
        await consumer.ack(first[:10])  # explicit: 1-10 acked, 11-20 delivered but not acked
        await asyncio.sleep(0.2)
        wanted = ConsumerConfig(durable_name=DURABLE, ack_policy=AckPolicy.ALL, ack_wait=1.0)
        await ensure_consumer(stream, STREAM, wanted)
        info = await stream.consumer_info(STREAM, DURABLE)
        assert info.config.ack_policy == AckPolicy.ALL
        got = await consumer.fetch(expires_s=0.5)
        assert [d.stream_seq for d in got] == list(range(11, 31))
        await consumer.ack_last(got)
        await asyncio.sleep(0.2)
        await ensure_consumer(stream, STREAM, wanted)  # again: an update, nothing redelivered
        assert await consumer.fetch(expires_s=0.3) == []
    finally:
        await consumer.close()
