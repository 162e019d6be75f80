"""Publishing to JetStream and waiting for the stream's ack: what an ACK to a panel waits on.

One wildcard reply inbox and a future per message: nats-py's js.publish costs 40-60 µs of client
CPU per message, this about a quarter of that (see the bench's raw limits). A publish that gets
no ack in time, or an error ack, or "no responders" is a failure: the panel gets no ACK and
sends again, and Nats-Msg-Id makes the retry a duplicate JetStream drops.

The HPUB commands are written here and handed to nats-py's send buffer: its publish() builds the
header block through a dict, a regex check per key and a bytearray, about 10 µs a message more.
The acks come back the same way, from nats-py's protocol parser straight to their futures
(`AckClient`), past a Msg object, the subscription's queue and its task: 10 µs a message more.
nats-py still owns the connection: reconnecting, buffering meanwhile, flushing, pings.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence

import msgspec
import nats.errors
from nats.aio.client import Client
from nats.aio.subscription import Subscription

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 2.0
REAP_EVERY_S = 0.05
WARN_EVERY_S = 10.0


class Outgoing(msgspec.Struct, frozen=True):
    subject: str
    payload: bytes
    msg_id: str


def hpub(subject: str, reply: str, msg_id: str, payload: bytes) -> bytes:
    """The NATS protocol's HPUB command: a message with one header, Nats-Msg-Id."""
    head = b"NATS/1.0\r\nNats-Msg-Id: %s\r\n\r\n" % msg_id.encode()
    sizes = b"%d %d" % (len(head), len(head) + len(payload))
    return b"HPUB %s %s %s\r\n%s%s\r\n" % (subject.encode(), reply.encode(), sizes, head, payload)


def stored(data: bytes, headers: bytes | None) -> bool:
    """Whether a reply to a JetStream publish is an ack (a duplicate counts: it is stored), not
    an error or a status such as `NATS/1.0 503` (no responders: no stream for the subject)."""
    status = headers is not None and headers[8:9] == b" "
    return not status and not data.startswith(b'{"error"')


Tap = Callable[[bytes, bytes, bytes | None], None]  # (subject, data, headers)


class AckClient(Client):
    """nats-py's client, except that messages to one subject prefix go from its protocol parser
    straight to a callback. Made with AckClient() and connected with connect(), as nats-py's."""

    def __init__(self) -> None:
        super().__init__()
        self._tap: tuple[bytes, Tap] | None = None

    def tap(self, prefix: str, handler: Tap) -> None:
        """Hand messages whose subject starts with `prefix` to `handler`, in the parser's task:
        it must not block. They still need a subscription, and no longer reach it."""
        self._tap = (prefix.encode(), handler)

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
    ) -> None:
        tap = self._tap
        if tap is not None and subject.startswith(tap[0]):
            tap[1](subject, data, headers)
            return
        # nats-py annotates `headers` as bytes; its parser passes None for a message without.
        await super()._process_msg(sid, subject, reply, data, headers)  # type: ignore[arg-type]


async def connect(url: str, name: str = "commonwatch-sia") -> AckClient:
    # As connect_nats, and without nats-py's per-publish subject check: our subjects are built
    # from checked account numbers, zones and registry ids (a few µs per frame saved).
    nc = AckClient()
    await nc.connect(
        url, name=name, max_reconnect_attempts=-1, pending_size=64 << 20,
        skip_subject_validation=True,
        reconnect_time_wait=0.5,  # type: ignore[arg-type]  # annotated int, any number works
    )  # fmt: skip
    return nc


class JetStreamPublisher:
    def __init__(self, nc: AckClient, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
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
        self._loop = asyncio.get_running_loop()  # made inside the loop it publishes from
        self.timeout_s = timeout_s

    async def start(self) -> None:
        self._nc.tap(f"{self._prefix}.", self._on_reply)
        self._sub = await self._nc.subscribe(f"{self._prefix}.*")
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

    def _on_reply(self, subject: bytes, data: bytes, headers: bytes | None) -> None:
        future = self._pending.pop(subject.decode(), None)
        if future is not None and not future.done():
            future.set_result(stored(data, headers))

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            self._fail(self._loop.time())

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
            waiting = [self._expect(item) for item in items]
            await self._send(b"".join(command for command, _ in waiting))
        except (nats.errors.Error, OSError) as exc:
            self._warn(f"publishing failed: {exc!r}")
            return False
        for _, future in waiting:
            if not await future:
                self._warn(f"no JetStream ack within {self.timeout_s} s (or an error ack)")
                return False
        return True

    def _warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_S:
            self._warned_at = now
            log.warning("events not stored, panels get no ACK and will retry: %s", what)

    def _expect(self, item: Outgoing) -> tuple[bytes, asyncio.Future[bool]]:
        """The command that publishes `item`, and the future its JetStream ack will settle."""
        if len(item.payload) > self._nc.max_payload:
            raise nats.errors.MaxPayloadError  # the server would close the connection
        self._count += 1
        reply = f"{self._prefix}.{self._count}"
        future: asyncio.Future[bool] = self._loop.create_future()
        self._pending[reply] = future
        self._deadlines.append((self._loop.time() + self.timeout_s, reply))
        return hpub(item.subject, reply, item.msg_id, item.payload), future

    async def _send(self, commands: bytes) -> None:
        """Into nats-py's send buffer, with the checks its publish() makes first."""
        nc = self._nc
        if nc.is_closed:
            raise nats.errors.ConnectionClosedError
        if nc.is_draining_pubs:
            raise nats.errors.ConnectionDrainingError
        if not nc.is_connected and not _room(nc, len(commands)):
            raise nats.errors.OutboundBufferLimitError
        await nc._send_command(commands)
        if nc._flush_queue is not None and nc._flush_queue.empty():
            await nc._flush_pending()


def _room(nc: Client, size: int) -> bool:
    """Whether nats-py may buffer `size` more bytes while it reconnects."""
    limit = nc._max_pending_size
    return limit > 0 and nc._pending_data_size + size <= limit
