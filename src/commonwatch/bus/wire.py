"""A JetStream pull consumer on its own NATS connection, speaking the client protocol directly.

The ingest worker's hottest loop is receiving messages and acknowledging them. Through nats-py
each message costs about 25 µs of client CPU: its parser, a `Msg` object, header parsing into a
dict, a callback through an asyncio queue, and one `publish` call per `+ACK`. Here the protocol
is read straight into `Delivery` records (a header is only searched for `Nmqtt-Pub`), and the
acknowledgements of a batch go out in one socket write.

Only what a consumer needs is spoken: INFO, CONNECT (user/password or token from the URL, TLS
when the URL or the server asks for it), SUB, PUB, MSG/HMSG, PING/PONG, +OK/-ERR. A lost
connection is re-established with backoff; unacknowledged messages are redelivered by the
server after the consumer's ack wait, and the worker writes idempotently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from nats.aio.client import Client

from commonwatch.bus.pull import Batch, Delivery, parse_ack_subject
from commonwatch.bus.subjects import partition_of

log = logging.getLogger(__name__)

CRLF = b"\r\n"
MQTT_HEADER = b"Nmqtt-Pub"
CONNECT_TIMEOUT_S = 5.0
RECONNECT_BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0)


class WireError(ConnectionError):
    """The server refused us (-ERR) or the connection is gone."""


@dataclass(frozen=True, slots=True)
class ServerAddress:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    token: str | None = None
    tls: bool = False


def parse_url(url: str) -> ServerAddress:
    """`nats://[user:password@|token@]host[:port]`, or `tls://...` for TLS."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.scheme not in ("nats", "tls"):
        raise ValueError(f"NATS URL scheme must be nats:// or tls://, got {parts.scheme!r}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    token = user if user and password is None else None
    return ServerAddress(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 4222,
        user=None if token else user,
        password=password,
        token=token,
        tls=parts.scheme == "tls",
    )


def server_url(nc: Client) -> str:
    """The URL a nats-py client is connected to, credentials included: a WireConsumer opened
    with it talks to the same server."""
    return nc.connected_url.geturl() if nc.connected_url else ""


def connect_line(addr: ServerAddress, name: str) -> bytes:
    options: dict[str, object] = {
        "verbose": False,
        "pedantic": False,
        "headers": True,
        "no_responders": True,
        "protocol": 1,
        "lang": "python-commonwatch",
        "version": "1",
        "name": name,
    }
    if addr.token:
        options["auth_token"] = addr.token
    if addr.user:
        options["user"], options["pass"] = addr.user, addr.password or ""
    return b"CONNECT " + json.dumps(options).encode() + CRLF + b"PING" + CRLF


def ack_frames(replies: list[str]) -> bytes:
    """`+ACK` to each reply subject, as one write."""
    return b"".join(f"PUB {r} 4\r\n+ACK\r\n".encode() for r in replies)


class WireProtocol(asyncio.Protocol):
    """Parses what the server sends; hands messages on our inbox to `on_delivery`, or only
    their reply subject to `on_skipped` when `keep` says the subject is another partition's."""

    def __init__(
        self,
        on_delivery: Callable[[Delivery], None],
        on_status: Callable[[bytes], None],
        *,
        keep: Callable[[bytes], bool] | None = None,
        on_skipped: Callable[[bytes], None] = lambda reply: None,
    ) -> None:
        self._on_delivery = on_delivery
        self._on_status = on_status
        self._keep = keep
        self._on_skipped = on_skipped
        self._buf = bytearray()
        self._pending: tuple[bytes, bytes, int] | None = None  # subject, reply, header length
        self._need = 0
        self.transport: asyncio.Transport | None = None
        self.info: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()
        self._pongs: list[asyncio.Future[None]] = []
        self.lost: asyncio.Event = asyncio.Event()
        self.error = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()
        failure = WireError(self.error or f"connection lost: {exc or 'closed by the server'}")
        waiters: list[asyncio.Future[dict[str, object]] | asyncio.Future[None]] = [self.info]
        for waiter in [*waiters, *self._pongs]:
            if not waiter.done():
                waiter.set_exception(failure)
        self._pongs.clear()

    def write(self, data: bytes) -> None:
        if self.transport is None or self.lost.is_set():
            raise WireError(self.error or "not connected")
        self.transport.write(data)

    async def ping(self) -> None:
        """Round trip: everything written before it has been processed by the server."""
        pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs.append(pong)
        self.write(b"PING" + CRLF)
        await pong

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos = 0
        end = len(buf)
        while pos < end:
            if self._pending is not None:
                if end - pos < self._need + 2:
                    break
                self._message(bytes(buf[pos : pos + self._need]))
                pos += self._need + 2
                continue
            eol = buf.find(CRLF, pos)
            if eol < 0:
                break
            self._control(bytes(buf[pos:eol]))
            pos = eol + 2
        del buf[:pos]

    def _control(self, line: bytes) -> None:
        if line.startswith(b"HMSG ") or line.startswith(b"MSG "):
            self._begin_message(line)
        elif line == b"PING":
            self.write(b"PONG" + CRLF)
        elif line == b"PONG":
            if self._pongs:
                self._pongs.pop(0).set_result(None)
        elif line.startswith(b"INFO "):
            if not self.info.done():
                self.info.set_result(json.loads(line[5:]))
        elif line.startswith(b"-ERR"):
            self.error = line[5:].strip(b" '").decode(errors="replace")
            log.warning("NATS server error: %s", self.error)

    def _begin_message(self, line: bytes) -> None:
        parts = line.split()
        headers = parts[0] == b"HMSG"
        size = int(parts[-1])
        header_len = int(parts[-2]) if headers else 0
        has_reply = len(parts) == (6 if headers else 5)
        reply = parts[3] if has_reply else b""
        self._pending = (parts[1], reply, header_len)
        self._need = size

    def _message(self, payload: bytes) -> None:
        assert self._pending is not None
        subject, reply, header_len = self._pending
        self._pending = None
        header = payload[:header_len]
        if not reply:
            # A status (404 no messages, 408 request expired, 409 ...) ends the current request.
            self._on_status(header)
            return
        if self._keep is not None and not self._keep(subject):
            self._on_skipped(reply)
            return
        reply_s = reply.decode()
        sseq, delivered, stored = parse_ack_subject(reply_s)
        mqtt = MQTT_HEADER in header
        data = payload[header_len:]
        self._on_delivery(Delivery(subject.decode(), data, reply_s, sseq, delivered, stored, mqtt))


class WireConsumer:
    """Pulls batches from a durable consumer.

    With `partition=(index, count)` it keeps only the subjects that hash to `index`; the others
    belong to another partition's consumer and worker. `fetch_batch` then also says which
    message to acknowledge (AckPolicy.ALL) to cover everything the batch fetched.
    """

    def __init__(
        self,
        url: str,
        stream: str,
        durable: str,
        *,
        batch: int = 2000,
        name: str = "consumer",
        partition: tuple[int, int] | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._addr = parse_url(url)
        self._on_connect = on_connect
        self.connection = 0  # counts connections; a batch from an earlier one is never acked
        self._name = name
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}".encode()
        self._inbox = f"_INBOX.{secrets.token_hex(11)}".encode()
        self.batch = batch
        self._buffer: list[Delivery] = []
        self._done = asyncio.Event()
        self._want = 0
        self._received = 0  # kept and skipped, since the last take
        self.last_received = 0  # kept and skipped, in the last fetch
        self._skipped: bytes | None = None  # reply subject of the last message skipped
        self._keep = _partition_filter(partition) if partition else None
        self._proto: WireProtocol | None = None
        self._failures = 0

    async def start(self) -> None:
        await self._connect()

    async def close(self) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
        self._proto = None

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        addr = self._addr
        transport, proto = await asyncio.wait_for(
            loop.create_connection(self._protocol, addr.host, addr.port),
            CONNECT_TIMEOUT_S,
        )
        try:
            info = await asyncio.wait_for(proto.info, CONNECT_TIMEOUT_S)
            if addr.tls or info.get("tls_required"):
                transport = await self._start_tls(transport, proto)
            proto.write(connect_line(addr, self._name) + b"SUB " + self._inbox + b" 1" + CRLF)
            await asyncio.wait_for(proto.ping(), CONNECT_TIMEOUT_S)
            # Before any pull: what an earlier connection or process had fetched but never
            # acknowledged must come again (see streams.rewind), and nothing it left behind
            # here may be acknowledged on this connection.
            if self._on_connect is not None:
                await self._on_connect()
        except BaseException:
            transport.close()
            raise
        self._buffer, self._skipped, self._received = [], None, 0
        self.connection += 1
        self._proto = proto

    async def _start_tls(
        self, transport: asyncio.Transport, proto: WireProtocol
    ) -> asyncio.Transport:
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context()
        tls = await loop.start_tls(transport, proto, context, server_hostname=self._addr.host)
        if tls is None:
            raise WireError("TLS handshake with the NATS server failed")
        proto.transport = tls
        return tls

    async def _connected(self) -> WireProtocol | None:
        """The live connection, reconnecting (one attempt, after a backoff) when it was lost."""
        proto = self._proto
        if proto is not None and not proto.lost.is_set():
            return proto
        delay = RECONNECT_BACKOFF_S[min(self._failures, len(RECONNECT_BACKOFF_S) - 1)]
        await asyncio.sleep(delay)
        try:
            await self._connect()
        except (OSError, TimeoutError, WireError) as exc:
            self._failures += 1
            log.warning(
                "NATS %s:%s unreachable (%s); retrying", self._addr.host, self._addr.port, exc
            )
            return None
        self._failures = 0
        log.info("consumer connection to NATS re-established")
        return self._proto

    def _protocol(self) -> WireProtocol:
        return WireProtocol(
            self._on_delivery, self._on_status, keep=self._keep, on_skipped=self._on_skipped
        )

    def _on_delivery(self, delivery: Delivery) -> None:
        self._buffer.append(delivery)
        self._count_one()

    def _on_skipped(self, reply: bytes) -> None:
        self._skipped = reply
        self._count_one()

    def _count_one(self) -> None:
        self._received += 1
        if self._want and self._received >= self._want:
            self._done.set()

    def _on_status(self, header: bytes) -> None:
        if header.startswith(b"NATS/1.0 100"):
            return  # idle heartbeat
        self._done.set()

    async def fetch(self, *, expires_s: float = 1.0) -> list[Delivery]:
        """Up to `batch` messages: returns as soon as some are there, or empty after expires_s."""
        self._want = self.batch
        self._done.clear()
        if self._received >= self._want:
            return self._take()
        proto = await self._connected()
        if proto is None:
            return self._take()
        request = json.dumps(
            {"batch": self.batch, "expires": int(expires_s * 1e9), "no_wait": True}
        ).encode()
        head = b"PUB " + self._api + b" " + self._inbox + b" " + str(len(request)).encode()
        with contextlib.suppress(WireError):
            proto.write(head + CRLF + request + CRLF)
            lost = asyncio.ensure_future(proto.lost.wait())
            done = asyncio.ensure_future(self._done.wait())
            try:
                await asyncio.wait(
                    {lost, done}, timeout=expires_s + 1.0, return_when="FIRST_COMPLETED"
                )
            finally:
                lost.cancel()
                done.cancel()
        return self._take()

    def _take(self) -> list[Delivery]:
        out, self._buffer = self._buffer, []
        self.last_received, self._received = self._received, 0
        self._want = 0
        return out

    async def fetch_batch(self, *, expires_s: float = 1.0) -> Batch:
        """Our deliveries, and the reply subject whose ack covers all that was fetched."""
        deliveries = await self.fetch(expires_s=expires_s)
        skipped, self._skipped = self._skipped, None
        # In stream order, but a redelivery may come later with a lower sequence: take the max.
        tops = [(d.stream_seq, d.reply) for d in deliveries]
        if skipped is not None:
            reply = skipped.decode()
            tops.append((parse_ack_subject(reply)[0], reply))
        ack = max(tops)[1] if tops else None
        return Batch(deliveries, ack, self.connection)

    async def ack_batch(self, batch: Batch) -> None:
        """AckPolicy.ALL: acknowledge everything the batch fetched, once it is committed. A
        batch from an earlier connection is not acknowledged: the consumer was rewound when
        this one opened, and its messages come again (the writes are idempotent)."""
        if batch.ack is None:
            return
        if batch.connection != self.connection:
            log.info("a batch from an earlier connection is left to its redelivery")
            return
        await self._send(ack_frames([batch.ack]))

    async def ack(self, deliveries: list[Delivery]) -> None:
        """One write for the batch. Lost acks (connection gone) mean redelivery, never loss."""
        await self._send(ack_frames([d.reply for d in deliveries]))

    async def ack_last(self, deliveries: list[Delivery]) -> None:
        """For a consumer with AckPolicy.ALL: acking the highest stream sequence of a batch
        covers every earlier message (a redelivered one may come last in a batch)."""
        if deliveries:
            last = max(deliveries, key=lambda d: d.stream_seq)
            await self._send(ack_frames([last.reply]))

    async def _send(self, data: bytes) -> None:
        proto = self._proto
        if proto is None or not data:
            return
        try:
            proto.write(data)
        except WireError as exc:
            log.warning("acknowledgements not sent (%s); the server will redeliver", exc)


def _partition_filter(partition: tuple[int, int]) -> Callable[[bytes], bool]:
    index, count = partition
    if not 0 <= index < count:
        raise ValueError(f"partition {index} of {count}")
    return lambda subject: partition_of(subject, count) == index
