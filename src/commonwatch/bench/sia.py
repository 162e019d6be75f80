"""`commonwatch bench sia`: alarm panels -> SIA DC-09 receiver -> JetStream -> ACK, measured.

Fresh embedded servers; the receiver runs as its own process, as deployed; this process plays
the panels over loopback TCP, each waiting for its ACK before its next frame (as DC-09 panels
do): first as many frames as get acknowledged, then a fixed rate for ACK latency. The stream must
then hold one event per ACK: an ACK for an event not stored would be a lost alarm.

Each phase reports the CPU every process spends per frame (receiver, panels, NATS, PostgreSQL)
and how busy the machine was; the raw limit is the receiver's own publisher without SIA, with as
many events in flight as there are panels, so frames/s can be read as a share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import time
import timeit
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.js.api import StorageType, StreamConfig
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from commonwatch.bench.ingest import code_revision
from commonwatch.bench.report import finite
from commonwatch.bench.stack import Stack, versions
from commonwatch.bench.watch import MachineTimes, cpu_s, tree_pids
from commonwatch.bus import subjects
from commonwatch.bus.streams import ensure_streams
from commonwatch.domain.model import EventState
from commonwatch.ingest.sia import publish
from commonwatch.ingest.sia.config import ENV_ACCOUNTS, Account
from commonwatch.ingest.sia.crypto import encrypt
from commonwatch.ingest.sia.parse import crc16, format_timestamp
from commonwatch.ingest.sia.service import native
from commonwatch.runtime import config
from commonwatch.runtime.embedded import die_with_parent, free_port, wait_for_port
from commonwatch.runtime.hotpath import run_fast
from commonwatch.storage import db

KEY = b"BenchKey-AES-128"
RAW_STREAM = "BENCH_SIA_RAW"
RAW_PREFIX = "bench.siaraw"
RAW_MAX_MESSAGES = 100_000
TARGET_FRAMES_PER_S = 5000.0
TARGET_P99_MS = 20.0
ANSWER_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class SiaBenchConfig:
    panels: int
    seconds: float
    rate: float
    latency_seconds: float
    encrypted: bool
    json_path: Path
    data_dir: Path | None
    quick: bool

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> SiaBenchConfig:
        quick = bool(ns.quick)
        return cls(
            panels=max(1, min(ns.panels, 50) if quick else ns.panels),
            seconds=min(ns.seconds, 3.0) if quick else ns.seconds,
            rate=ns.rate,
            latency_seconds=min(ns.latency_seconds, 3.0) if quick else ns.latency_seconds,
            encrypted=bool(ns.encrypted),
            json_path=Path(ns.json),
            data_dir=ns.data_dir,
            quick=quick,
        )


class Panel(asyncio.Protocol):
    """One alarm panel on one TCP connection: one frame in flight, answers timed."""

    def __init__(self, account: str, encrypted: bool, zone_base: int) -> None:
        self.account, self.encrypted = account, encrypted
        self.seq = zone_base
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.sent_at = 0.0
        self.waiting = False
        self.on_answer: Any = None  # (panel, ok, latency_s) -> None
        self.stamp = ("", 0)
        # A clear frame's body with the account filled in; sequence, zone and time to come.
        number = account.encode()
        self._clear = b'"SIA-DCS"%%04dR1L0#%s[#%s|Nri1/BA%%03d]%%s' % (number, number)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def frame(self) -> bytes:
        self.seq += 1
        second = int(time.time())
        if self.stamp[1] != second:
            self.stamp = (format_timestamp(datetime.fromtimestamp(second, UTC)), second)
        # Zone and sequence vary, so every frame is a distinct alarm with its own event id.
        seq, zone, stamp = self.seq % 10_000, self.seq // 10_000 % 1000, self.stamp[0]
        if self.encrypted:
            sealed = encrypt(KEY, f"Nri1/BA{zone:03d}]{stamp}")
            raw = f'"*SIA-DCS"{seq:04d}R1L0#{self.account}[{sealed}'.encode()
        else:
            raw = self._clear % (seq, zone, stamp.encode())
        return b"\n%04X%04X%s\r" % (crc16(raw), len(raw), raw)

    def send(self) -> None:
        assert self.transport is not None
        data = self.frame()
        self.waiting = True
        self.sent_at = time.perf_counter()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if not self.buf and data.find(b"\r") == len(data) - 1:
            self._answered(data)  # the usual read: exactly one whole answer
            return
        self.buf += data
        while (end := self.buf.find(b"\r")) >= 0:
            answer, self.buf = self.buf[: end + 1], self.buf[end + 1 :]
            self._answered(answer)

    def _answered(self, answer: bytes) -> None:
        latency = time.perf_counter() - self.sent_at
        start = answer.find(b"\n")
        body = answer[start + 9 : -1]
        sound = int(answer[start + 1 : start + 5], 16) == crc16(body)
        ok = sound and body[1:5] in (b'ACK"', b"*ACK")
        self.waiting = False
        if self.on_answer is not None:
            self.on_answer(self, ok, latency)


@dataclass
class Tally:
    acked: int = 0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def settle(panels: list[Panel], timeout_s: float = ANSWER_TIMEOUT_S) -> int:
    """Wait for answers still in flight; the number that never came."""
    for _ in range(int(timeout_s / 0.01)):
        if not any(p.waiting for p in panels):
            break
        await asyncio.sleep(0.01)
    return sum(p.waiting for p in panels)


async def closed_loop(panels: list[Panel], seconds: float, progress: Progress) -> dict[str, Any]:
    """Every panel sends its next frame the moment its ACK arrives."""
    tally, stop_at = Tally(), time.perf_counter() + seconds
    task = progress.add_task("throughput", total=seconds, acked=0)

    def answered(panel: Panel, ok: bool, _latency: float) -> None:
        if ok:
            tally.acked += 1
        else:
            tally.refused += 1
        if time.perf_counter() < stop_at:
            panel.send()

    start = time.perf_counter()
    for panel in panels:
        panel.on_answer = answered
        panel.send()
    while (now := time.perf_counter()) < stop_at:
        progress.update(task, completed=now - start, acked=tally.acked)
        await asyncio.sleep(0.2)
    lost = await settle(panels)
    elapsed = time.perf_counter() - start
    progress.update(task, completed=seconds, acked=tally.acked)
    return {
        "panels": len(panels), "seconds": round(elapsed, 3), "acked": tally.acked,
        "refused": tally.refused, "unanswered": lost,
        "frames_per_s": round(tally.acked / elapsed, 1),
    }  # fmt: skip


async def open_loop(
    panels: list[Panel], rate: float, seconds: float, progress: Progress
) -> dict[str, Any]:
    """A frame every 1/rate seconds on the next idle panel; latency is send -> ACK."""
    tally, idle, skipped = Tally(), deque(panels), 0
    total = int(rate * seconds)
    task = progress.add_task(f"latency at {rate:,.0f}/s", total=total, acked=0)

    def answered(panel: Panel, ok: bool, latency: float) -> None:
        if ok:
            tally.acked += 1
            tally.latencies.append(latency)
        else:
            tally.refused += 1
        idle.append(panel)

    for panel in panels:
        panel.on_answer = answered
    start = time.perf_counter()
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if idle:
            idle.popleft().send()
        else:
            skipped += 1
        if k % 100 == 0:
            progress.update(task, completed=k, acked=tally.acked)
    lost = await settle(panels)
    progress.update(task, completed=total, acked=tally.acked)
    ms = [x * 1000 for x in tally.latencies]
    return {
        "rate": rate, "sent": total - skipped, "acked": tally.acked, "refused": tally.refused,
        "skipped_all_busy": skipped, "unanswered": lost,
        "p50_ms": round(percentile(ms, 0.50), 2), "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2), "max_ms": round(max(ms, default=math.nan), 2),
    }  # fmt: skip


def accounts(count: int) -> list[str]:
    return [f"{0xB0000 + i:X}" for i in range(count)]


def start_receiver(stack: Stack, cfg: SiaBenchConfig, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env[config.ENV_DATABASE_URL] = stack.database_url
    env[config.ENV_NATS_URL] = stack.nats_url
    key = f":{KEY.decode()}" if cfg.encrypted else ""
    env[ENV_ACCOUNTS] = ",".join(a + key for a in accounts(cfg.panels))
    with (stack.root / "sia-receiver.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "commonwatch.ingest.sia", "sia-receiver", "--sia-port",
             str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent,
        )  # fmt: skip
    wait_for_port(port, 30.0)
    return proc


async def connect(cfg: SiaBenchConfig, port: int) -> list[Panel]:
    loop = asyncio.get_running_loop()
    panels = []
    for i, acct in enumerate(accounts(cfg.panels)):
        panel = Panel(acct, cfg.encrypted, zone_base=i * 7)
        await loop.create_connection(lambda p=panel: p, "127.0.0.1", port)  # type: ignore[misc]
        panels.append(panel)
    return panels


async def stream_messages(stack: Stack) -> int:
    nc, js = await stack.connect_nats()
    try:
        await ensure_streams(js)
        return int((await js.stream_info(subjects.EVENTS_STREAM)).state.messages)
    finally:
        await nc.close()


def process_groups(stack: Stack, proc: subprocess.Popen[bytes]) -> dict[str, list[int]]:
    """Who shares the cores during a phase: the receiver, the panels (this process), NATS and
    PostgreSQL (postmaster and backends)."""
    postmaster = stack.postmaster_pid()
    nats_pid = stack.nats_server.pid if stack.nats_server else None
    return {
        "receiver": [proc.pid],
        "panels": [os.getpid()],
        "nats_server": [nats_pid] if nats_pid else [],
        "postgres": tree_pids(postmaster) if postmaster else [],
    }


@dataclass(frozen=True, slots=True)
class CpuMark:
    """CPU seconds of each process group, and of the whole machine, at one moment."""

    groups: dict[str, float]
    machine: MachineTimes

    @classmethod
    def now(cls, groups: dict[str, list[int]]) -> CpuMark:
        return cls({name: cpu_s(pids) for name, pids in groups.items()}, MachineTimes.now())

    def per_frame(self, before: CpuMark, frames: int) -> dict[str, Any]:
        """µs of CPU per acknowledged frame for each group, and the machine's shares."""
        spent = {name: self.groups[name] - before.groups[name] for name in self.groups}
        per = {f"{name}_us": round(s * 1e6 / max(1, frames), 1) for name, s in spent.items()}
        per["total_us"] = round(sum(spent.values()) * 1e6 / max(1, frames), 1)
        return {**per, **self.machine.share_since(before.machine, sum(spent.values()))}


async def raw_limit(
    stack: Stack, count: int, in_flight: int, groups: dict[str, list[int]], progress: Progress
) -> dict[str, Any]:
    """The receiver's own publisher without SIA: `in_flight` senders with one event each awaiting
    JetStream's ack, as the panels each have one frame in flight. The ceiling for frames/s."""
    nc = await publish.connect(stack.nats_url, "commonwatch-bench")
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(RAW_STREAM, subjects=[f"{RAW_PREFIX}.>"], storage=StorageType.FILE,
                     duplicate_window=120.0)
    )  # fmt: skip
    publisher = publish.JetStreamPublisher(nc)
    await publisher.start()
    now = datetime.now(UTC)
    item = native(Account("B0000"), "sia-B0000-z001", "burglary", EventState.ALARM, "", now, now)
    task = progress.add_task("JetStream alone", total=count, acked=0)
    tally, issued = Tally(), iter(range(count))

    async def sender(lane: int) -> None:
        for n in issued:
            out = publish.Outgoing(f"{RAW_PREFIX}.p{lane}", item.payload, f"raw-{n}")
            if await publisher.publish([out]):
                tally.acked += 1
            else:
                tally.refused += 1
            if n % 1000 == 0:
                progress.update(task, completed=tally.acked, acked=tally.acked)

    try:
        mark, start = CpuMark.now(groups), time.perf_counter()
        await asyncio.gather(*(sender(lane) for lane in range(in_flight)))
        elapsed = time.perf_counter() - start
        progress.update(task, completed=tally.acked, acked=tally.acked)
        cpu = CpuMark.now(groups).per_frame(mark, tally.acked)
    finally:
        await publisher.stop()
        await js.delete_stream(RAW_STREAM)
        await nc.close()
    return {
        "messages": tally.acked, "failed": tally.refused, "in_flight": in_flight,
        "publish_per_s": round(tally.acked / elapsed, 1),
        "publisher_cpu_us": cpu["panels_us"], "nats_server_cpu_us": cpu["nats_server_us"],
    }  # fmt: skip


async def measure(stack: Stack, cfg: SiaBenchConfig, progress: Progress) -> dict[str, Any]:
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    await asyncio.to_thread(stack.start)
    await db.migrate(stack.database_url)
    before = await stream_messages(stack)
    port = free_port()
    proc = start_receiver(stack, cfg, port)
    try:
        panels = await connect(cfg, port)
        warm = await closed_loop(panels, 1.0, progress)
        groups = process_groups(stack, proc)
        mark = CpuMark.now(groups)
        throughput = await closed_loop(panels, cfg.seconds, progress)
        cpu = CpuMark.now(groups).per_frame(mark, throughput["acked"])
        throughput["receiver_cpu_us_per_frame"] = cpu["receiver_us"]
        # What one core given wholly to the receiver would carry at this cost per frame.
        throughput["receiver_core_bound_frames_per_s"] = round(1e6 / max(cpu["receiver_us"], 1.0))
        throughput["cpu_per_frame"] = cpu
        mark = CpuMark.now(groups)
        latency = await open_loop(panels, cfg.rate, cfg.latency_seconds, progress)
        latency["cpu_per_frame"] = CpuMark.now(groups).per_frame(mark, latency["acked"])
        for panel in panels:
            if panel.transport is not None:
                panel.transport.close()
        acked = warm["acked"] + throughput["acked"] + latency["acked"]
        stored = await stream_messages(stack) - before
        count = min(RAW_MAX_MESSAGES, max(1000, throughput["acked"]))
        raw = await raw_limit(stack, count, len(panels), groups, progress)
        throughput["of_raw_limit"] = round(throughput["frames_per_s"] / raw["publish_per_s"], 3)
        return {
            "versions": await versions(stack.database_url),
            "throughput": throughput, "latency": latency, "raw_limit": raw,
            "stream": {
                "acked": acked, "stored": stored, "acked_not_stored": max(0, acked - stored)
            },
            # The machine is shared: other processes' load is part of these figures.
            "load_avg": {"start": load_at_start, "end": [round(x, 2) for x in os.getloadavg()]},
        }  # fmt: skip
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)


def metadata(cfg: SiaBenchConfig, server_versions: dict[str, str]) -> dict[str, Any]:
    machine = {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # sum(range(1000)) in µs: about 10 on a current desktop core; compares machines.
        "python_probe_us": round(min(timeit.repeat("sum(range(1000))", number=2000)) / 2e-3, 1),
    }
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_revision(),
        "machine": machine,
        "versions": server_versions,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "notes": [
            "Panels, receiver, NATS and PostgreSQL share this machine's cores.",
            "Latency: a panel's write to its ACK's arrival over loopback TCP; each ACK waits "
            "for JetStream's stored-ack of the event.",
        ],
    }


def document(cfg: SiaBenchConfig, figures: dict[str, Any]) -> dict[str, Any]:
    rate, p99 = figures["throughput"]["frames_per_s"], figures["latency"]["p99_ms"]
    targets = {
        "frames_per_s": {
            "target": TARGET_FRAMES_PER_S, "measured": rate, "pass": rate >= TARGET_FRAMES_PER_S,
        },
        "p99_ack_ms": {
            "target": TARGET_P99_MS, "measured": p99, "at_rate": cfg.rate,
            "pass": not math.isnan(p99) and p99 <= TARGET_P99_MS,
        },
    }  # fmt: skip
    no_loss = figures["stream"]["acked_not_stored"] == 0
    return {
        "metadata": metadata(cfg, figures.pop("versions")),
        **figures,
        "targets": targets,
        "no_loss": no_loss,
        "pass": no_loss and all(t["pass"] for t in targets.values()),
    }


def summary(doc: dict[str, Any], console: Console) -> None:
    table = Table(title="bench sia: SIA DC-09 receiver")
    for column in ("measure", "value", "target", ""):
        table.add_column(column)
    t, lat, checks = doc["throughput"], doc["latency"], doc["targets"]
    for name, key, unit, cmp in (
        ("frames/s acknowledged", "frames_per_s", "", ">="),
        (f"p99 ACK latency at {lat['rate']:,.0f}/s", "p99_ack_ms", " ms", "<="),
    ):
        check = checks[key]
        mark = "[green]pass[/]" if check["pass"] else "[red]FAIL[/]"
        table.add_row(name, f"{check['measured']:,}{unit}", f"{cmp} {check['target']:,}", mark)
    latencies = f"{lat['p50_ms']} / {lat['p95_ms']} / {lat['max_ms']} ms"
    table.add_row("p50 / p95 / max ACK latency", latencies, "", "")
    cpu = f"{t['receiver_cpu_us_per_frame']} µs ({t['receiver_core_bound_frames_per_s']:,}/s/core)"
    table.add_row("receiver CPU per frame", cpu, "", "")
    c = t["cpu_per_frame"]
    others = f"{c['panels_us']} / {c['nats_server_us']} / {c['postgres_us']} µs"
    table.add_row("panels / NATS / PostgreSQL CPU per frame", others, "", "")
    busy = f"{c['busy_pct']}% ({c['others_pct']}% not the bench's)"
    table.add_row("all cores busy", busy, "", "")
    raw = doc["raw_limit"]
    alone = f"{raw['publish_per_s']:,}/s ({t['of_raw_limit']:.0%} reached by the receiver)"
    table.add_row(f"JetStream alone, {raw['in_flight']} in flight", alone, "", "")
    table.add_row("panels", str(t["panels"]), "", "")
    console.print(table)
    verdict = "[green]every ACK stored[/]" if doc["no_loss"] else "[red]ACKED BUT NOT STORED[/]"
    console.print(verdict)


async def run(cfg: SiaBenchConfig) -> int:
    console = Console(stderr=True)
    stack = Stack.fresh(cfg.data_dir)
    done = False
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.fields[acked]:>9,} ACKs"), TimeElapsedColumn())  # fmt: skip
    try:
        # Two redraws a second: each holds the GIL the panels' event loop needs to time ACKs.
        with Progress(*columns, console=console, refresh_per_second=2) as progress:
            figures = await measure(stack, cfg, progress)
        done = True
    finally:
        stack.keep = not done
        await asyncio.to_thread(stack.stop)
        if not done:
            console.print(f"[red]bench failed[/]; logs kept in {stack.root}")
    doc = document(cfg, figures)
    cfg.json_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.json_path.write_text(json.dumps(finite(doc), indent=2, allow_nan=False) + "\n")
    summary(doc, Console())
    print(f"wrote {cfg.json_path}", file=sys.stderr)
    return 0 if doc["no_loss"] else 1


def main(ns: argparse.Namespace) -> int:
    # The panels get the receiver's event loop and GC settings too, so that the load is not what
    # limits the figures, nor a collection pause what shows up in the ACK latency.
    return run_fast(run(SiaBenchConfig.from_namespace(ns)))
