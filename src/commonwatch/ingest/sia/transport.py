"""TCP and UDP listeners: bytes -> frames -> the service -> answers, in order, with bounds.

Each connection (and each UDP peer) has a lane: its frames are answered one at a time, in the
order sent, so that a panel's alarm reaches the bus before its restore. A lane holding too many
frames stops reading its socket until it catches up; the framer's buffer never exceeds a frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import cast

from commonwatch.ingest.sia.parse import Dropped, Framer

log = logging.getLogger(__name__)

Handler = Callable[[bytes, str], Awaitable[bytes | None]]
DropSink = Callable[[str, str, bytes | None], None]

MAX_LANE_FRAMES = 32
MAX_CONNECTIONS = 10_000
MAX_UDP_PEERS = 10_000
DEFAULT_IDLE_TIMEOUT_S = 600.0


class Lane:
    def __init__(self, handler: Handler, send: Callable[[bytes], None], via: str) -> None:
        self._handler, self._send, self.via = handler, send, via
        self._loop = asyncio.get_running_loop()  # once: each call costs a getpid() syscall
        self._frames: deque[bytes] = deque()
        self._task: asyncio.Task[None] | None = None
        self.on_idle: Callable[[], None] | None = None
        self.closed = False

    @property
    def backlog(self) -> int:
        return len(self._frames)

    def push(self, frame: bytes) -> None:
        self._frames.append(frame)
        if self._task is None:
            self._task = self._loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._frames:
                answer = await self._handler(self._frames.popleft(), self.via)
                if answer is not None and not self.closed:
                    self._send(answer)
        except Exception:
            log.exception("SIA lane %s failed; its remaining frames get no answer", self.via)
            self._frames.clear()
        finally:
            self._task = None
            if self.on_idle is not None:
                self.on_idle()

    def close(self) -> None:
        """The socket is gone: the frame in hand is still delivered, the queued ones dropped."""
        self.closed = True
        self._frames.clear()


def _split(items: list[bytes | Dropped], lane: Lane, dropped: DropSink) -> None:
    for item in items:
        if isinstance(item, Dropped):
            dropped(f"{item.reason} ({item.size} bytes)", lane.via, None)
        else:
            lane.push(item)


class PanelConnection(asyncio.Protocol):
    def __init__(
        self, handler: Handler, dropped: DropSink, open_: set[PanelConnection], idle_s: float
    ) -> None:
        self._handler, self._dropped, self._open, self._idle_s = handler, dropped, open_, idle_s
        self._framer = Framer()
        self._transport: asyncio.Transport | None = None
        self._lane: Lane | None = None
        self._paused = False
        self._last = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        if len(self._open) >= MAX_CONNECTIONS:
            log.warning("SIA: %d connections open, refusing another", len(self._open))
            transport.abort()
            return
        self._open.add(self)
        self._lane = Lane(self._handler, transport.write, "tcp")
        self._lane.on_idle = self._resume
        self._touch()

    def data_received(self, data: bytes) -> None:
        if self._lane is None or self._transport is None:
            return
        self._last = self._loop.time()
        _split(self._framer.feed(data), self._lane, self._dropped)
        if self._lane.backlog >= MAX_LANE_FRAMES and not self._paused:
            self._paused = True
            self._transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self._transport is not None and not self._transport.is_closing():
            self._paused = False
            self._transport.resume_reading()

    def _touch(self) -> None:
        self._last = self._loop.time()
        self._timer = self._loop.call_later(self._idle_s, self._check_idle)

    def _check_idle(self) -> None:
        quiet = self._loop.time() - self._last
        if quiet >= self._idle_s and self._transport is not None:
            self._transport.close()
        else:
            self._timer = self._loop.call_later(self._idle_s - quiet, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open.discard(self)
        if self._timer is not None:
            self._timer.cancel()
        leftover = self._framer.close()
        if leftover is not None and self._lane is not None:
            self._dropped(f"{leftover.reason} ({leftover.size} bytes)", "tcp", None)
        if self._lane is not None:
            self._lane.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class PanelDatagrams(asyncio.DatagramProtocol):
    """One datagram carries one frame; a peer's frames are answered in order, like a connection."""

    def __init__(self, handler: Handler, dropped: DropSink) -> None:
        self._handler, self._dropped = handler, dropped
        self._transport: asyncio.DatagramTransport | None = None
        self._lanes: dict[tuple[str, int], Lane] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast: asyncio's own UDP transport does not subclass DatagramTransport (3.11).
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        lane = self._lanes.get(addr) or self._new_lane(addr)
        if lane is None or lane.backlog >= MAX_LANE_FRAMES:
            self._dropped("receiver busy: datagram dropped", "udp", data)
            return
        framer = Framer()
        items = framer.feed(data)
        leftover = framer.close()
        _split(items + ([leftover] if leftover else []), lane, self._dropped)

    def _new_lane(self, addr: tuple[str, int]) -> Lane | None:
        transport = self._transport
        if transport is None or len(self._lanes) >= MAX_UDP_PEERS:
            return None
        lane = Lane(self._handler, lambda answer: transport.sendto(answer, addr), "udp")
        lane.on_idle = lambda: self._forget(addr, lane)
        self._lanes[addr] = lane
        return lane

    def _forget(self, addr: tuple[str, int], lane: Lane) -> None:
        if self._lanes.get(addr) is lane and not lane.backlog:
            del self._lanes[addr]

    def error_received(self, exc: Exception) -> None:
        log.debug("SIA UDP: %r", exc)


async def bind(
    handler: Handler, dropped: DropSink, host: str, port: int, idle_s: float
) -> tuple[asyncio.Server, asyncio.DatagramTransport, set[PanelConnection]]:
    """TCP and UDP on the same port (with port 0: a free one for both)."""
    loop = asyncio.get_running_loop()
    open_: set[PanelConnection] = set()
    for attempt in range(5):
        server = await loop.create_server(
            lambda: PanelConnection(handler, dropped, open_, idle_s), host, port, backlog=1024
        )
        bound = server.sockets[0].getsockname()[1]
        try:
            udp, _ = await loop.create_datagram_endpoint(
                lambda: PanelDatagrams(handler, dropped), local_addr=(host, bound)
            )
        except OSError:
            server.close()
            if port or attempt == 4:
                raise
            continue
        return server, udp, open_
    raise OSError("no port free for both TCP and UDP")  # pragma: no cover
