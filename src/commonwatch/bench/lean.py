"""Lean JetStream publishing, the publish side of the raw limits the bench measures.

nats-py's `js.publish` costs about 40 µs of client CPU per message; publishing with one reply
inbox and one callback counting the stream's acks costs about 12. The consume side of the raw
limit is the worker's own consumer, `bus.wire.WireConsumer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from nats.aio.client import Client
from nats.aio.msg import Msg


class AckCounter:
    """Publishes with a reply inbox; one callback counts the stream's acks and frees the window."""

    def __init__(self, nc: Client, window: int) -> None:
        self._nc = nc
        self._window = window
        self._inbox = nc.new_inbox()
        self._room = asyncio.Event()
        self._room.set()
        self._all_acked = asyncio.Event()
        self._closing = False
        self.sent = 0
        self.acked = 0
        self.errors = 0

    async def _on_ack(self, msg: Msg) -> None:
        self.acked += 1
        if msg.data.startswith(b'{"error"'):
            self.errors += 1
        if self.sent - self.acked <= self._window // 2:
            self._room.set()
        if self._closing and self.acked >= self.sent:
            self._all_acked.set()

    async def publish_all(self, items: Iterable[tuple[str, bytes]], timeout_s: float) -> float:
        """Seconds from the first publish to the last stream ack."""
        sub = await self._nc.subscribe(self._inbox, cb=self._on_ack)
        start = time.monotonic()
        deadline = start + timeout_s
        try:
            for subject, data in items:
                if self.sent - self.acked >= self._window:
                    self._room.clear()
                    await asyncio.wait_for(self._room.wait(), deadline - time.monotonic())
                await self._nc.publish(subject, data, reply=self._inbox)
                self.sent += 1
            self._closing = True
            if self.acked < self.sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._all_acked.wait(), deadline - time.monotonic())
            return time.monotonic() - start
        finally:
            await sub.unsubscribe()
