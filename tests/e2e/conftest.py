"""A whole platform started the way a newcomer starts it: `commonwatch up`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from commonwatch.runtime.embedded import free_port

ADMIN_TOKEN = "e2e-admin-token-0123456789"


@dataclass
class RunningPlatform:
    base_url: str
    mqtt_port: int
    data_dir: Path
    proc: subprocess.Popen[bytes]
    args: list[str]

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def child_pid(self, name: str) -> int | None:
        pids = self.child_pids(name)
        return pids[0] if pids else None

    def child_pids(self, name: str) -> list[int]:
        return [c.pid for c in psutil.Process(self.proc.pid).children() if name in c.cmdline()]


def start_platform(
    data_dir: Path, *extra: str, ports: tuple[int, int, int] | None = None
) -> RunningPlatform:
    http_port, mqtt_port, nats_port = ports or (free_port(), free_port(), free_port())
    args = [
        sys.executable, "-m", "commonwatch", "up", "--data-dir", str(data_dir),
        "--http-port", str(http_port), "--mqtt-port", str(mqtt_port),
        "--nats-port", str(nats_port), "--sia-port", str(free_port()), *extra,
    ]  # fmt: skip
    env = {**os.environ, "COMMONWATCH_ADMIN_TOKEN": ADMIN_TOKEN}
    env.pop("COMMONWATCH_DATABASE_URL", None)
    env.pop("COMMONWATCH_NATS_URL", None)
    log = (data_dir.parent / f"{data_dir.name}-up.log").open("ab")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    platform = RunningPlatform(f"http://127.0.0.1:{http_port}", mqtt_port, data_dir, proc, args)
    wait_ready(platform)
    return platform


def wait_ready(platform: RunningPlatform, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if platform.proc.poll() is not None:
            raise RuntimeError(f"`commonwatch up` exited with {platform.proc.returncode}")
        try:
            if httpx.get(f"{platform.base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("platform not ready")


def stop_platform(platform: RunningPlatform, timeout_s: float = 60.0) -> int:
    platform.proc.send_signal(signal.SIGTERM)
    return platform.proc.wait(timeout_s)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("platform") / "data")
    try:
        yield running
    finally:
        stop_platform(running)
