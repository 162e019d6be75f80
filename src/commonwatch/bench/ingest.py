"""`commonwatch bench ingest`: the real ingest pipeline on fresh embedded servers, measured.

One run, on one machine: raw limits of the building blocks (PostgreSQL COPY, lean JetStream
publish and pull), a bare pipeline (MQTT -> decode -> COPY -> ack), then the real worker process
under MQTT QoS 1 load, at a fixed rate for latency, and draining a backlog. Writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from commonwatch.bench import raw, report, traffic
from commonwatch.bench.latency import latency_phase
from commonwatch.bench.phases import (
    INGEST_DURABLES,
    Ctx,
    PhaseSpec,
    backlog_phase,
    bare_phase,
    events_counter,
    mqtt_phase,
    start_worker,
    worker_check,
)
from commonwatch.bench.stack import Stack, versions
from commonwatch.bench.watch import LOAD_GROUP, BenchError, Sampler, tree_pids
from commonwatch.bus import subjects
from commonwatch.runtime.worker import PULL_BATCH
from commonwatch.storage import db

QUICK_EVENTS = 20_000
RAW_EVENTS_MAX = 100_000
QUICK_RAW_EVENTS = 10_000
PHASE_ORDER = [
    "raw_limits.postgres_copy",
    "raw_limits.jetstream",
    "raw_limits.bare_pipeline",
    "worker_warm_up",
    "latency",
    "sustained",
    "latency_after_burst",
    "backlog_drain",
]
SUSTAINED_LABEL = "sustained: MQTT -> worker"


@dataclass(frozen=True, slots=True)
class BenchConfig:
    events: int
    json_path: Path
    quick: bool
    data_dir: Path | None
    publishers: int = 2
    window: int = 2000
    latency_rate: float = 2000.0
    latency_seconds: float = 15.0

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> BenchConfig:
        quick = bool(getattr(ns, "quick", False))
        events = int(ns.events)
        if quick:
            events = min(events, QUICK_EVENTS)
        return cls(
            events=max(1000, events),
            json_path=Path(ns.json),
            quick=quick,
            data_dir=getattr(ns, "data_dir", None),
            latency_seconds=4.0 if quick else 15.0,
        )

    @property
    def raw_events(self) -> int:
        return min(self.events, QUICK_RAW_EVENTS if self.quick else RAW_EVENTS_MAX)


def code_revision() -> str:
    """The checkout's commit, `-dirty` when it has changes: which code these figures are for."""
    root = Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def metadata(cfg: BenchConfig, server_versions: dict[str, str]) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": cfg.events,
        "quick": cfg.quick,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": server_versions,
        "load": {
            "mqtt_publishers": cfg.publishers,
            "publisher_window": cfg.window,
            "qos": 1,
            "alarm_share": traffic.ALARM_SHARE + traffic.RESTORE_SHARE,
            "devices": traffic.COMMUNITIES
            * traffic.BUILDINGS_PER_COMMUNITY
            * traffic.DEVICES_PER_BUILDING,
        },
        "phase_order": PHASE_ORDER,
        "worker_pull_batch": PULL_BATCH,
        "ingest_partitions": subjects.INGEST_PARTITIONS,
        "code": code_revision(),
        "notes": [
            "RSS sums count shared memory once per process (PostgreSQL's shared buffers).",
            "cpu_us_per_event: CPU time of each process group during the phase / events; "
            "cpu_bound_events_per_s: cpu_count / their sum, what the cores could carry.",
            "latency to_acked: device ts -> the worker's ack seen on the wire, after COMMIT; "
            "to_stored: device ts -> events.stored_at, clock_timestamp() before COMMIT.",
        ],
    }


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:>9,.0f}/s" if task.speed else "", style="cyan")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _groups(ctx: Ctx) -> dict[str, Callable[[], list[int]]]:
    """The process groups whose memory and CPU the sampler follows, looked up at each sample."""
    stack = ctx.stack

    def worker() -> list[int]:
        return stack.worker.pids if stack.worker else []

    def postgres() -> list[int]:
        pid = stack.postmaster_pid()
        return tree_pids(pid) if pid else []

    nats_pid = stack.nats_server.pid if stack.nats_server else None
    return {
        "worker": worker,
        "nats_server": lambda: [nats_pid] if nats_pid else [],
        "postgres": postgres,
        LOAD_GROUP: lambda: list(ctx.load_pids),
        "bare_consumer": lambda: list(ctx.bare_pids),
        "bench": lambda: [os.getpid()],
    }


async def correlation_summary(conn: asyncpg.Connection) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM events WHERE state <> 'info') AS alarm_and_restore_events, "
        "(SELECT count(*) FROM events WHERE incident_id IS NOT NULL) AS events_in_incidents, "
        "(SELECT count(*) FROM incidents) AS incidents, "
        "(SELECT count(*) FROM incidents WHERE status = 'resolved') AS incidents_resolved, "
        "(SELECT count(*) FROM incident_timeline) AS timeline_rows, "
        "(SELECT count(*) FROM outbox) AS outbox_rows, "
        "(SELECT count(*) FROM events) AS events_total"
    )
    assert row is not None
    return {key: int(value) for key, value in row.items()}


async def _phases(ctx: Ctx, cfg: BenchConfig) -> report.Results:
    meta = metadata(cfg, await versions(ctx.stack.database_url))  # before: the code may change
    copy = await raw.copy_limits(ctx.conn, cfg.raw_events, ctx.progress)
    jetstream = await raw.jetstream_limits(ctx.nc, ctx.js, cfg.raw_events, ctx.progress)
    bare = await bare_phase(ctx, cfg.events)
    await start_worker(ctx)
    # Latency is measured at a steady moderate rate first, and again right after the burst,
    # when PostgreSQL is busy with what the burst left (autovacuum, checkpoints).
    latency = await latency_phase(ctx, cfg.latency_rate, cfg.latency_seconds)
    spec = PhaseSpec(
        SUSTAINED_LABEL,
        traffic.EVENTS_TOPIC_ROOT,
        "sus",
        subjects.EVENTS_STREAM,
        INGEST_DURABLES,
        cfg.events,
        cfg.publishers,
    )
    sustained = await mqtt_phase(ctx, spec, events_counter(ctx, "sus"), worker_check(ctx))
    ctx.worker_committed += cfg.events
    after_burst = await latency_phase(
        ctx, cfg.latency_rate, cfg.latency_seconds, id_prefix="lab", label=", after the burst"
    )
    backlog = await backlog_phase(ctx, cfg.events)
    correlation = await correlation_summary(ctx.conn)
    return report.Results(
        meta,
        copy,
        jetstream,
        bare,
        sustained,
        latency,
        after_burst,
        backlog,
        correlation,
    )


async def measure(stack: Stack, cfg: BenchConfig, progress: Progress) -> dict[str, Any]:
    await asyncio.to_thread(stack.start)
    nc, js = await stack.connect_nats()
    try:
        await stack.prepare(js)
        conn = await db.connect(stack.database_url)
        try:
            ctx = Ctx(stack, nc, js, conn, progress, Sampler({}), cfg.publishers, cfg.window)
            ctx.sampler.groups = _groups(ctx)
            return await _sampled(ctx, cfg)
        finally:
            await conn.close()
    finally:
        with contextlib.suppress(Exception):  # the servers may be gone already after an error
            await nc.close()


async def _sampled(ctx: Ctx, cfg: BenchConfig) -> dict[str, Any]:
    sampling = asyncio.create_task(ctx.sampler.run())
    try:
        results = await _phases(ctx, cfg)
        ctx.sampler.sample()
        return report.document(results, ctx.sampler)
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling


async def run(cfg: BenchConfig) -> int:
    console = Console(stderr=True)
    stack = Stack.fresh(cfg.data_dir)
    try:
        with _progress(console) as progress:
            doc = await measure(stack, cfg, progress)
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise
    except BaseException:
        stack.keep = True  # for the post-mortem: worker.log and the servers' logs
        console.print(f"[red]bench failed[/]; servers' data and worker.log kept in {stack.root}")
        raise
    finally:
        await asyncio.to_thread(stack.stop)
    cfg.json_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.json_path.write_text(json.dumps(report.finite(doc), indent=2, allow_nan=False) + "\n")
    report.summary(doc, Console())
    print(f"wrote {cfg.json_path}", file=sys.stderr)
    return 0 if doc["no_loss"] else 1


def main(ns: argparse.Namespace) -> int:
    try:
        return asyncio.run(run(BenchConfig.from_namespace(ns)))
    except BenchError as exc:
        Console(stderr=True).print(f"[red]bench failed:[/] {exc}")
        return 2
