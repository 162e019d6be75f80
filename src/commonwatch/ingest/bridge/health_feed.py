"""Device health from every event on CW_EVENTS, whatever its source (bridge, SIA, HTTP), through
a durable consumer of its own: health never slows the ingest worker down."""

from __future__ import annotations

import asyncio
import functools
import logging

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from commonwatch.bus import streams, subjects
from commonwatch.bus.wire import WireConsumer, server_url
from commonwatch.domain.model import DeviceEvent
from commonwatch.handlers import health
from commonwatch.ingest.native.parse import ParseError
from commonwatch.runtime.worker import parse_delivery

log = logging.getLogger(__name__)

CONSUMER = "health"

CONFIG = ConsumerConfig(
    durable_name=CONSUMER,
    ack_policy=AckPolicy.ALL,  # batches are handled in stream order: one ack covers each
    # A first start looks at what comes next, not at a week of history.
    deliver_policy=DeliverPolicy.NEW,
    ack_wait=30.0,
    max_ack_pending=100_000,
    max_waiting=4,
    filter_subject=f"{subjects.EVENTS_PREFIX}.>",
)


async def ensure_consumer(js: JetStreamContext) -> None:
    await streams.ensure_consumer(js, subjects.EVENTS_STREAM, CONFIG)


class HealthFeed:
    def __init__(self, nc: Client, pool: asyncpg.Pool) -> None:
        self.pool = pool
        rewind = functools.partial(streams.rewind, nc.jetstream(), subjects.EVENTS_STREAM, CONFIG)
        self.consumer = WireConsumer(
            server_url(nc), subjects.EVENTS_STREAM, CONSUMER, batch=1000, name="commonwatch-health",
            on_connect=rewind,
        )  # fmt: skip

    async def start(self) -> None:
        await self.consumer.start()

    async def step(self, expires_s: float = 1.0) -> int:
        batch = await self.consumer.fetch_batch(expires_s=expires_s)
        deliveries = batch.deliveries
        if not deliveries:
            return 0
        events: list[DeviceEvent] = []
        for d in deliveries:
            try:
                events.append(parse_delivery(d))
            except ParseError:
                continue  # the ingest worker dead-letters it; health has nothing to learn
        signals = health.signals_from(events)
        if signals:
            async with self.pool.acquire() as conn:
                await health.observe(conn, signals)
        await self.consumer.ack_batch(batch)
        return len(deliveries)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.step()
