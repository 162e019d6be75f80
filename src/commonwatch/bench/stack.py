"""Fresh embedded servers for one bench run, the seeded registry, and the real worker process."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from commonwatch.bench import traffic
from commonwatch.bench.watch import BenchError
from commonwatch.bus import subjects
from commonwatch.bus.streams import ensure_streams
from commonwatch.runtime import config
from commonwatch.runtime.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    die_with_parent,
    free_port,
    nats_server_binary,
    stop_process,
)
from commonwatch.storage import db, registry

T = TypeVar("T")


@dataclass
class WorkerProcess:
    """`python -m commonwatch worker --partition P`, one per partition, as `commonwatch up` runs
    them."""

    env: dict[str, str]
    log_path: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> list[int]:
        with self.log_path.open("ab") as log:
            self.procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "commonwatch", "worker", "--partition", str(p)],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
                for p in range(subjects.INGEST_PARTITIONS)
            ]
        return self.pids

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.poll() is None]

    def alive(self) -> bool:
        return bool(self.procs) and all(p.poll() is None for p in self.procs)

    def stop(self, timeout_s: float = 15.0) -> None:
        procs, self.procs = self.procs, []
        for proc in procs:
            stop_process(proc, timeout_s)


@dataclass
class Stack:
    """Embedded PostgreSQL and NATS in a fresh directory, removed again by `stop`."""

    root: Path
    keep: bool = False
    pg: EmbeddedPostgres | None = None
    nats_server: EmbeddedNats | None = None
    database_url: str = ""
    worker: WorkerProcess | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fresh(cls, data_dir: Path | None) -> Stack:
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        return cls(Path(tempfile.mkdtemp(prefix="cw-bench-", dir=data_dir)))

    @property
    def nats_url(self) -> str:
        return self.nats_server.url if self.nats_server else ""

    @property
    def mqtt_port(self) -> int:
        return self.nats_server.mqtt_port if self.nats_server else 0

    def start(self) -> None:
        self.database_url = _attempts(self._start_pg)
        _attempts(self._start_nats)
        env = dict(os.environ)
        env[config.ENV_DATABASE_URL] = self.database_url
        env[config.ENV_NATS_URL] = self.nats_url
        env[config.ENV_DATA_DIR] = str(self.root / "data")
        env.pop(config.ENV_RULES, None)  # the default rules, whatever the caller's shell says
        self.worker = WorkerProcess(env, self.root / "worker.log")

    def _start_pg(self, attempt: int) -> str:
        self.pg = EmbeddedPostgres(self.root / f"pg{attempt}")
        try:
            return self.pg.start()
        except BaseException:
            self.pg.stop()
            raise

    def _start_nats(self, attempt: int) -> None:
        # Another process may take a free port between our pick and the server's bind.
        root = self.root / f"nats{attempt}"
        self.nats_server = EmbeddedNats(root, port=free_port(), mqtt_port=free_port())
        self.nats_server.start()

    async def connect_nats(self) -> tuple[Client, JetStreamContext]:
        nc = await nats.connect(self.nats_url, name="commonwatch-bench", pending_size=64 << 20)
        return nc, nc.jetstream()

    async def prepare(self, js: JetStreamContext) -> None:
        await db.migrate(self.database_url)
        await ensure_streams(js)
        await seed(self.database_url)

    def postmaster_pid(self) -> int | None:
        if self.pg is None:
            return None
        pidfile = self.pg.pgdata / "postmaster.pid"
        try:
            return int(pidfile.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        try:
            if self.worker:
                self.worker.stop()
        finally:
            try:
                if self.nats_server:
                    self.nats_server.stop()
            finally:
                if self.pg:
                    self.pg.stop()
                if not self.keep:
                    shutil.rmtree(self.root, ignore_errors=True)


def _attempts(start: Callable[[int], T], tries: int = 3) -> T:
    """Servers start on a machine shared with other test runs: retry a failed start."""
    for attempt in range(1, tries + 1):
        try:
            return start(attempt)
        except (OSError, TimeoutError, subprocess.SubprocessError, RuntimeError) as exc:
            if attempt == tries:
                raise BenchError(f"could not start the servers: {exc}") from exc
            time.sleep(1.0)
    raise AssertionError("unreachable")


async def seed(database_url: str) -> int:
    """The bench district in the registry, so that events resolve to places. Returns devices."""
    district = traffic.build_district()
    conn = await db.connect(database_url)
    try:
        async with conn.transaction():
            await registry.upsert_jurisdiction(conn, path=traffic.CITY, kind="city", name="Bench")
            await registry.upsert_communities(conn, district.communities)
            await registry.upsert_buildings(conn, district.buildings)
            await registry.upsert_devices(conn, district.devices)
    finally:
        await conn.close()
    return len(district.devices)


async def versions(database_url: str) -> dict[str, str]:
    proc = await asyncio.create_subprocess_exec(
        nats_server_binary(), "--version", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=10)
    conn = await db.connect(database_url)
    try:
        pg_version = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    return {"nats_server": out.decode().strip(), "postgresql": pg_version}
