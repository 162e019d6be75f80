"""The measured phases: MQTT load to committed rows, a fixed-rate latency run, a backlog drain."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from rich.progress import Progress

from commonwatch.bench import bare, lean, traffic
from commonwatch.bench.mqttload import (
    PublisherFleet,
    PublisherResult,
    PublisherSpec,
    children_ignore_sigint,
)
from commonwatch.bench.raw import scratch_like_events
from commonwatch.bench.stack import Stack
from commonwatch.bench.watch import (
    BenchError,
    DrainTarget,
    MachineTimes,
    Sampler,
    alive_check,
    floor,
    last_seq,
    wait_drained,
)
from commonwatch.bus import subjects

BACKLOG_WINDOW = 5000
WARMUP_EVENTS = 500


INGEST_DURABLES = tuple(subjects.ingest_consumer(p) for p in range(subjects.INGEST_PARTITIONS))


@dataclass
class Ctx:
    """What every phase uses; `load_pids` and `bare_pids` feed the sampler's process groups."""

    stack: Stack
    nc: Client
    js: JetStreamContext
    conn: asyncpg.Connection
    progress: Progress
    sampler: Sampler
    publishers: int
    window: int
    load_pids: list[int] = field(default_factory=list)
    bare_pids: list[int] = field(default_factory=list)
    worker_committed: int = 0  # events the worker committed in earlier phases


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    label: str
    topic_root: str
    id_prefix: str
    stream: str
    durables: tuple[str, ...]
    count: int
    publishers: int
    rate: float = 0.0  # all publishers together; 0 is as fast as they can


@dataclass(frozen=True, slots=True)
class PipelineRun:
    events: int
    committed_rows: int
    seconds: float
    events_per_s: float
    publish_per_s: float
    first_commit_after_s: float
    cpu_us_per_event: dict[str, float]
    # What this machine's cores could carry if they did nothing else: cores / CPU per event.
    cpu_bound_events_per_s: float
    machine: dict[str, float]
    errors: list[str]


def _specs(ctx: Ctx, spec: PhaseSpec) -> list[PublisherSpec]:
    counts = [spec.count // spec.publishers] * spec.publishers
    counts[0] += spec.count - sum(counts)
    rate = spec.rate / spec.publishers
    return [
        PublisherSpec(
            i,
            ctx.stack.mqtt_port,
            spec.topic_root,
            f"{spec.id_prefix}{i}-",
            n,
            rate,
            ctx.window,
            timeout_s=max(120.0, spec.count / 500),
        )
        for i, n in enumerate(counts)
    ]


def _cpu_us(
    before: dict[str, float], after: dict[str, float], pubs: list[PublisherResult], events: int
) -> dict[str, float]:
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    if pubs:
        used["publishers"] = sum(r.cpu_s for r in pubs)
    return {name: round(seconds * 1e6 / max(1, events), 1) for name, seconds in used.items()}


def _fleet_check(fleet: PublisherFleet, consumer: Callable[[], bool]) -> Callable[[], bool]:
    def check() -> bool:
        consumer()
        done = fleet.poll()
        if fleet.errors():
            raise BenchError("; ".join(fleet.errors()))
        return done

    return check


def _cpu_bound(cpu_us: dict[str, float]) -> float:
    return round((os.cpu_count() or 1) * 1e6 / max(1e-6, sum(cpu_us.values())), 1)


async def mqtt_phase(
    ctx: Ctx,
    spec: PhaseSpec,
    count_rows: Callable[[], Awaitable[int]],
    consumer: Callable[[], bool],
) -> PipelineRun:
    """Publishers at full speed (or `rate`) until every event is committed and acknowledged.

    `consumer` raises BenchError when the consuming process has died (see alive_check).
    """
    base = await last_seq(ctx.js, spec.stream)
    target = DrainTarget(spec.stream, spec.durables, base, spec.count, max(90.0, spec.count / 800))
    committed_before = ctx.worker_committed

    def on_progress(done: int) -> None:
        if spec.durables == INGEST_DURABLES:  # the bare consumer is not the worker
            ctx.sampler.committed = committed_before + done

    fleet = PublisherFleet(_specs(ctx, spec))
    try:
        fleet.launch()
        await asyncio.to_thread(fleet.wait_ready)
        ctx.load_pids[:] = fleet.pids
        ctx.sampler.phase = spec.label
        task = ctx.progress.add_task(spec.label, total=spec.count)
        cpu_before, machine_before = ctx.sampler.cpu(), MachineTimes.now()
        go = fleet.go()
        drain = await wait_drained(
            ctx.js,
            target,
            (ctx.progress, task),
            check=_fleet_check(fleet, consumer),
            on_progress=on_progress,
        )
        cpu_after, machine_after = ctx.sampler.cpu(), MachineTimes.now()
    finally:
        await asyncio.to_thread(fleet.stop, abort=not fleet.done)
        ctx.load_pids.clear()
    rows = await count_rows()
    seconds = drain.done_ts - go
    last_ack = max(r.last_ack_ts for r in fleet.results)
    cpu_us = _cpu_us(cpu_before, cpu_after, fleet.results, spec.count)
    ours_s = sum(cpu_us.values()) * spec.count / 1e6
    return PipelineRun(
        events=spec.count,
        committed_rows=rows,
        seconds=round(seconds, 3),
        events_per_s=round(spec.count / seconds, 1),
        publish_per_s=round(spec.count / max(1e-6, last_ack - go), 1),
        first_commit_after_s=round(drain.first_ts - go, 3),
        cpu_us_per_event=cpu_us,
        cpu_bound_events_per_s=_cpu_bound(cpu_us),
        machine=machine_after.share_since(machine_before, ours_s),
        errors=fleet.errors(),
    )


def worker_check(ctx: Ctx) -> Callable[[], bool]:
    worker = ctx.stack.worker
    assert worker is not None
    return alive_check("worker", worker.alive)


def events_counter(ctx: Ctx, id_prefix: str) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        return int(
            await ctx.conn.fetchval("SELECT count(*) FROM events WHERE id LIKE $1", f"{id_prefix}%")
        )

    return count


async def bare_phase(ctx: Ctx, count: int) -> PipelineRun:
    """The same MQTT load into a consumer that only decodes, COPYs and acks: the raw limit."""
    await ctx.js.add_stream(StreamConfig(bare.STREAM, subjects=[f"{bare.SUBJECT_PREFIX}.>"]))
    await ctx.js.add_consumer(
        bare.STREAM,
        ConsumerConfig(
            durable_name=bare.DURABLE, ack_policy=AckPolicy.ALL, max_ack_pending=100_000
        ),
    )
    await scratch_like_events(ctx.conn, bare.TABLE)
    mp = multiprocessing.get_context("spawn")
    stop = mp.Event()
    proc = mp.Process(
        target=bare.bare_main, args=(ctx.stack.database_url, ctx.stack.nats_url, stop), daemon=True
    )
    with children_ignore_sigint():
        proc.start()
    ctx.bare_pids[:] = [proc.pid] if proc.pid else []
    try:
        await wait_pulling(ctx.js, bare.STREAM, bare.DURABLE, alive=proc.is_alive)
        spec = PhaseSpec(
            "bare: MQTT -> COPY -> ack",
            bare.TOPIC_ROOT,
            "bare",
            bare.STREAM,
            (bare.DURABLE,),
            count,
            ctx.publishers,
        )

        async def rows() -> int:
            return int(await ctx.conn.fetchval(f"SELECT count(*) FROM {bare.TABLE}"))

        return await mqtt_phase(ctx, spec, rows, alive_check("bare consumer", proc.is_alive))
    finally:
        stop.set()
        await asyncio.to_thread(proc.join, 10.0)
        if proc.is_alive():
            proc.terminate()
            proc.join(5.0)
        ctx.bare_pids.clear()
        await ctx.js.delete_stream(bare.STREAM)
        await ctx.conn.execute(f"DROP TABLE IF EXISTS {bare.TABLE}")


async def wait_pulling(
    js: JetStreamContext,
    stream: str,
    durable: str,
    alive: Callable[[], bool],
    timeout_s: float = 60.0,
) -> None:
    """Until the consumer has a pull request waiting, i.e. its process is up and connected."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise BenchError(f"the {durable} consumer process exited at start")
        if (await floor(js, stream, durable)).waiting:
            return
        await asyncio.sleep(0.05)
    raise BenchError(f"the {durable} consumer did not start pulling within {timeout_s:.0f} s")


async def publish_lean(ctx: Ctx, id_prefix: str, count: int, label: str) -> tuple[int, float]:
    """Straight into CW_EVENTS with the lean async publish; (stream seq before, seconds)."""
    base = await last_seq(ctx.js, subjects.EVENTS_STREAM)
    task = ctx.progress.add_task(label, total=count)
    counter = lean.AckCounter(ctx.nc, BACKLOG_WINDOW)
    items = traffic.messages(id_prefix, count, seed=11, targets=traffic.event_subjects())
    seconds = await counter.publish_all(items, timeout_s=max(60.0, count / 2000))
    ctx.progress.update(task, completed=counter.acked)
    if counter.acked < count or counter.errors:
        raise BenchError(f"{label}: {counter.acked} of {count} stored, {counter.errors} errors")
    return base, seconds


def _ingest_target(base: int, count: int) -> DrainTarget:
    return DrainTarget(subjects.EVENTS_STREAM, INGEST_DURABLES, base, count, max(90.0, count / 800))


async def start_worker(ctx: Ctx) -> None:
    """Starts the worker and proves it works with a small warm-up batch."""
    worker = ctx.stack.worker
    assert worker is not None
    ctx.sampler.phase, ctx.sampler.committed = "warm-up", ctx.worker_committed
    base, _ = await publish_lean(ctx, "wu", WARMUP_EVENTS, "warm-up publish")
    worker.start()
    task = ctx.progress.add_task("worker start + warm-up", total=WARMUP_EVENTS)
    target = _ingest_target(base, WARMUP_EVENTS)
    await wait_drained(ctx.js, target, (ctx.progress, task), check=worker_check(ctx))
    ctx.worker_committed += WARMUP_EVENTS


@dataclass(frozen=True, slots=True)
class BacklogRun:
    events: int
    committed_rows: int
    publish_per_s: float
    startup_s: float
    seconds: float
    events_per_s: float
    events_per_s_incl_startup: float
    cpu_us_per_event: dict[str, float]
    cpu_bound_events_per_s: float
    machine: dict[str, float]


class CpuFromFirstCommit:
    """Progress callback that takes a CPU snapshot at the first commit: start-up does not count."""

    def __init__(self, sampler: Sampler, committed_before: int) -> None:
        self.sampler = sampler
        self.committed_before = committed_before
        self.before: dict[str, float] = {}
        self.machine = MachineTimes.now()
        self.done_then = 0

    def __call__(self, done: int) -> None:
        self.sampler.committed = self.committed_before + done
        if done and not self.before:
            self.before, self.done_then = self.sampler.cpu(), done
            self.machine = MachineTimes.now()


async def backlog_phase(ctx: Ctx, count: int) -> BacklogRun:
    """Worker stopped, `count` events stored in JetStream, worker started: time to commit all."""
    worker = ctx.stack.worker
    assert worker is not None
    await asyncio.to_thread(worker.stop)
    base, pub_s = await publish_lean(ctx, "bkl", count, "backlog publish, worker off")
    ctx.sampler.phase = "backlog"
    task = ctx.progress.add_task("backlog drain", total=count)
    cpu = CpuFromFirstCommit(ctx.sampler, ctx.worker_committed)
    spawned = time.time()
    worker.start()
    drain = await wait_drained(
        ctx.js,
        _ingest_target(base, count),
        (ctx.progress, task),
        check=worker_check(ctx),
        on_progress=cpu,
    )
    cpu_us = _cpu_us(cpu.before, ctx.sampler.cpu(), [], count - cpu.done_then)
    ours_s = sum(cpu_us.values()) * (count - cpu.done_then) / 1e6
    machine = MachineTimes.now().share_since(cpu.machine, ours_s)
    ctx.worker_committed += count
    seconds = drain.done_ts - drain.first_ts
    return BacklogRun(
        events=count,
        committed_rows=await events_counter(ctx, "bkl")(),
        publish_per_s=round(count / pub_s, 1),
        startup_s=round(drain.first_ts - spawned, 3),
        seconds=round(seconds, 3),
        events_per_s=round((count - drain.first_done) / max(seconds, 1e-6), 1),
        events_per_s_incl_startup=round(count / (drain.done_ts - spawned), 1),
        cpu_us_per_event=cpu_us,
        cpu_bound_events_per_s=_cpu_bound(cpu_us),
        machine=machine,
    )
