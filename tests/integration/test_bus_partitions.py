"""Ingest partitions: every consumer sees the stream, each worker keeps its own devices, and the
single consumer of before hands over."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from commonwatch.bus import subjects
from commonwatch.bus.streams import STREAMS, ensure_streams, ingest_config, rewind
from commonwatch.bus.wire import WireConsumer
from commonwatch.runtime.embedded import EmbeddedNats, free_port
from commonwatch.runtime.status import StatusProbe
from commonwatch.storage import db
from tests.conftest import Servers

PARTS = range(subjects.INGEST_PARTITIONS)


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[tuple[str, JetStreamContext]]:
    server = EmbeddedNats(tmp_path / "nats", port=free_port(), mqtt_port=free_port())
    server.start()
    nc = await nats.connect(server.url)
    try:
        yield server.url, nc.jetstream()
    finally:
        await nc.close()
        server.stop()


async def publish(js: JetStreamContext, n: int, tag: str) -> None:
    for i in range(n):
        await js.publish(subjects.event_subject(f"c{i % 5}", f"{tag}{i % 13}"), f"{i}".encode())


def consumer(url: str, partition: int) -> WireConsumer:
    name = subjects.ingest_consumer(partition)
    return WireConsumer(
        url, subjects.EVENTS_STREAM, name, batch=50, partition=(partition, len(PARTS))
    )


async def test_each_worker_keeps_its_devices_and_its_acks_cover_the_rest(
    fresh: tuple[str, JetStreamContext],
) -> None:
    url, js = fresh
    await ensure_streams(js)
    await publish(js, 200, "d")
    await js.publish("commonwatch.events.too.many.levels", b"garbage")  # exactly one keeps it
    kept: dict[int, list[tuple[str, int]]] = {p: [] for p in PARTS}
    for p in PARTS:
        reader = consumer(url, p)
        await reader.start()
        while (batch := await reader.fetch_batch(expires_s=0.3)).ack is not None:
            kept[p] += [(d.subject, d.stream_seq) for d in batch.deliveries]
            await reader.ack_batch(batch)
        await reader.close()
    by_subject = {p: {s for s, _ in kept[p]} for p in PARTS}
    assert sum(len(k) for k in kept.values()) == 201
    assert all(kept.values())
    assert not set.intersection(*by_subject.values())  # a device is in one partition only
    for p in PARTS:
        assert [q for _, q in kept[p]] == sorted(q for _, q in kept[p])  # in order
        info = await js.consumer_info(subjects.EVENTS_STREAM, subjects.ingest_consumer(p))
        assert (info.num_pending, info.num_ack_pending) == (0, 0)


async def test_the_single_consumer_of_before_hands_over_after_its_ack_floor(
    fresh: tuple[str, JetStreamContext],
) -> None:
    url, js = fresh
    await js.add_stream(STREAMS[0])
    old = ConsumerConfig(durable_name=subjects.INGEST_CONSUMER, ack_policy=AckPolicy.EXPLICIT)
    await js.add_consumer(subjects.EVENTS_STREAM, old)
    await publish(js, 10, "before")
    reader = WireConsumer(url, subjects.EVENTS_STREAM, subjects.INGEST_CONSUMER, batch=4)
    await reader.start()
    await reader.ack(await reader.fetch(expires_s=0.5))  # 4 done before the upgrade
    await reader.close()

    await ensure_streams(js)
    await publish(js, 10, "after")

    with pytest.raises(NotFoundError):
        await js.consumer_info(subjects.EVENTS_STREAM, subjects.INGEST_CONSUMER)
    for p in PARTS:
        info = await js.consumer_info(subjects.EVENTS_STREAM, subjects.ingest_consumer(p))
        assert info.num_pending == 16  # 6 left from before, 10 new: each partition sees all


def rewinding(url: str, js: JetStreamContext) -> WireConsumer:
    on_connect = functools.partial(rewind, js, subjects.EVENTS_STREAM, ingest_config(0))
    name = subjects.ingest_consumer(0)
    return WireConsumer(url, subjects.EVENTS_STREAM, name, batch=10, on_connect=on_connect)


async def drain_seqs(reader: WireConsumer, empty_pulls: int = 3) -> list[int]:
    """Until `empty_pulls` pulls in a row bring nothing (one may meet a connection just lost)."""
    seqs: list[int] = []
    empty = 0
    while empty < empty_pulls:
        batch = await reader.fetch_batch(expires_s=0.3)
        seqs += [d.stream_seq for d in batch.deliveries]
        await reader.ack_batch(batch)
        empty = 0 if batch.ack else empty + 1
    return seqs


async def test_what_a_dead_worker_had_out_comes_again_before_anything_newer_is_acked(
    fresh: tuple[str, JetStreamContext],
) -> None:
    url, js = fresh
    await ensure_streams(js)
    await publish(js, 30, "d")
    dying = rewinding(url, js)
    await dying.start()
    assert len((await dying.fetch_batch(expires_s=0.5)).deliveries) == 10  # never acked
    await dying.close()  # kill -9: the batch was neither committed nor acknowledged

    restarted = rewinding(url, js)
    await restarted.start()
    try:
        assert await drain_seqs(restarted) == list(range(1, 31))
    finally:
        await restarted.close()


async def test_a_batch_from_a_dropped_connection_is_not_acked_and_comes_again(
    fresh: tuple[str, JetStreamContext],
) -> None:
    url, js = fresh
    await ensure_streams(js)
    await publish(js, 25, "d")
    reader = rewinding(url, js)
    await reader.start()
    try:
        first = await reader.fetch_batch(expires_s=0.5)
        second = await reader.fetch_batch(expires_s=0.5)  # out, but never to be acked
        assert reader._proto is not None and reader._proto.transport is not None
        reader._proto.transport.abort()
        await reader.ack_batch(first)  # committed before the drop: its ack is held back too
        seqs = await drain_seqs(reader)
        assert seqs == list(range(1, 26))  # both batches again, then the rest
        assert [d.stream_seq for d in second.deliveries] == list(range(11, 21))
    finally:
        await reader.close()


async def test_the_status_line_counts_each_event_once_however_many_partitions_see_it(
    fresh: tuple[str, JetStreamContext], servers: Servers
) -> None:
    url, js = fresh
    await ensure_streams(js)
    await publish(js, 12, "d")
    await db.migrate(servers.database_url)
    nc = await nats.connect(url)
    conn = await db.connect(servers.database_url)
    try:
        snap = await StatusProbe(nc, conn).snapshot()
    finally:
        await conn.close()
        await nc.close()
    assert snap.backlog == 12
