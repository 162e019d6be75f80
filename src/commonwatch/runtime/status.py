"""The live status line of `commonwatch up`: events/s, backlog, open incidents, processes."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client
from nats.js.errors import Error as JetStreamError

from commonwatch.bus import subjects


@dataclass
class Snapshot:
    events_per_s: float = 0.0
    backlog: int = 0
    open_incidents: int = 0
    dead_letters: int = 0


class StatusProbe:
    def __init__(self, nc: Client, conn: asyncpg.Connection) -> None:
        self._nc, self._conn = nc, conn
        self._last: tuple[float, int] | None = None

    async def snapshot(self) -> Snapshot:
        snap = Snapshot()
        js = self._nc.jetstream()
        with contextlib.suppress(JetStreamError, TimeoutError):
            # Every partition's consumer sees the whole stream: the slowest one says how far
            # ingest has got, and what it still has is the backlog.
            floors, backlogs = [], []
            for partition in range(subjects.INGEST_PARTITIONS):
                name = subjects.ingest_consumer(partition)
                info = await js.consumer_info(subjects.EVENTS_STREAM, name)
                floors.append(info.ack_floor.stream_seq if info.ack_floor else 0)
                backlogs.append((info.num_pending or 0) + (info.num_ack_pending or 0))
            snap.backlog = max(backlogs)
            snap.events_per_s = self._rate(min(floors))
        with contextlib.suppress(JetStreamError, TimeoutError):
            snap.dead_letters = (await js.stream_info(subjects.DEADLETTER_STREAM)).state.messages
        snap.open_incidents = await self._conn.fetchval(
            "SELECT count(*) FROM incidents "
            "WHERE status IN ('new', 'acknowledged', 'dispatched', 'on_scene')"
        )
        return snap

    def _rate(self, done: int) -> float:
        now = time.monotonic()
        last, self._last = self._last, (now, done)
        if last is None or now <= last[0]:
            return 0.0
        return max(0.0, (done - last[1]) / (now - last[0]))


def render(snap: Snapshot, processes: dict[str, bool]) -> str:
    procs = "  ".join(
        f"{name} {'[green]up[/]' if ok else '[red]down[/]'}" for name, ok in processes.items()
    )
    return (
        f"[bold]{snap.events_per_s:8.0f}[/] events/s   backlog {snap.backlog:>7}   "
        f"open incidents [bold]{snap.open_incidents}[/]   "
        f"dead letters {snap.dead_letters}   {procs}"
    )
