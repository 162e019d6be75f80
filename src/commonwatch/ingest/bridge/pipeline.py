"""One message at a time, in arrival order: translate, publish events, keep the rest.

A message that does not parse is dead-lettered with its reason and WITHOUT its body: a Frigate
payload that fails validation may still carry a name or a plate.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
import nats.errors
from nats.js import JetStreamContext

from commonwatch.bus import deadletter
from commonwatch.domain.units import DispatchSettings
from commonwatch.ingest.bridge import sink
from commonwatch.ingest.bridge.decoding import ParseError
from commonwatch.ingest.bridge.outputs import Context, Output, StateSnapshot
from commonwatch.ingest.bridge.publish import EventPublisher
from commonwatch.ingest.bridge.router import Inbound, Router, Translator
from commonwatch.storage import sources

log = logging.getLogger(__name__)

RETRY_S = 1.0
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    TimeoutError,
    nats.errors.Error,
)


@dataclass
class Counts:
    handled: int = 0
    ignored: int = 0
    dead: int = 0


class Pipeline:
    def __init__(
        self,
        router: Router,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        *,
        arrival_radius_m: float = DispatchSettings().arrival_radius_m,
    ) -> None:
        self.router = router
        self.pool = pool
        self.js = js
        self.arrival_radius_m = arrival_radius_m
        self.publisher = EventPublisher(js)
        self.states: dict[tuple[str, str], StateSnapshot] = {}
        self.counts = Counts()

    async def load_states(self) -> None:
        async with self.pool.acquire() as conn:
            for s in await sources.load_states(conn):
                self.states[(s.source, s.key)] = s

    async def handle(self, message: Inbound, stop: asyncio.Event | None = None) -> None:
        """Handle one message; while NATS or PostgreSQL is away, retry it until `stop`."""
        while True:
            try:
                await self._handle(message)
                break
            except UNAVAILABLE as exc:
                log.warning(
                    "bridge: cannot hand on a message yet (%s); retrying", type(exc).__name__
                )
                if stop is not None and stop.is_set():
                    return
                await asyncio.sleep(RETRY_S)
        if message.ack is not None:
            message.ack()

    async def _handle(self, message: Inbound) -> None:
        translator = self.router.pick(message)
        if translator is None:
            self.counts.ignored += 1
            return
        try:
            outputs = self._translate(translator, message)
        except ParseError as exc:
            await self._dead(translator.source, message, exc.reason)
            return
        batch = sink.sort_outputs(outputs)
        await self.publisher.publish(batch.natives, message.received)
        if batch.stored:
            async with self.pool.acquire() as conn:
                await sink.store(conn, batch, arrival_radius_m=self.arrival_radius_m)
        for snapshot in batch.states:
            self.states[(snapshot.source, snapshot.key)] = snapshot
        self.counts.handled += 1

    def _translate(self, translator: Translator, message: Inbound) -> list[Output]:
        ctx = Context(message.received, message.community, message.connection)
        source = translator.source

        def lookup(key: str) -> StateSnapshot | None:
            return self.states.get((source, key))

        try:
            return translator.translate(message.topic, message.payload, ctx, lookup)
        except ParseError:
            raise
        except Exception as exc:
            # A bug, not the sender's fault; its message may quote the payload, so only its type.
            log.error("bridge: %s translator failed: %s", source, type(exc).__name__)
            raise ParseError(f"internal error in the {source} translator") from None

    async def _dead(self, source: str, message: Inbound, reason: str) -> None:
        self.counts.dead += 1
        log.info("bridge: dead-lettered a %s message on %s: %s", source, message.topic, reason)
        letter = deadletter.DeadLetter(source, reason, message.topic, None)
        await deadletter.publish(self.js, [letter])
