"""Server-Sent Events from the CW_CHANGES stream, one ephemeral JetStream consumer per client.

The consumer is created before the response starts (a client that sees the first comment is
subscribed) and deleted when the response ends for any reason, disconnects included; if this
process dies instead, the server drops it after INACTIVE_S without interest.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator

import anyio
import msgspec
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from commonwatch.bus import subjects
from commonwatch.handlers.accounts import in_scope

log = logging.getLogger(__name__)

JPATH_HEADER = "Cw-Jpath"
INACTIVE_S = 30.0
RETRY_MS = 3000


class _Kind(msgspec.Struct):
    kind: str = "change"


_kind_of = msgspec.json.Decoder(_Kind)


def event_kind(payload: bytes) -> str:
    try:
        return _kind_of.decode(payload).kind
    except msgspec.DecodeError:
        return "change"


def frame(seq: int, kind: str, payload: bytes) -> bytes:
    lines = payload.decode("utf-8", "replace").splitlines() or [""]
    data = "".join(f"data: {line}\n" for line in lines)
    return f"id: {seq}\nevent: {kind}\n{data}\n".encode()


def _start(after_seq: int | None) -> tuple[DeliverPolicy, int | None]:
    if after_seq is None:
        return DeliverPolicy.NEW, None
    return DeliverPolicy.BY_START_SEQUENCE, after_seq + 1


class ChangeStream:
    """The changes after `after_seq` (or from now on), limited to the caller's subtree."""

    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        *,
        scope: str,
        after_seq: int | None,
        heartbeat_s: float,
    ) -> None:
        self._nc, self._js = nc, js
        self._scope, self._after, self._heartbeat_s = scope, after_seq, heartbeat_s
        self.name = f"sse_{secrets.token_hex(8)}"
        self._sub: Subscription | None = None

    async def open(self) -> None:
        inbox = self._nc.new_inbox()
        # Subscribe before the consumer exists so that its first delivery has somewhere to go.
        self._sub = await self._nc.subscribe(inbox)
        policy, start_seq = _start(self._after)
        config = ConsumerConfig(
            name=self.name,
            deliver_subject=inbox,
            ack_policy=AckPolicy.NONE,
            filter_subject=f"{subjects.CHANGES_PREFIX}.>",
            inactive_threshold=INACTIVE_S,
            deliver_policy=policy,
            opt_start_seq=start_seq,
        )
        try:
            await self._js.add_consumer(subjects.CHANGES_STREAM, config)
        except BaseException:
            await self.close()
            raise

    async def frames(self) -> AsyncIterator[bytes]:
        yield f"retry: {RETRY_MS}\n: connected\n\n".encode()
        last_write = time.monotonic()
        while (out := await self._next(last_write)) is not None:
            if out:
                yield out
                last_write = time.monotonic()

    async def _next(self, last_write: float) -> bytes | None:
        """The next frame, b'' when there is nothing to send yet, None when the stream is over."""
        if self._sub is None:
            return None
        wait = max(0.01, last_write + self._heartbeat_s - time.monotonic())
        try:
            msg = await self._sub.next_msg(timeout=wait)
        except nats.errors.TimeoutError:
            return b": keep-alive\n\n"
        except nats.errors.Error as exc:
            # The connection is closing: end the response; the client resumes by Last-Event-ID.
            log.info("change stream %s ends: %s", self.name, exc)
            return None
        return self._render(msg) or b""

    def _render(self, msg: Msg) -> bytes | None:
        jpath = (msg.headers or {}).get(JPATH_HEADER)
        if not in_scope(jpath, self._scope):
            return None
        return frame(msg.metadata.sequence.stream, event_kind(msg.data), msg.data)

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        try:
            if sub is not None:
                await sub.unsubscribe()
            await self._js.delete_consumer(subjects.CHANGES_STREAM, self.name)
        except Exception as exc:  # the server forgets it after INACTIVE_S anyway
            log.debug("could not delete consumer %s: %s", self.name, exc)


class EventStreamResponse(StreamingResponse):
    """text/event-stream that always closes its ChangeStream, however the response ends."""

    def __init__(self, stream: ChangeStream) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(stream.frames(), media_type="text/event-stream", headers=headers)
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # A disconnect cancels us; the shield lets the clean-up's own awaits complete.
            with anyio.move_on_after(5, shield=True):
                await self._stream.close()
