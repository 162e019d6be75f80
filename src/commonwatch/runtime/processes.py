"""Entry points of the api process (HTTP, outbox relay, timers, retention) and the simulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import uvicorn

from commonwatch.bus import relay
from commonwatch.bus.streams import ensure_streams
from commonwatch.domain.rules import Rules
from commonwatch.handlers.dispatch import fire_assignment_timers
from commonwatch.handlers.escalation import fire_due_timers
from commonwatch.handlers.retention import enforce_retention
from commonwatch.runtime import worker
from commonwatch.storage import db

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0


async def timers_loop(database_url: str, rules: Rules, stop: asyncio.Event) -> None:
    conn = await db.connect(database_url)
    try:
        while not stop.is_set():
            fired = await fire_due_timers(conn, rules=rules)
            fired += await fire_assignment_timers(conn, now=datetime.now(UTC))
            if not fired:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
    finally:
        await conn.close()


async def retention_loop(database_url: str, stop: asyncio.Event) -> None:
    conn = await db.connect(database_url)
    try:
        while not stop.is_set():
            deleted = await enforce_retention(conn)
            if any(deleted.values()):
                log.info("retention deleted %s", deleted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RETENTION_EVERY_S)
    finally:
        await conn.close()


async def relay_loop(database_url: str, nats_url: str, stop: asyncio.Event) -> None:
    nc = await worker.connect_nats(nats_url, "commonwatch-relay")
    js = nc.jetstream()
    await ensure_streams(js)
    conn = await db.connect(database_url)
    try:
        await relay.run(conn, js, stop)
    finally:
        await conn.close()
        await nc.drain()


async def _keep_running(name: str, job: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    """Restart a background job after an error (e.g. the database restarting) until stop."""
    while not stop.is_set():
        try:
            await job()
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.warning("%s stopped (%s); restarting in 1 s", name, exc)
        except Exception:
            log.exception("%s failed; restarting in 1 s", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def api_main(database_url: str, nats_url: str, rules: Rules, *, host: str, port: int) -> None:
    from commonwatch.api.app import create_app

    app = create_app(database_url=database_url, nats_url=nats_url, rules=rules)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            # Open SSE streams never end on their own; don't let them hold shutdown hostage.
            timeout_graceful_shutdown=3,
        )
    )
    stop = asyncio.Event()
    jobs = [
        asyncio.create_task(
            _keep_running("relay", lambda: relay_loop(database_url, nats_url, stop), stop)
        ),
        asyncio.create_task(
            _keep_running("timers", lambda: timers_loop(database_url, rules, stop), stop)
        ),
        asyncio.create_task(
            _keep_running("retention", lambda: retention_loop(database_url, stop), stop)
        ),
    ]
    try:
        await server.serve()
    finally:
        stop.set()
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)


async def simulate_main(database_url: str, mqtt_port: int, rate: float) -> None:
    from commonwatch.sim.simulator import main_simulate

    stop = threading.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await main_simulate(
        database_url=database_url, mqtt_host="127.0.0.1", mqtt_port=mqtt_port, rate=rate, stop=stop
    )
