"""The bare pipeline's consumer: decode, COPY, ack after commit. No places, no correlation.

It runs in its own process like the worker, on its own stream (MQTT topic bench/bare/...), so the
gap between it and the worker is the cost of the domain: place lookup, correlation, incidents.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as MpEvent

import asyncpg
import msgspec

from commonwatch.bus.pull import Delivery
from commonwatch.bus.wire import WireConsumer
from commonwatch.runtime.embedded import die_with_parent

STREAM = "BENCH_BARE"
SUBJECT_PREFIX = "bench.bare"
TOPIC_ROOT = "bench/bare"
DURABLE = "bare"
TABLE = "bench_bare"
# The worker's batch size, so that both pay the same per-batch costs.
BATCH: int = inspect.signature(WireConsumer).parameters["batch"].default

COLUMNS = (
    "id", "device_id", "community_id", "type", "state", "source", "device_ts", "received_ts",
    "stream_seq",
)  # fmt: skip


class BareEvent(msgspec.Struct, frozen=True):
    id: str
    type: str
    state: str
    ts: float


_decode = msgspec.json.Decoder(BareEvent).decode


def record(msg: Delivery, received: datetime) -> tuple[object, ...]:
    _, _, community, device = msg.subject.split(".")
    event = _decode(msg.data)
    device_ts = datetime.fromtimestamp(event.ts, UTC)
    return (event.id, device, community, event.type, event.state, "mqtt", device_ts, received, None)


async def store(conn: asyncpg.Connection, records: list[tuple[object, ...]]) -> None:
    try:
        await conn.copy_records_to_table(TABLE, records=records, columns=COLUMNS)
    except asyncpg.UniqueViolationError:
        # A QoS 1 redelivery: keep one row per id, as the real pipeline does.
        async with conn.transaction():
            await conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS bare_in (LIKE {TABLE} INCLUDING DEFAULTS)"
            )
            await conn.execute("TRUNCATE bare_in")
            await conn.copy_records_to_table("bare_in", records=records, columns=COLUMNS)
            await conn.execute(f"INSERT INTO {TABLE} SELECT * FROM bare_in ON CONFLICT DO NOTHING")


async def consume(database_url: str, nats_url: str, stop: MpEvent) -> None:
    conn = await asyncpg.connect(database_url)
    pull = WireConsumer(nats_url, STREAM, DURABLE, batch=BATCH, name="bench-bare")
    try:
        await pull.start()
        while not stop.is_set():
            msgs = await pull.fetch(expires_s=0.5)
            if msgs:
                received = datetime.now(UTC)
                await store(conn, [record(m, received) for m in msgs])
                await pull.ack_last(msgs)  # AckPolicy.ALL, as the worker
    finally:
        await pull.close()
        await conn.close()


def bare_main(database_url: str, nats_url: str, stop: MpEvent) -> None:
    """Process entry of the bare consumer."""
    die_with_parent()
    asyncio.run(consume(database_url, nats_url, stop))
