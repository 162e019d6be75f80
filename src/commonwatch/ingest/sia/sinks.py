"""The receiver's best-effort side effects: dead letters, the raw-code log, device registration.

None of them may hold up or fail an alarm: each is bounded (rate, queue, time) and an error is
logged and dropped. The alarm itself is already durable in JetStream when these run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

import asyncpg
from nats.js import JetStreamContext

from commonwatch.bus import deadletter
from commonwatch.ingest.sia import store
from commonwatch.ingest.sia.config import Account

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.25
LOG_BATCH = 5000
LOG_CAPACITY = 100_000
DEAD_PER_S = 20.0
DEAD_BURST = 50
DEAD_CAPACITY = 1000
PLACE_TIMEOUT_S = 0.5
PLACE_BACKOFF_S = 30.0
DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class ReceiverSinks:
    def __init__(self, *, js: JetStreamContext, pool: asyncpg.Pool | None) -> None:
        self._js, self._pool = js, pool
        self._letters: deque[deadletter.DeadLetter] = deque(maxlen=DEAD_CAPACITY)
        self._bucket = TokenBucket(DEAD_PER_S, DEAD_BURST)
        self._rows: deque[tuple[object, ...]] = deque()
        self._placed: set[str] = set()
        self._place_paused_until = 0.0
        self.suppressed = 0
        self.rows_dropped = 0

    def attach(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def dead(self, reason: str, via: str, raw: bytes | None) -> None:
        if not self._bucket.take():
            self.suppressed += 1
            return
        body = deadletter.summarise(raw) if raw is not None else None
        self._letters.append(deadletter.DeadLetter("sia", reason, f"sia/{via}", body))

    def log(self, rows: list[tuple[object, ...]]) -> None:
        if self._pool is None or len(self._rows) + len(rows) > LOG_CAPACITY:
            self.rows_dropped += len(rows)
            return
        self._rows.extend(rows)

    async def place(self, devices: list[tuple[str, Account]]) -> None:
        """Register devices of placed accounts the first time they are seen."""
        fresh = {d: a for d, a in devices if a.community and d not in self._placed}
        if not fresh or self._pool is None or time.monotonic() < self._place_paused_until:
            return
        try:
            async with asyncio.timeout(PLACE_TIMEOUT_S), self._pool.acquire() as conn:
                await store.ensure_devices(conn, list(fresh.items()))
        except DB_ERRORS as exc:
            # Without the row the event still flows, just without its building: go on.
            log.warning("could not register SIA devices %s: %r", sorted(fresh)[:5], exc)
            self._place_paused_until = time.monotonic() + PLACE_BACKOFF_S
            return
        if len(self._placed) > 1_000_000:
            self._placed.clear()
        self._placed.update(fresh)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_EVERY_S)
        await self.flush()

    async def flush(self) -> None:
        await self._flush_letters()
        while self._rows:
            batch = [self._rows.popleft() for _ in range(min(LOG_BATCH, len(self._rows)))]
            await self._write(batch)

    async def _flush_letters(self) -> None:
        letters = list(self._letters)
        self._letters.clear()
        try:
            await deadletter.publish(self._js, letters)
        except Exception as exc:  # the bus may be away; the frames were answered already
            log.warning("dropped %d SIA dead letters: %r", len(letters), exc)

    async def _write(self, batch: list[tuple[object, ...]]) -> None:
        assert self._pool is not None
        try:
            async with self._pool.acquire() as conn:
                await store.append_messages(conn, batch)
        except DB_ERRORS as exc:
            self.rows_dropped += len(batch)
            log.warning("dropped %d sia_messages rows: %r", len(batch), exc)
