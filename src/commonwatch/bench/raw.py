"""Raw limits of the building blocks, measured in the same run: JetStream and PostgreSQL COPY."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
from rich.progress import Progress, TaskID

from commonwatch.bench import lean, traffic
from commonwatch.bus.wire import WireConsumer, server_url

RAW_STREAM = "BENCH_RAW"
RAW_PREFIX = "bench.raw"
PULL_BATCH = 500
PUBLISH_WINDOW = 5000

COPY_COLUMNS = (
    "id",
    "device_id",
    "community_id",
    "type",
    "state",
    "value",
    "source",
    "device_ts",
    "received_ts",
    "stream_seq",
)


@dataclass(frozen=True, slots=True)
class JetStreamLimits:
    messages: int
    publish_per_s: float
    consume_ack_each_per_s: float
    consume_ack_all_per_s: float
    publish_errors: int


@dataclass(frozen=True, slots=True)
class CopyLimits:
    rows: int
    batch_1000_per_s: float
    batch_10000_per_s: float


async def scratch_like_events(conn: asyncpg.Connection, table: str) -> None:
    """A table like `events`, with its indexes, so that a row costs what an event row does."""
    await conn.execute(f"DROP TABLE IF EXISTS {table}")
    await conn.execute(f"CREATE TABLE {table} (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)")
    # The pipeline resolves places with a join; a bare writer has none, so give it a constant.
    await conn.execute(f"ALTER TABLE {table} ALTER COLUMN jpath SET DEFAULT 'unassigned'")


def copy_records(count: int, start: int) -> list[tuple[object, ...]]:
    now = datetime.now(UTC)
    places = traffic.device_places()
    mix = traffic.Mix(seed=start, devices=len(places))
    rows: list[tuple[object, ...]] = []
    for n in range(start, start + count):
        device, kind, state = mix.next()
        community, device_id = places[device]
        rows.append((f"cp{n}", device_id, community, kind, state, None, "mqtt", now, now, n))
    return rows


async def copy_rate(conn: asyncpg.Connection, rows: int, batch: int, progress: Progress) -> float:
    """Rows/s of copy_records_to_table, one commit per batch (no explicit transaction)."""
    await scratch_like_events(conn, "bench_copy")
    task = progress.add_task(f"COPY, batches of {batch:,}", total=rows)
    batches = [copy_records(batch, n) for n in range(0, rows, batch)]
    start = time.monotonic()
    for records in batches:
        await conn.copy_records_to_table("bench_copy", records=records, columns=COPY_COLUMNS)
        progress.advance(task, len(records))
    elapsed = time.monotonic() - start
    await conn.execute("DROP TABLE bench_copy")
    return sum(len(b) for b in batches) / elapsed


async def copy_limits(conn: asyncpg.Connection, rows: int, progress: Progress) -> CopyLimits:
    small = await copy_rate(conn, rows, 1000, progress)
    large = await copy_rate(conn, rows, 10_000, progress)
    return CopyLimits(rows, small, large)


async def _consume(
    nc: Client, durable: str, count: int, ack_all: bool, task: TaskID, progress: Progress
) -> float:
    """The worker's own consumer (bus.wire), without the worker: the limit of its hot loop."""
    pull = WireConsumer(server_url(nc), RAW_STREAM, durable, batch=PULL_BATCH, name="bench-raw")
    await pull.start()
    got = 0
    start = time.monotonic()
    deadline = start + max(60.0, count / 2000)
    while got < count and time.monotonic() < deadline:
        msgs = await pull.fetch(expires_s=1.0)
        await (pull.ack_last(msgs) if ack_all else pull.ack(msgs))
        got += len(msgs)
        progress.advance(task, len(msgs))
    elapsed = time.monotonic() - start
    await pull.close()
    if got < count:
        raise RuntimeError(f"raw pull got {got} of {count} messages")
    return count / elapsed


async def jetstream_limits(
    nc: Client, js: JetStreamContext, count: int, progress: Progress
) -> JetStreamLimits:
    config = StreamConfig(RAW_STREAM, subjects=[f"{RAW_PREFIX}.>"], storage=StorageType.FILE)
    await js.add_stream(config)
    try:
        subjects = traffic.event_subjects(RAW_PREFIX)
        task = progress.add_task("JetStream lean publish", total=count)
        counter = lean.AckCounter(nc, PUBLISH_WINDOW)
        items = traffic.messages("raw", count, seed=7, targets=subjects)
        seconds = await counter.publish_all(items, timeout_s=max(60.0, count / 2000))
        progress.update(task, completed=counter.acked)
        rates = []
        for durable, policy in (("each", AckPolicy.EXPLICIT), ("all", AckPolicy.ALL)):
            await js.add_consumer(
                RAW_STREAM,
                ConsumerConfig(durable_name=durable, ack_policy=policy, max_ack_pending=100_000),
            )
            task = progress.add_task(f"JetStream pull, ack {durable}", total=count)
            rates.append(
                await _consume(nc, durable, count, policy is AckPolicy.ALL, task, progress)
            )
        return JetStreamLimits(count, counter.acked / seconds, rates[0], rates[1], counter.errors)
    finally:
        await js.delete_stream(RAW_STREAM)
