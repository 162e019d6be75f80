"""MQTT QoS 1 load generators, each in its own process (paho-mqtt 2.x).

paho's own in-flight limit (20 by default) caps QoS 1 at a few thousand messages per second, and
raising it makes paho slower (it scans its in-flight table). So paho's limit is switched off and
the publisher keeps its own window of unacknowledged publishes, freed by PUBACKs.

The load generators share the machine with the pipeline they measure, so they are made cheap:
paho is driven from one thread (no network thread, no GIL hand-offs per message), and each chunk
of publishes is written under TCP_CORK, so the broker reads full segments instead of waking up
once per message.
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

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from commonwatch.bench import traffic
from commonwatch.bench.watch import BenchError
from commonwatch.runtime.embedded import die_with_parent

CONNECT_TIMEOUT_S = 10.0
CHUNK = 100  # publishes per corked write, as fast as the window allows
PACE_EVERY = 10  # paced publishers sleep once per this many messages (5 ms at 2,000/s)


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


class Publisher:
    """One paho client, driven from the calling thread."""

    def __init__(self, spec: PublisherSpec) -> None:
        self.spec = spec
        self.acked = 0
        self.sent = 0
        self._connected = False
        self._sock: socket.socket | None = None
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{spec.id_prefix}")
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        self.client = client

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected = not reason.is_failure

    def _on_publish(self, client: Any, userdata: Any, mid: Any, reason: Any, props: Any) -> None:
        self.acked += 1

    def connect(self) -> None:
        self.client.connect("127.0.0.1", self.spec.port, keepalive=120)
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not self._connected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"MQTT 127.0.0.1:{self.spec.port} did not accept the connection")
            self.client.loop(0.05)
        sock = self.client.socket()
        self._sock = sock if isinstance(sock, socket.socket) else None

    def _cork(self, on: bool) -> None:
        if self._sock is not None:
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, int(on))

    def _flush(self, deadline: float) -> bool:
        """Send what is corked, read PUBACKs, and wait for room in the window."""
        self._cork(False)
        self._cork(True)
        self.client.loop(0)
        while self.sent - self.acked >= self.spec.window:
            if time.monotonic() > deadline:
                return False
            self.client.loop(0.01)
        return True

    def publish_all(self) -> None:
        spec = self.spec
        chunk = PACE_EVERY if spec.rate else CHUNK
        topics = traffic.mqtt_topics(spec.topic_root)
        items: Iterator[tuple[str, bytes]] = traffic.messages(
            spec.id_prefix, spec.count, seed=spec.index, targets=topics
        )
        start = time.monotonic()
        deadline = start + spec.timeout_s
        self._cork(True)
        try:
            while self.sent < spec.count:
                if self.sent % chunk == 0 and not self._flush(deadline):
                    break
                if spec.rate and self.sent % chunk == 0:
                    _pace(start + self.sent / spec.rate)  # before the event is stamped
                topic, payload = next(items)
                self.client.publish(topic, payload, qos=1)
                self.sent += 1
        finally:
            self._cork(False)

    def wait_acked(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acked < self.sent and time.monotonic() < deadline:
            self.client.loop(0.01)

    def close(self) -> None:
        self.client.disconnect()


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
    except (OSError, TimeoutError) as exc:
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
