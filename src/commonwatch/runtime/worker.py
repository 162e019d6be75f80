"""The ingest worker process: JetStream -> parse -> correlate -> PostgreSQL -> ack after commit."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from commonwatch.bus import deadletter, streams, subjects
from commonwatch.bus.pull import Batch, Delivery
from commonwatch.bus.streams import ensure_streams
from commonwatch.bus.wire import WireConsumer, server_url
from commonwatch.domain.model import DeviceEvent
from commonwatch.domain.rules import Rules
from commonwatch.handlers.ingest import ingest_batch
from commonwatch.ingest.native.parse import (
    ParseError,
    check_ident,
    decode_one,
    to_event,
    untrusted,
)
from commonwatch.runtime.signals import stop_on_signals
from commonwatch.storage import db, places

log = logging.getLogger(__name__)

# Messages per pull. Each worker keeps its partition's share, so it commits about
# PULL_BATCH / INGEST_PARTITIONS events at a time when a backlog is waiting.
PULL_BATCH = 2000 * subjects.INGEST_PARTITIONS


@dataclass
class Parsed:
    events: list[DeviceEvent] = field(default_factory=list)
    seqs: list[int | None] = field(default_factory=list)
    dead: list[deadletter.DeadLetter] = field(default_factory=list)


@functools.lru_cache(maxsize=65_536)
def place_of(subject: str) -> tuple[str | None, str]:
    """(community or None, device) from a subject; cached because devices repeat all day."""
    place = subjects.parse_event_subject(subject)
    if place is None:
        raise ParseError(f"subject {subject!r} is not commonwatch.events.<community>.<device>")
    community, device = place
    check_ident(device, "device")
    if community == "_":
        return None, device
    return check_ident(community, "community"), device


def parse_delivery(d: Delivery) -> DeviceEvent:
    community, device = place_of(d.subject)
    item = decode_one(d.data)
    if d.mqtt:
        item = untrusted(item)
    received = datetime.fromtimestamp(d.stored_ns / 1e9, UTC)
    source = "mqtt" if d.mqtt else "bus"
    return to_event(
        item,
        fallback_id=f"js-{d.stream_seq}",
        received=received,
        device=device,
        community=community,
        source=source,
    )


def parse_batch(deliveries: list[Delivery]) -> Parsed:
    parsed = Parsed()
    for d in deliveries:
        try:
            event = parse_delivery(d)
        except ParseError as exc:
            source = "mqtt" if d.mqtt else "bus"
            summary = deadletter.summarise(d.data)
            parsed.dead.append(deadletter.DeadLetter(source, exc.reason, d.subject, summary))
            continue
        parsed.events.append(event)
        parsed.seqs.append(d.stream_seq)
    return parsed


class IngestWorker:
    def __init__(
        self,
        *,
        nc: Client,
        js: JetStreamContext,
        conn: asyncpg.Connection,
        rules: Rules,
        partition: int = 0,
    ) -> None:
        self.nc, self.js, self.conn, self.rules = nc, js, conn, rules
        # Its own connection, on the same server as `nc`: the hot loop skips nats-py's per-message
        # costs, while dead letters keep using the ordinary client.
        self.consumer = WireConsumer(
            server_url(nc),
            subjects.EVENTS_STREAM,
            subjects.ingest_consumer(partition),
            name=f"commonwatch-ingest-{partition}",
            batch=PULL_BATCH,
            partition=(partition, subjects.INGEST_PARTITIONS),
            on_connect=functools.partial(
                streams.rewind, js, subjects.EVENTS_STREAM, streams.ingest_config(partition)
            ),
        )
        self.places = places.PlaceCache()
        self.processed = 0

    async def start(self) -> None:
        await self.conn.add_listener(places.CHANNEL, self.places.forget)
        await self.consumer.start()

    async def step(self, expires_s: float = 1.0) -> int:
        """One batch, start to finish: fetch, parse, store, acknowledge. Returns how many
        messages the pull brought, this partition's and others' (which it only acknowledges)."""
        batch = await self.consumer.fetch_batch(expires_s=expires_s)
        if batch.ack is not None:
            await self._commit(batch, parse_batch(batch.deliveries))
        return self.consumer.last_received

    async def _commit(self, batch: Batch, parsed: Parsed) -> None:
        await deadletter.publish(self.js, parsed.dead)
        if parsed.events:
            await self._store(parsed)
        # Only now, after COMMIT: a crash before this line means redelivery, never loss.
        # Batches commit in stream order, and the consumer acks all up to the one acked.
        await self.consumer.ack_batch(batch)
        self.processed += len(batch.deliveries)

    async def _store(self, parsed: Parsed) -> None:
        try:
            await ingest_batch(
                self.conn, parsed.events, parsed.seqs, rules=self.rules, places=self.places
            )
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError):
            # One bad row must not block the stream: store one by one, dead-letter what fails.
            await self._store_each(parsed)

    async def _store_each(self, parsed: Parsed) -> None:
        for event, seq in zip(parsed.events, parsed.seqs, strict=True):
            try:
                await ingest_batch(self.conn, [event], [seq], rules=self.rules, places=self.places)
            except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
                letter = deadletter.DeadLetter("store", str(exc), event.id, None)
                await deadletter.publish(self.js, [letter])

    async def run(self, stop: asyncio.Event) -> None:
        """Two stages: while one batch is in PostgreSQL, the next is fetched and parsed."""
        ready: asyncio.Queue[tuple[Batch, Parsed]] = asyncio.Queue(maxsize=1)
        fetcher = asyncio.create_task(self._fetch_into(ready, stop))
        try:
            while not (stop.is_set() and ready.empty()):
                try:
                    batch, parsed = await asyncio.wait_for(ready.get(), timeout=0.5)
                except TimeoutError:
                    if fetcher.done():
                        fetcher.result()  # re-raise what stopped the fetcher
                        return
                    continue
                await self._commit(batch, parsed)
        finally:
            fetcher.cancel()
            await asyncio.gather(fetcher, return_exceptions=True)

    async def _fetch_into(
        self, ready: asyncio.Queue[tuple[Batch, Parsed]], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            batch = await self.consumer.fetch_batch(expires_s=1.0)
            if batch.ack is not None:
                await ready.put((batch, parse_batch(batch.deliveries)))


async def connect_nats(url: str, name: str) -> Client:
    return await nats.connect(
        url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, pending_size=64 << 20
    )


async def run(
    database_url: str, nats_url: str, rules: Rules, stop: asyncio.Event, partition: int = 0
) -> None:
    nc = await connect_nats(nats_url, f"commonwatch-worker-{partition}")
    js = nc.jetstream()
    await ensure_streams(js)
    conn = await db.connect(database_url)
    worker = IngestWorker(nc=nc, js=js, conn=conn, rules=rules, partition=partition)
    await worker.start()
    log.info("ingest worker consuming %s partition %d", subjects.EVENTS_STREAM, partition)
    try:
        await worker.run(stop)
    finally:
        await worker.consumer.close()
        await conn.close()
        await nc.drain()


async def main(database_url: str, nats_url: str, rules: Rules, partition: int = 0) -> None:
    """The `commonwatch worker` process: migrate, then consume until SIGINT/SIGTERM."""
    await db.migrate(database_url)
    await run(database_url, nats_url, rules, stop_on_signals(), partition)
