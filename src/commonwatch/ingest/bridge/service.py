"""The bridge process: the embedded listener and external brokers in, one pipeline, device
health from CW_EVENTS, a stale-device sweep, and connection statuses for the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext

from commonwatch.bus.streams import ensure_streams
from commonwatch.handlers.dispatch import load_dispatch_rules
from commonwatch.handlers.health import sweep_stale
from commonwatch.ingest.bridge.config import BridgeFile, default_path, load_config
from commonwatch.ingest.bridge.embedded import EmbeddedListener, RawCaptured, refuse_capture
from commonwatch.ingest.bridge.external import ExternalBroker
from commonwatch.ingest.bridge.health_feed import HealthFeed, ensure_consumer
from commonwatch.ingest.bridge.pipeline import Pipeline
from commonwatch.ingest.bridge.router import Inbound, Router
from commonwatch.runtime.config import Settings
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db, sources
from commonwatch.storage.sources import ConnectionView

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
DRAIN_TIMEOUT_S = 5.0


class Bridge:
    def __init__(
        self, config: BridgeFile, *, nc: Client, js: JetStreamContext, pool: asyncpg.Pool
    ) -> None:
        self.config, self.nc, self.js, self.pool = config, nc, js, pool
        self.queue: asyncio.Queue[Inbound] = asyncio.Queue()
        radius = load_dispatch_rules().settings.arrival_radius_m
        self.pipeline = Pipeline(Router.from_config(config), pool, js, arrival_radius_m=radius)
        self.embedded = EmbeddedListener(nc, config, self.queue) if config.bridge.embedded else None
        self.brokers: list[ExternalBroker] = []
        self.health = HealthFeed(nc, pool)
        self.started_at = datetime.now(UTC)

    async def start(self) -> None:
        if self.embedded is not None:
            await refuse_capture(self.js, self.embedded.filters)
        await ensure_consumer(self.js)
        await self.health.start()
        await self.pipeline.load_states()
        if self.embedded is not None:
            await self.embedded.start()
            log.info(
                "bridge: reading the embedded listener on %s", ", ".join(self.embedded.filters)
            )
        loop = asyncio.get_running_loop()
        for broker in self.config.bridge.brokers:
            external = ExternalBroker(broker, self.queue, loop)
            external.start()
            self.brokers.append(external)

    async def stop(self) -> None:
        if self.embedded is not None:
            await self.embedded.stop()
        for broker in self.brokers:
            await asyncio.to_thread(broker.stop)
        # What arrived before the subscriptions closed is handed on, not dropped.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.drain(), timeout=DRAIN_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await self.save_statuses()

    async def run(self, stop: asyncio.Event) -> None:
        jobs = [
            self._consume(stop),
            self._every(stop, "health", 0.0, self.health.step),
            self._every(stop, "sweep", self.config.bridge.sweep_every_s, self.sweep),
            self._every(stop, "status", self.config.bridge.status_every_s, self.save_statuses),
        ]
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _consume(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            message = await self.queue.get()
            await self.pipeline.handle(message, stop)

    async def drain(self) -> None:
        """Handle everything queued so far (tests, and a clean stop)."""
        while not self.queue.empty():
            await self.pipeline.handle(self.queue.get_nowait())

    async def _every(
        self,
        stop: asyncio.Event,
        name: str,
        interval_s: float,
        job: Callable[[], Awaitable[object]],
    ) -> None:
        while not stop.is_set():
            try:
                await job()
            except Exception as exc:  # keep the bridge up while PostgreSQL or NATS restarts
                log.warning("bridge: %s failed: %s", name, type(exc).__name__)
                await asyncio.sleep(1.0)
            if interval_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval_s)

    async def sweep(self) -> None:
        async with self.pool.acquire() as conn:
            await sweep_stale(conn, older_than_s=self.config.bridge.stale_after_h * 3600)
            await sources.link_evidence(conn)

    def statuses(self) -> list[ConnectionView]:
        found = [b.status() for b in self.brokers]
        if self.embedded is not None:
            found.append(
                ConnectionView(
                    name=EMBEDDED,
                    url="embedded MQTT listener (" + ", ".join(self.embedded.filters) + ")",
                    source="auto",
                    state="subscribed",
                    since=self.started_at,
                    messages=self.embedded.messages,
                    last_message_at=self.embedded.last_message_at,
                )
            )
        return found

    async def save_statuses(self) -> None:
        async with self.pool.acquire() as conn:
            await sources.save_connections(conn, self.statuses())


async def main_bridge(
    settings: Settings, stop: asyncio.Event, *, config_path: Path | None = None
) -> None:
    if not settings.database_url or not settings.nats_url:
        raise RuntimeError("the bridge needs the database and NATS URLs (see `commonwatch up`)")
    config = load_config(config_path or default_path(settings.data_dir))
    await db.migrate(settings.database_url)
    nc = await connect_nats(settings.nats_url, "commonwatch-bridge")
    pool = await db.create_pool(settings.database_url, min_size=1, max_size=4)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        bridge = Bridge(config, nc=nc, js=js, pool=pool)
        try:
            await bridge.start()
        except RawCaptured as exc:
            log.error("bridge: refusing to start: %s", exc)
            raise
        try:
            await bridge.run(stop)
        finally:
            await bridge.stop()
    finally:
        await pool.close()
        await nc.drain()
