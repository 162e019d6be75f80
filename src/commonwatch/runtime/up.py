"""Runs `commonwatch up` until Ctrl-C/SIGTERM, then stops everything in order."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from rich.console import Console
from rich.live import Live

from commonwatch.runtime.status import Snapshot, StatusProbe, render
from commonwatch.runtime.supervisor import Platform, prepare
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db

console = Console(stderr=True)


def banner(platform: Platform, admin_token: str | None, admin_password: str | None) -> None:
    s = platform.settings
    where = "embedded" if platform.pg else "external"
    console.print(f"[bold]Commonwatch[/] is up   data: {s.data_dir}")
    console.print(f"  Console     http://{s.http_host}:{s.http_port}/   (sign in as admin)")
    console.print(f"  HTTP API    http://{s.http_host}:{s.http_port}/api/v1   (OpenAPI: /docs)")
    topic = "commonwatch/events/<community>/<device>"
    console.print(f"  MQTT        mqtt://127.0.0.1:{s.mqtt_port}   topic {topic}")
    console.print(
        f"  NATS        {s.nats_url}   (JetStream, {'embedded' if platform.nats else 'external'})"
    )
    console.print(f"  PostgreSQL  {where}: {s.database_url}")
    console.print(f"  Logs        {s.log_dir}")
    if admin_token:
        console.print(f"  [bold yellow]Admin token (shown once):[/] {admin_token}")
    if admin_password:
        console.print(
            f"  [bold yellow]Admin password for the console (shown once):[/] {admin_password}"
        )
    if platform.demo:
        console.print("  Demo district: Campo Grande / Centro, simulator publishing over MQTT")
    console.print("Press Ctrl-C to stop.")


async def watch(platform: Platform, stop: asyncio.Event) -> None:
    s = platform.settings
    assert s.database_url and s.nats_url
    nc = await connect_nats(s.nats_url, "commonwatch-status")
    conn = await db.connect(s.database_url)
    probe = StatusProbe(nc, conn)
    try:
        with Live(console=console, refresh_per_second=2, transient=True) as live:
            while not stop.is_set():
                for note in platform.reap_and_restart():
                    console.print(f"[yellow]{note}[/]")
                snap = await _safe_snapshot(probe)
                alive = {c.name: bool(c.proc and c.proc.poll() is None) for c in platform.children}
                live.update(render(snap, alive))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
    finally:
        await conn.close()
        await nc.close()


async def _safe_snapshot(probe: StatusProbe) -> Snapshot:
    try:
        return await probe.snapshot()
    except (OSError, TimeoutError):
        return Snapshot()


async def run_up(platform: Platform) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    token, password = await prepare(platform.settings)
    platform.plan_children()
    for child in platform.children:
        platform.spawn(child)
    banner(platform, token, password)
    await watch(platform, stop)


def up(platform: Platform) -> int:
    platform.lock_data_dir()
    console.print("Starting PostgreSQL and NATS...")
    platform.start_servers()
    try:
        asyncio.run(run_up(platform))
    finally:
        console.print("Stopping...")
        platform.stop_children()
        platform.stop_servers()
        console.print("Stopped. All data is kept in the data directory.")
    return 0
