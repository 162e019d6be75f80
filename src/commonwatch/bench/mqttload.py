"""MQTT QoS 1 load generators, each in its own process, speaking MQTT 3.1.1 over a plain socket.

The load generators share two cores with the pipeline they measure, so every microsecond they
spend is taken from the platform. A paho-mqtt publisher costs about 110 µs per QoS 1 message
here (its in-flight bookkeeping, callbacks and one socket write per message), which alone would
cap the machine near 6,000 events/s. These publishers write the same PUBLISH packets (QoS 1,
packet identifiers, one PUBACK each) a hundred at a time and count PUBACKs from the socket, at a
few microseconds per message. The broker sees an ordinary MQTT 3.1.1 client; the platform under
test is the same.

Each publisher keeps a window of unacknowledged publishes (below 65,535, so packet identifiers
in flight never repeat) and stops sending when it is full.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from commonwatch.bench import traffic
from commonwatch.bench.watch import BenchError
from commonwatch.runtime.embedded import die_with_parent

CONNECT_TIMEOUT_S = 10.0
CHUNK = 100  # publishes per socket write, as fast as the window allows
PACE_EVERY = 10  # paced publishers sleep once per this many messages (5 ms at 2,000/s)
MAX_WINDOW = 65_000  # packet identifiers are 16 bits; those in flight must stay unique

CONNACK, PUBACK = 0x20, 0x40
PUBLISH_QOS1 = 0x32


@dataclass(frozen=True, slots=True)
class PublisherSpec:
    index: int
    port: int
    topic_root: str
    id_prefix: str
    count: int
    rate: float = 0.0  # events/s; 0 publishes as fast as the window allows
    window: int = 2000
    timeout_s: float = 300.0


@dataclass(frozen=True, slots=True)
class PublisherResult:
    index: int
    sent: int
    acked: int
    first_ts: float
    last_ack_ts: float
    cpu_s: float
    error: str = ""


def remaining_length(n: int) -> bytes:
    """MQTT's variable-length integer (1-4 bytes, 7 bits each, high bit = more)."""
    out = bytearray()
    while True:
        n, digit = n >> 7, n & 0x7F
        out.append(digit | 0x80 if n else digit)
        if not n:
            return bytes(out)


def connect_packet(client_id: str, keepalive_s: int = 120) -> bytes:
    ident = client_id.encode()
    # protocol name "MQTT", level 4 (3.1.1), flags: clean session; keep-alive; client id
    body = b"\x00\x04MQTT\x04\x02" + keepalive_s.to_bytes(2, "big")
    body += len(ident).to_bytes(2, "big") + ident
    return bytes([0x10]) + remaining_length(len(body)) + body


def publish_packet(topic: bytes, packet_id: int, payload: bytes) -> bytes:
    """A QoS 1 PUBLISH; `topic` already carries its two-byte length prefix."""
    size = len(topic) + 2 + len(payload)
    return b"".join((b"\x32", remaining_length(size), topic, packet_id.to_bytes(2, "big"), payload))


class PubackReader:
    """Counts PUBACKs in the bytes the broker sends back, across reads that split packets."""

    def __init__(self) -> None:
        self._buf = b""
        self.acked = 0

    def feed(self, data: bytes) -> None:
        buf = self._buf + data
        pos = 0
        while len(buf) - pos >= 2:
            kind, size = buf[pos] & 0xF0, buf[pos + 1]  # PUBACK and PINGRESP lengths fit 7 bits
            if size & 0x80:
                raise BenchError(f"unexpected MQTT packet type {kind:#x} from the broker")
            if len(buf) - pos < 2 + size:
                break
            if kind == PUBACK:
                self.acked += 1
            pos += 2 + size
        self._buf = buf[pos:]


class Publisher:
    """One MQTT 3.1.1 connection publishing QoS 1, driven from the calling thread."""

    def __init__(self, spec: PublisherSpec) -> None:
        if not 0 < spec.window <= MAX_WINDOW:
            raise ValueError(f"window must be 1..{MAX_WINDOW}")
        self.spec = spec
        self.sent = 0
        self._acks = PubackReader()
        self._sock: socket.socket | None = None

    @property
    def acked(self) -> int:
        return self._acks.acked

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.spec.port), CONNECT_TIMEOUT_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(connect_packet(f"bench-{self.spec.id_prefix}"))
        connack = _read_exactly(sock, 4)
        if connack[0] != CONNACK or connack[3] != 0:
            raise ConnectionError(f"MQTT broker refused the connection: {connack.hex()}")
        sock.setblocking(False)
        self._sock = sock

    def _read_acks(self, wait_s: float) -> None:
        assert self._sock is not None
        if wait_s > 0:
            self._sock.settimeout(wait_s)
        try:
            data = self._sock.recv(1 << 16)
        except (BlockingIOError, TimeoutError):
            return
        finally:
            self._sock.setblocking(False)
        if not data:
            raise ConnectionError("the MQTT broker closed the connection")
        self._acks.feed(data)

    def _flush(self, out: list[bytes], deadline: float) -> bool:
        """Send what is gathered, read PUBACKs, and wait for room in the window."""
        assert self._sock is not None
        if out:
            self._sock.setblocking(True)
            self._sock.sendall(b"".join(out))
            self._sock.setblocking(False)
            out.clear()
        self._read_acks(0)
        while self.sent - self.acked >= self.spec.window:
            if time.monotonic() > deadline:
                return False
            self._read_acks(0.01)
        return True

    def publish_all(self) -> None:
        spec = self.spec
        chunk = PACE_EVERY if spec.rate else CHUNK
        topics = [t.encode() for t in traffic.mqtt_topics(spec.topic_root)]
        prefixed = [len(t).to_bytes(2, "big") + t for t in topics]
        items = traffic.indexed_messages(
            spec.id_prefix, spec.count, seed=spec.index, targets=len(prefixed)
        )
        start = time.monotonic()
        deadline = start + spec.timeout_s
        out: list[bytes] = []
        while self.sent < spec.count:
            if self.sent % chunk == 0:
                if not self._flush(out, deadline):
                    break
                if spec.rate:
                    _pace(start + self.sent / spec.rate)  # before the event is stamped
            target, payload = next(items)
            self.sent += 1
            out.append(publish_packet(prefixed[target], self.sent % 65_535 + 1, payload))
        self._flush(out, deadline)

    def wait_acked(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acked < self.sent and time.monotonic() < deadline:
            self._read_acks(0.01)

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.setblocking(True)
                self._sock.sendall(b"\xe0\x00")  # DISCONNECT
            self._sock.close()


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the MQTT broker closed the connection")
        data += chunk
    return data


def _pace(due: float) -> None:
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def publisher_main(spec: PublisherSpec, go: MpEvent, results: Queue[Any]) -> None:
    """Process entry: connect, say ready, wait for go, publish, wait for every PUBACK, report."""
    die_with_parent()
    pub = Publisher(spec)
    try:
        pub.connect()
    except (OSError, TimeoutError, ConnectionError) as exc:
        results.put(PublisherResult(spec.index, 0, 0, 0.0, 0.0, 0.0, f"connect: {exc}"))
        return
    results.put(("ready", spec.index))
    try:
        if not go.wait(60.0):
            results.put(PublisherResult(spec.index, 0, 0, 0.0, 0.0, 0.0, "no go signal"))
            return
        first, cpu_at_go = time.time(), time.process_time()
        pub.publish_all()
        pub.wait_acked(timeout_s=60.0)
        last = time.time()
        error = "" if pub.acked >= spec.count else f"only {pub.acked} of {spec.count} acked"
        cpu = time.process_time() - cpu_at_go  # not the imports and the connect
        results.put(PublisherResult(spec.index, pub.sent, pub.acked, first, last, cpu, error))
    finally:
        pub.close()


@contextlib.contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Processes started in here ignore Ctrl-C from their first instruction (an ignored signal
    stays ignored across exec, and Python keeps it so): the bench stops them in order instead of
    each dying with a traceback. signal.signal works only in the main thread."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class PublisherFleet:
    """Starts publishers, releases them together, and collects what each reports."""

    def __init__(self, specs: list[PublisherSpec]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._go = ctx.Event()
        self._results: Queue[Any] = ctx.Queue()
        self._procs: list[BaseProcess] = [
            ctx.Process(target=publisher_main, args=(s, self._go, self._results), daemon=True)
            for s in specs
        ]
        self.results: list[PublisherResult] = []
        self.go_ts = 0.0

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def launch(self) -> None:
        """Starts the processes; call from the main thread (see children_ignore_sigint)."""
        with children_ignore_sigint():
            for proc in self._procs:
                proc.start()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Blocking: returns once every publisher is connected."""
        ready = 0
        deadline = time.monotonic() + timeout_s
        while ready < len(self._procs):
            try:
                item = self._results.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise BenchError(f"{ready} of {len(self._procs)} publishers connected") from None
            if isinstance(item, PublisherResult):
                raise BenchError(f"publisher {item.index} failed: {item.error}")
            ready += 1

    def go(self) -> float:
        self.go_ts = time.time()
        self._go.set()
        return self.go_ts

    def poll(self) -> bool:
        """Collect reports without blocking; True once every publisher has reported."""
        while len(self.results) < len(self._procs):
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, PublisherResult):
                self.results.append(item)
        return self.done

    @property
    def done(self) -> bool:
        return len(self.results) == len(self._procs)

    def errors(self) -> list[str]:
        return [f"publisher {r.index}: {r.error}" for r in self.results if r.error]

    def stop(self, timeout_s: float = 10.0, *, abort: bool = False) -> None:
        wait = self._go.is_set() and not abort
        for proc in self._procs:
            if proc.pid is None:
                continue
            if wait:
                proc.join(timeout_s)
            if proc.is_alive():
                proc.terminate()
                proc.join(5.0)
        self._results.close()
