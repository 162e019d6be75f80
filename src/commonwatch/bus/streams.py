"""Creates or updates the platform's streams and durable consumers (idempotent)."""

from __future__ import annotations

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

INGEST = ConsumerConfig(
    durable_name=subjects.INGEST_CONSUMER,
    ack_policy=AckPolicy.EXPLICIT,
    deliver_policy=DeliverPolicy.ALL,
    ack_wait=10.0,
    # We acknowledge after each batch commits; the default of 1,000 pending would stall batching.
    max_ack_pending=100_000,
    max_waiting=16,
    filter_subject=f"{subjects.EVENTS_PREFIX}.>",
)


async def ensure_streams(js: JetStreamContext) -> None:
    for config in STREAMS:
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    await js.add_consumer(subjects.EVENTS_STREAM, INGEST)
