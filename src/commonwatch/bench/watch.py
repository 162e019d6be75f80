"""Watching a run: consumer ack floors (what is committed) and the memory and CPU of processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
from nats.js import JetStreamContext
from rich.progress import Progress, TaskID

POLL_S = 0.05
SAMPLE_S = 0.5
MB = 1024 * 1024
# Load generators exit as soon as they are done, often before a phase's last CPU sample; they
# report their own CPU time instead, so this group counts for memory only.
LOAD_GROUP = "load_generators"


class BenchError(RuntimeError):
    """The bench could not finish a phase; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Floor:
    acked_seq: int
    pending: int
    ack_pending: int
    waiting: int


async def floor(js: JetStreamContext, stream: str, durable: str) -> Floor:
    info = await js.consumer_info(stream, durable)
    acked = info.ack_floor.stream_seq if info.ack_floor else 0
    return Floor(
        acked or 0, info.num_pending or 0, info.num_ack_pending or 0, info.num_waiting or 0
    )


async def last_seq(js: JetStreamContext, stream: str) -> int:
    info = await js.stream_info(stream)
    return int(info.state.last_seq)


@dataclass
class Drain:
    """When the consumer's ack floor first moved past `base`, and when it reached base + count."""

    first_ts: float = 0.0
    first_done: int = 0
    done_ts: float = 0.0


@dataclass(frozen=True, slots=True)
class DrainTarget:
    stream: str
    durables: tuple[str, ...]  # the consumers that share the phase's messages (partitions)
    base: int
    count: int
    timeout_s: float


async def committed(js: JetStreamContext, target: DrainTarget) -> int:
    """Messages of the phase acknowledged (after commit) by every consumer: each partition's
    consumer sees the whole stream and acks cumulatively, so everything up to the lowest ack
    floor among them has been committed by the worker it belongs to."""
    floors = [await floor(js, target.stream, d) for d in target.durables]
    return max(0, min(f.acked_seq for f in floors) - target.base)


async def wait_drained(
    js: JetStreamContext,
    target: DrainTarget,
    progress: tuple[Progress, TaskID],
    *,
    check: Callable[[], bool],
    on_progress: Callable[[int], None] = lambda done: None,
) -> Drain:
    """Polls the consumer until everything up to base + count is acknowledged (after commit).

    `check` runs at every poll: True once the producers are done; it raises BenchError when a
    process the phase needs has failed, so a broken run stops at once instead of timing out.
    """
    bar, task = progress
    drain = Drain()
    deadline = time.monotonic() + target.timeout_s
    done = 0
    while time.monotonic() < deadline:
        produced = check()
        done = await committed(js, target)
        now = time.time()
        if done and not drain.first_ts:
            drain.first_ts, drain.first_done = now, done
        bar.update(task, completed=min(done, target.count))
        on_progress(done)
        if done >= target.count and produced:
            drain.done_ts = now
            return drain
        await asyncio.sleep(POLL_S)
    raise BenchError(
        f"{', '.join(target.durables)}: {done} of {target.count} committed "
        f"after {target.timeout_s:.0f} s"
    )


def alive_check(name: str, alive: Callable[[], bool]) -> Callable[[], bool]:
    def check() -> bool:
        if not alive():
            raise BenchError(f"the {name} process exited; see its log")
        return True

    return check


@dataclass(frozen=True, slots=True)
class MachineTimes:
    """Whole-machine CPU seconds: what other tenants of a shared machine use shows up here."""

    at: float
    busy: float
    iowait: float
    steal: float

    @classmethod
    def now(cls) -> MachineTimes:
        t = psutil.cpu_times()
        busy = t.user + t.nice + t.system + t.irq + t.softirq
        return cls(time.monotonic(), busy, t.iowait, getattr(t, "steal", 0.0))

    def share_since(self, before: MachineTimes, ours_s: float) -> dict[str, float]:
        """Percent of all cores: busy, busy outside the bench's processes, iowait, steal."""
        capacity = max(1e-6, (self.at - before.at) * (psutil.cpu_count() or 1))

        def pct(seconds: float) -> float:
            return round(100 * seconds / capacity, 1)

        busy = self.busy - before.busy
        return {
            "busy_pct": pct(busy),
            "others_pct": pct(max(0.0, busy - ours_s)),
            "iowait_pct": pct(self.iowait - before.iowait),
            "steal_pct": pct(self.steal - before.steal),
        }


def tree_pids(pid: int) -> list[int]:
    try:
        root = psutil.Process(pid)
        return [pid, *(p.pid for p in root.children(recursive=True))]
    except psutil.Error:
        return []


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total / MB


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


@dataclass
class Sampler:
    """Samples RSS of named process groups twice a second; `groups` maps a name to its pids."""

    groups: dict[str, Callable[[], list[int]]]
    started: float = field(default_factory=time.monotonic)
    phase: str = "setup"
    committed: int = 0
    worker: list[tuple[float, str, int, float]] = field(default_factory=list)
    peak: dict[str, float] = field(default_factory=dict)

    def sample(self) -> None:
        sizes = {name: rss_mb(pids()) for name, pids in self.groups.items()}
        sizes["all"] = sum(sizes.values())
        for name, size in sizes.items():
            self.peak[name] = max(self.peak.get(name, 0.0), size)
        if sizes.get("worker"):
            at = round(time.monotonic() - self.started, 2)
            self.worker.append((at, self.phase, self.committed, round(sizes["worker"], 1)))

    async def run(self) -> None:
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(SAMPLE_S)

    def cpu(self) -> dict[str, float]:
        return {name: cpu_s(pids()) for name, pids in self.groups.items() if name != LOAD_GROUP}
