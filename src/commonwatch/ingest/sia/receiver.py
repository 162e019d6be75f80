"""The SIA DC-09 receiver process: listeners, account reloads, supervision sweeps, log writing.

PostgreSQL holds accounts and supervision state but is not on the path of an ACK: with the
database away the receiver keeps answering from the accounts it has, and only JetStream's ack
gates an ACK. Nothing connects before `start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from nats.aio.client import Client

from commonwatch.bus.streams import ensure_streams
from commonwatch.ingest.sia import store, transport
from commonwatch.ingest.sia.config import DEFAULT_PORT, Account, Book, merge, static_accounts
from commonwatch.ingest.sia.publish import DEFAULT_TIMEOUT_S, JetStreamPublisher, connect
from commonwatch.ingest.sia.service import SiaService, utcnow
from commonwatch.ingest.sia.sinks import DB_ERRORS, ReceiverSinks
from commonwatch.ingest.sia.supervision import DEFAULT_GRACE_S, Supervisor
from commonwatch.runtime.config import Settings
from commonwatch.storage import db

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True)
class ReceiverOptions:
    nats_url: str
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    static: tuple[Account, ...] = ()
    reload_s: float = 5.0
    sweep_s: float = 2.0
    grace_s: float = DEFAULT_GRACE_S
    publish_timeout_s: float = DEFAULT_TIMEOUT_S
    idle_timeout_s: float = transport.DEFAULT_IDLE_TIMEOUT_S


@dataclass
class _Running:
    nc: Client
    publisher: JetStreamPublisher
    sinks: ReceiverSinks
    server: asyncio.Server
    udp: asyncio.DatagramTransport
    connections: set[transport.PanelConnection]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Receiver:
    def __init__(self, options: ReceiverOptions) -> None:
        self.options = options
        self.book = merge(options.static)
        self.supervisor = Supervisor(utcnow(), grace_s=options.grace_s)
        self.reload_now = asyncio.Event()
        self.stopping = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._run: _Running | None = None
        self._problems: list[str] = []
        self.service: SiaService | None = None

    @property
    def port(self) -> int:
        assert self._run is not None, "start() first"
        return int(self._run.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        o = self.options
        nc = await connect(o.nats_url)
        js = nc.jetstream()
        await ensure_streams(js)
        self._pool = pool = await self._open_pool()
        publisher = JetStreamPublisher(nc, timeout_s=o.publish_timeout_s)
        await publisher.start()
        sinks = ReceiverSinks(js=js, pool=pool)
        await self._first_load(pool)
        self.service = SiaService(
            publisher=publisher, accounts=lambda: self.book, supervisor=self.supervisor,
            sinks=sinks,
        )  # fmt: skip
        server, udp, conns = await transport.bind(
            self.service.handle, sinks.dead, o.host, o.port, o.idle_timeout_s
        )
        self._run = _Running(nc, publisher, sinks, server, udp, conns)
        self._run.tasks = [
            asyncio.create_task(self._forever("sinks", lambda: sinks.run(self.stopping))),
            asyncio.create_task(self._forever("accounts", self._reload_loop)),
            asyncio.create_task(self._forever("supervision", self._sweep_loop)),
        ]
        log.info("SIA DC-09 receiver on %s:%d (TCP+UDP), %d accounts", o.host, self.port,
                 len(self.book))  # fmt: skip

    async def _open_pool(self) -> asyncpg.Pool | None:
        if not self.options.database_url:
            return None
        try:
            return await store.create_pool(self.options.database_url)
        except DB_ERRORS as exc:
            # Alarms matter more than accounts from the table: answer with what we have.
            log.warning("SIA receiver starts without PostgreSQL: %r", exc)
            return None

    async def _first_load(self, pool: asyncpg.Pool | None) -> None:
        if pool is not None:
            await self._restore(pool)
        await self.reload()

    async def _restore(self, pool: asyncpg.Pool) -> None:
        try:
            async with pool.acquire() as conn:
                self.supervisor.restore(await store.load_watches(conn))
        except DB_ERRORS as exc:
            log.warning("could not read SIA supervision state: %r", exc)

    async def _reconnect(self) -> None:
        """A database that was away at start: connect now, and pick up its state."""
        if self._pool is not None or self._run is None:
            return
        self._pool = await self._open_pool()
        if self._pool is not None:
            self._run.sinks.attach(self._pool)
            await self._restore(self._pool)

    async def reload(self) -> Book:
        """Accounts from the table merged over the static ones; the old book on error."""
        await self._reconnect()
        pool = self._pool
        static = list(self.options.static)
        if pool is not None:
            try:
                async with pool.acquire() as conn:
                    placed = await store.place_paths(conn, static)
                    dynamic, problems = await store.load_accounts(conn)
                self._report(problems)
                self.book = merge(placed, dynamic)
            except DB_ERRORS as exc:
                log.warning("keeping %d SIA accounts; reload failed: %r", len(self.book), exc)
        self.supervisor.track(self.book, utcnow())
        return self.book

    def _report(self, problems: list[str]) -> None:
        if problems != self._problems:
            for problem in problems:
                log.warning("SIA account ignored: %s", problem)
            self._problems = problems

    async def _reload_loop(self) -> None:
        while not self.stopping.is_set():
            await self._listen()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reload_now.wait(), self.options.reload_s)
            self.reload_now.clear()
            if not self.stopping.is_set():
                await self.reload()

    async def _listen(self) -> None:
        """NOTIFY from the API makes a change take effect at once; polling is the fallback."""
        url = self.options.database_url
        if not url or (self._listener is not None and not self._listener.is_closed()):
            return
        try:
            self._listener = await asyncpg.connect(url)
            await self._listener.add_listener(store.NOTIFY_CHANNEL, self._notified)
        except DB_ERRORS as exc:
            log.debug("LISTEN %s: %r", store.NOTIFY_CHANNEL, exc)
            self._listener = None

    def _notified(self, *_: object) -> None:
        self.reload_now.set()

    async def _sweep_loop(self) -> None:
        assert self.service is not None
        purged_at = 0.0
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            await self.service.sweep()
            await self._save_watches()
            if self._pool is not None and loop.time() - purged_at > PURGE_EVERY_S:
                purged_at = loop.time()
                async with self._pool.acquire() as conn:
                    await store.purge_messages(conn)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.options.sweep_s)

    async def _save_watches(self) -> None:
        pool = self._pool
        if pool is None:
            return
        watches = self.supervisor.take_dirty(self.book)
        try:
            async with pool.acquire() as conn:
                await store.save_watches(conn, watches)
        except DB_ERRORS as exc:
            self.supervisor.mark_dirty(watches)
            log.warning("could not store SIA supervision state: %r", exc)

    async def _forever(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        """Restart a background loop after an error (a database restart) until stopping."""
        while not self.stopping.is_set():
            try:
                await job()
            except Exception:
                log.exception("SIA %s loop failed; restarting in 1 s", name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), 1.0)

    async def stop(self) -> None:
        self.stopping.set()
        self.reload_now.set()
        run, self._run = self._run, None
        if run is None:
            return
        run.server.close()
        run.udp.close()
        for conn in list(run.connections):
            conn.abort()
        await asyncio.gather(*run.tasks, return_exceptions=True)
        await self._save_watches()
        await run.publisher.stop()
        await _close(run.nc, self._pool, self._listener)

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()


async def _close(
    nc: Client, pool: asyncpg.Pool | None, listener: asyncpg.Connection | None
) -> None:
    with contextlib.suppress(Exception):
        # drain() waits for a server that may be gone; close() does not.
        await (nc.drain() if nc.is_connected else nc.close())
    if listener is not None:
        with contextlib.suppress(*DB_ERRORS):
            await listener.close()
    if pool is not None:
        with contextlib.suppress(*DB_ERRORS):
            await asyncio.wait_for(pool.close(), 5.0)


async def main_sia(
    settings: Settings, stop: asyncio.Event, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> None:
    """The receiver as `commonwatch up` runs it: PostgreSQL and NATS from settings, accounts
    from COMMONWATCH_SIA_ACCOUNTS, COMMONWATCH_SIA_CONFIG and the sia_accounts table."""
    if not settings.nats_url:
        raise SystemExit("the SIA receiver needs COMMONWATCH_NATS_URL (or `commonwatch up`)")
    if settings.database_url:
        try:
            await db.migrate(settings.database_url)
        except DB_ERRORS as exc:
            # The bus alone is enough to take alarms; accounts come back with the database.
            log.warning("SIA receiver: migrations not applied, database unavailable: %r", exc)
    options = ReceiverOptions(
        nats_url=settings.nats_url, database_url=settings.database_url, host=host, port=port,
        static=tuple(static_accounts()),
    )  # fmt: skip
    await Receiver(options).run(stop)
