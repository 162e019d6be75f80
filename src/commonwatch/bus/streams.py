"""Creates or updates the platform's streams and durable consumers (idempotent)."""

from __future__ import annotations

import contextlib
import dataclasses

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from commonwatch.bus import subjects

DAY_S = 86_400.0

STREAMS = (
    StreamConfig(
        name=subjects.EVENTS_STREAM,
        subjects=[f"{subjects.EVENTS_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=7 * DAY_S,
        max_bytes=8 * 1024**3,
        discard=DiscardPolicy.OLD,
        duplicate_window=120.0,
    ),
    StreamConfig(
        name=subjects.DEADLETTER_STREAM,
        subjects=[f"{subjects.DEADLETTER_PREFIX}.>"],
        storage=StorageType.FILE,
        max_age=30 * DAY_S,
        max_bytes=1024**3,
        discard=DiscardPolicy.OLD,
    ),
    StreamConfig(
        name=subjects.CHANGES_STREAM,
        subjects=[f"{subjects.CHANGES_PREFIX}.>"],
        storage=StorageType.FILE,
        max_age=7 * DAY_S,
        max_bytes=2 * 1024**3,
        discard=DiscardPolicy.OLD,
        duplicate_window=300.0,
    ),
)


def ingest_config(partition: int) -> ConsumerConfig:
    """One durable consumer per partition, read by one worker process. No filter: the stream
    holds only events, and a filtered consumer costs the server far more per message.

    AckPolicy.ALL: the worker commits batches in stream order, so one ack after each commit
    covers the batch; acking each message cost the worker and the server about 10 µs per event.
    """
    return ConsumerConfig(
        durable_name=subjects.ingest_consumer(partition),
        ack_policy=AckPolicy.ALL,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=10.0,
        # We acknowledge after each batch commits; 1,000 pending (the default) would stall batching.
        max_ack_pending=100_000,
        max_waiting=16,
    )


async def ensure_streams(js: JetStreamContext) -> None:
    for config in STREAMS:
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    await _ensure_ingest_consumers(js)


async def _ensure_ingest_consumers(js: JetStreamContext) -> None:
    """The partition consumers; made from the single consumer of before, after its ack floor.

    Messages past the floor that the old consumer had delivered come again, to the worker of
    their partition, which writes idempotently."""
    stream = subjects.EVENTS_STREAM
    configs = [ingest_config(p) for p in range(subjects.INGEST_PARTITIONS)]
    try:
        single = await js.consumer_info(stream, subjects.INGEST_CONSUMER)
    except NotFoundError:
        single = None
    for config in configs:
        if single is not None:
            config = _after_floor(config, single.ack_floor.stream_seq if single.ack_floor else 0)
        await ensure_consumer(js, stream, config)
    if single is not None:
        with contextlib.suppress(NotFoundError):  # another worker moved it over just now
            await js.delete_consumer(stream, subjects.INGEST_CONSUMER)


def _after_floor(config: ConsumerConfig, floor: int) -> ConsumerConfig:
    if not floor:
        return config
    return dataclasses.replace(
        config, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=floor + 1
    )


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Create or update a durable consumer, and move one made with another ack policy over.

    An ack policy cannot be updated in place. The old consumer is replaced by one that starts
    after its ack floor: what was delivered but not acknowledged comes again, and the ingest
    writes are idempotent, so nothing is lost or doubled.
    """
    name = config.durable_name or ""
    try:
        info = await js.consumer_info(stream, name)
    except NotFoundError:
        await js.add_consumer(stream, config)
        return
    if info.config.ack_policy == config.ack_policy:
        kept = {
            "deliver_policy": info.config.deliver_policy,
            "opt_start_seq": info.config.opt_start_seq,
        }
        await js.add_consumer(stream, dataclasses.replace(config, **kept))
        return
    floor = info.ack_floor.stream_seq if info.ack_floor else 0
    await js.delete_consumer(stream, name)
    await js.add_consumer(stream, _after_floor(config, floor))


async def rewind(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Start an AckPolicy.ALL consumer again after its ack floor when it has messages out that
    were never acknowledged: the process that had them died, or the connection they were on
    dropped. Otherwise the next ack, for a newer message, would cover them unprocessed."""
    name = config.durable_name or ""
    info = await js.consumer_info(stream, name)
    if not info.num_ack_pending:
        return
    floor = info.ack_floor.stream_seq if info.ack_floor else 0
    await js.delete_consumer(stream, name)
    await js.add_consumer(stream, _after_floor(config, floor))
