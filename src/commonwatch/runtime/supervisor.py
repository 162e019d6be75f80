"""`commonwatch up`: start the servers, prepare the schema, run and watch the processes."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from commonwatch.bus import subjects
from commonwatch.runtime.config import Settings, child_env
from commonwatch.runtime.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    die_with_parent,
    stop_process,
)

log = logging.getLogger(__name__)

RESTART_BACKOFF_S = (0.5, 1, 2, 5, 10)


@dataclass
class Child:
    name: str
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0


@dataclass
class Platform:
    settings: Settings
    demo: bool = False
    sim_rate: float = 20.0
    sia_port: int | None = None
    pg: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    children: list[Child] = field(default_factory=list)
    _lock_file: IO[str] | None = None

    def lock_data_dir(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.settings.data_dir / "up.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(
                f"another `commonwatch up` is using {self.settings.data_dir}; stop it first"
            ) from None
        self._lock_file = handle

    def start_servers(self) -> Settings:
        s = self.settings
        database_url = s.database_url
        if database_url is None:
            self.pg = EmbeddedPostgres(s.data_dir / "postgres")
            database_url = self.pg.start()
        nats_url = s.nats_url
        if nats_url is None:
            self.nats = EmbeddedNats(s.data_dir / "nats", port=s.nats_port, mqtt_port=s.mqtt_port)
            self.nats.start()
            nats_url = self.nats.url
        self.settings = s.with_urls(database_url=database_url, nats_url=nats_url)
        write_endpoints(self.settings)
        return self.settings

    def plan_children(self) -> None:
        s = self.settings
        base = [sys.executable, "-m", "commonwatch"]
        workers = [
            Child(f"worker-{p}", [*base, "worker", "--partition", str(p)])
            for p in range(subjects.INGEST_PARTITIONS)
        ]
        self.children = [
            *workers,
            Child(
                "api", [*base, "api", "--http-host", s.http_host, "--http-port", str(s.http_port)]
            ),
            Child("bridge", [*base, "bridge"]),
            Child("sia", [*base, "sia-receiver", "--sia-port", str(self.sia_port or 8125)]),
        ]
        if self.demo:
            sim = [*base, "simulate", "--mqtt-port", str(s.mqtt_port), "--rate", str(self.sim_rate)]
            self.children.append(Child("simulator", sim))

    def spawn(self, child: Child) -> None:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        out = (self.settings.log_dir / f"{child.name}.log").open("ab")
        child.proc = subprocess.Popen(
            child.args,
            env=child_env(self.settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            # Own session: Ctrl-C reaches only us, and we stop the children in order.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        child.started_at = time.monotonic()

    def reap_and_restart(self) -> list[str]:
        """Restart children that died; returns messages for the operator."""
        notes = []
        for child in self.children:
            if child.proc is None or child.proc.poll() is None:
                continue
            code = child.proc.returncode
            wait = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
            if time.monotonic() - child.started_at < wait:
                continue
            child.restarts += 1
            notes.append(f"{child.name} exited with {code}; restarted (#{child.restarts})")
            self.spawn(child)
        return notes

    def stop_children(self, timeout_s: float = 15.0) -> None:
        for child in reversed(self.children):  # simulator, receivers, api, then workers
            stop_process(child.proc, timeout_s)

    def stop_servers(self) -> None:
        if self.nats:
            self.nats.stop()
        if self.pg:
            self.pg.stop()
        endpoints_file(self.settings).unlink(missing_ok=True)


def endpoints_file(settings: Settings) -> Path:
    return settings.data_dir / "endpoints.json"


def write_endpoints(settings: Settings) -> None:
    payload = {
        "database_url": settings.database_url,
        "nats_url": settings.nats_url,
        "http": f"http://{settings.http_host}:{settings.http_port}",
        "mqtt_port": settings.mqtt_port,
        "pid": os.getpid(),
    }
    endpoints_file(settings).write_text(json.dumps(payload, indent=2))


def read_endpoints(data_dir: Path) -> dict[str, str] | None:
    path = data_dir / "endpoints.json"
    if not path.exists():
        return None
    data: dict[str, str] = json.loads(path.read_text())
    try:
        os.kill(int(data.get("pid", 0)), 0)
    except (OSError, ValueError):
        return None
    return data


async def prepare(settings: Settings) -> tuple[str | None, str | None]:
    """Schema, streams and the first admin; returns a newly generated token and password."""
    from commonwatch.bus.streams import ensure_streams
    from commonwatch.handlers.accounts import ensure_admin, ensure_admin_password
    from commonwatch.runtime.worker import connect_nats
    from commonwatch.storage import db

    assert settings.database_url and settings.nats_url
    await db.migrate(settings.database_url)
    nc = await connect_nats(settings.nats_url, "commonwatch-up")
    try:
        await ensure_streams(nc.jetstream())
    finally:
        await nc.close()
    conn = await db.connect(settings.database_url)
    try:
        token = await ensure_admin(conn, token=settings.admin_token)
        chosen = os.environ.get("COMMONWATCH_ADMIN_PASSWORD") or None
        return token, await ensure_admin_password(conn, password=chosen)
    finally:
        await conn.close()
