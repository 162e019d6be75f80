"""CW_EVENTS in partitions: one consumer each, and the way over from the single consumer."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from commonwatch.bus import subjects
from commonwatch.bus.streams import STREAMS, ensure_streams
from commonwatch.bus.wire import WireConsumer
from commonwatch.runtime.embedded import EmbeddedNats, free_port

OLD_EVENTS_STREAM = dataclasses.replace(STREAMS[0], subject_transform=None)


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
        await js.publish(subjects.event_subject(f"c{i % 5}", f"{tag}{i}"), b"{}")


async def pending(js: JetStreamContext, partition: int) -> int:
    info = await js.consumer_info(subjects.EVENTS_STREAM, subjects.ingest_consumer(partition))
    return int(info.num_pending or 0)


async def test_each_device_keeps_to_one_partition_and_every_event_has_a_consumer(
    fresh: tuple[str, JetStreamContext],
) -> None:
    _, js = fresh
    await ensure_streams(js)
    for _ in range(3):
        await js.publish(subjects.event_subject("c1", "same-device"), b"{}")
    await publish(js, 40, "d")
    await js.publish("commonwatch.events.too.many.levels", b"{}")  # garbage goes to partition 0
    counts = [await pending(js, p) for p in range(subjects.INGEST_PARTITIONS)]
    assert sum(counts) == 44
    assert all(counts)
    stored = {(await js.get_msg(subjects.EVENTS_STREAM, seq)).subject for seq in (1, 2, 3)}
    assert len(stored) == 1  # one device, one partition


async def test_the_single_consumer_of_before_hands_over_after_its_ack_floor(
    fresh: tuple[str, JetStreamContext],
) -> None:
    url, js = fresh
    await js.add_stream(OLD_EVENTS_STREAM)
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
    # The 6 old-shape messages go to partition 0; the 10 new ones are spread by device.
    counts = [await pending(js, p) for p in range(subjects.INGEST_PARTITIONS)]
    assert sum(counts) == 16
    assert counts[0] >= 6
