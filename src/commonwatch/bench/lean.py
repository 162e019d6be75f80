"""The lean JetStream protocol, written out by hand: the building blocks the bench measures.

nats-py's JetStream helpers cost 40-60 µs of client CPU per message; publishing with one reply
inbox that counts acks, and pulling with raw $JS.API.CONSUMER.MSG.NEXT requests, cost 10-13 µs.
These are the fastest a Python process can use JetStream, so they set the raw limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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


class RawPull:
    """A pull consumer: one inbox subscription and MSG.NEXT requests; hands back raw messages."""

    def __init__(self, nc: Client, stream: str, durable: str, batch: int) -> None:
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._batch = batch
        self._inbox = nc.new_inbox()
        self._buffer: list[Msg] = []
        self._done = asyncio.Event()

    async def start(self) -> None:
        await self._nc.subscribe(self._inbox, cb=self._on_msg)

    async def _on_msg(self, msg: Msg) -> None:
        if msg.reply:
            self._buffer.append(msg)
            if len(self._buffer) >= self._batch:
                self._done.set()
        elif not (msg.headers and msg.headers.get("Status") == "100"):
            self._done.set()  # 404/408/409: this request is over

    async def fetch(self, expires_s: float) -> list[Msg]:
        self._done.clear()
        if len(self._buffer) < self._batch:
            request = {"batch": self._batch, "expires": int(expires_s * 1e9), "no_wait": True}
            await self._nc.publish(self._api, json.dumps(request).encode(), reply=self._inbox)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), expires_s + 1.0)
        out, self._buffer = self._buffer, []
        return out

    async def ack_each(self, msgs: list[Msg]) -> None:
        publish = self._nc.publish
        for msg in msgs:
            await publish(msg.reply, b"+ACK")
        await self._nc.flush()

    async def ack_last(self, msgs: list[Msg]) -> None:
        """With AckPolicy.ALL one ack covers every earlier message of the consumer."""
        if msgs:
            await self._nc.publish(msgs[-1].reply, b"+ACK")
            await self._nc.flush()
