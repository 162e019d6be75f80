"""Publishing to JetStream and waiting for the stream's ack: what an ACK to a panel waits on.

One wildcard reply inbox and a future per message: nats-py's js.publish costs 40-60 µs of client
CPU per message, this about a quarter of that (see the bench's raw limits). A publish that gets
no ack in time, or an error ack, or "no responders" is a failure: the panel gets no ACK and
sends again, and Nats-Msg-Id makes the retry a duplicate JetStream drops.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Sequence

import msgspec
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = logging.getLogger(__name__)

MSG_ID = "Nats-Msg-Id"
DEFAULT_TIMEOUT_S = 2.0
REAP_EVERY_S = 0.05
WARN_EVERY_S = 10.0


class Outgoing(msgspec.Struct, frozen=True):
    subject: str
    payload: bytes
    msg_id: str


def stored(reply: Msg) -> bool:
    """Whether a reply to a JetStream publish is an ack (a duplicate counts: it is stored)."""
    status = reply.headers.get("Status") if reply.headers else None
    return status is None and not reply.data.startswith(b'{"error"')


class JetStreamPublisher:
    def __init__(self, nc: Client, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._nc = nc
        self._prefix = nc.new_inbox()
        self._pending: dict[str, asyncio.Future[bool]] = {}
        # One timeout for all, so deadlines come in the order the publishes went out: a reaper
        # walking this queue is cheaper than a timer per publish.
        self._deadlines: deque[tuple[float, str]] = deque()
        self._count = 0
        self._sub: Subscription | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._warned_at = 0.0
        self.timeout_s = timeout_s

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_reply)
        self._reaper = asyncio.create_task(self._reap())

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
        if self._sub is not None:
            sub, self._sub = self._sub, None
            try:
                await sub.unsubscribe()
            except nats.errors.Error as exc:
                log.debug("unsubscribing the ack inbox: %s", exc)
        self._fail(math.inf)

    async def _on_reply(self, msg: Msg) -> None:
        future = self._pending.pop(msg.subject, None)
        if future is not None and not future.done():
            future.set_result(stored(msg))

    async def _reap(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            self._fail(loop.time())

    def _fail(self, until: float) -> None:
        """Fail what is still waiting at `until`."""
        while self._deadlines and self._deadlines[0][0] <= until:
            _, reply = self._deadlines.popleft()
            future = self._pending.pop(reply, None)
            if future is not None and not future.done():
                future.set_result(False)

    async def publish(self, items: Sequence[Outgoing]) -> bool:
        """True once JetStream has stored every item; False on any failure or timeout."""
        try:
            waiting = [await self._send(item) for item in items]
        except (nats.errors.Error, OSError) as exc:
            self._warn(f"publishing failed: {exc!r}")
            return False
        for future in waiting:
            if not await future:
                self._warn(f"no JetStream ack within {self.timeout_s} s (or an error ack)")
                return False
        return True

    def _warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_S:
            self._warned_at = now
            log.warning("events not stored, panels get no ACK and will retry: %s", what)

    async def _send(self, item: Outgoing) -> asyncio.Future[bool]:
        self._count += 1
        reply = f"{self._prefix}.{self._count}"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending[reply] = future
        self._deadlines.append((loop.time() + self.timeout_s, reply))
        headers = {MSG_ID: item.msg_id}
        await self._nc.publish(item.subject, item.payload, reply=reply, headers=headers)
        return future
