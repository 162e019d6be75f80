"""Use case: device health, kept apart from emergencies.

Offline, low battery, tamper, supervision loss and silence are maintenance: they change a
device's health state and open (or close) a maintenance ticket per issue; they are not priority
incidents. Fed by every event the bridge sees on CW_EVENTS, whatever its source (SIA too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.storage import sources
from commonwatch.storage.incidents import Conn
from commonwatch.storage.sources import HealthRow

# Event types that are about the device rather than the place, as data: type -> issue.
ISSUES: dict[str, str] = {
    "device_offline": "offline",
    "battery_low": "battery_low",
    "low_battery": "battery_low",
    "tamper": "tamper",
    "communication_failure": "supervision_loss",
    "supervision_loss": "supervision_loss",
    "ac_loss": "power_loss",
    "power_failure": "power_loss",
    "trouble": "trouble",
}
STALE = "stale"
OFFLINE_ISSUES = frozenset({"offline", "supervision_loss", STALE})


@dataclass(frozen=True, slots=True)
class Signal:
    """An issue of a device started (active) or ended at `at`."""

    device_id: str
    community_id: str
    issue: str
    active: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    row: HealthRow
    opened: list[str]
    closed: list[str]


def signals_from(events: Iterable[DeviceEvent]) -> list[Signal]:
    """Alarms of health event types raise their issue, restores end it; info is ignored."""
    out = []
    for e in events:
        issue = ISSUES.get(e.type)
        if issue is None or e.state is EventState.INFO:
            continue
        active = e.state is EventState.ALARM
        out.append(Signal(e.device_id, e.community_id, issue, active, e.received_ts))
    return out


def state_of(issues: frozenset[str]) -> str:
    if issues & OFFLINE_ISSUES:
        return "offline"
    return "degraded" if issues else "ok"


def apply(current: HealthRow | None, device_id: str, signals: Sequence[Signal]) -> Change | None:
    """The device's next health row and the tickets to open and close; None if nothing moved."""
    before = current.issues if current else frozenset()
    issues = set(before)
    for s in signals:
        (issues.add if s.active else issues.discard)(s.issue)
    after = frozenset(issues)
    if current is not None and after == before:
        return None
    if current is None and not after:
        return None  # never had an issue, still has none: no row needed
    at = signals[-1].at
    state = state_of(after)
    since = current.since if current and current.state == state else at
    row = HealthRow(device_id, state, after, since)
    return Change(row, sorted(after - before), sorted(before - after))


async def observe(conn: Conn, signals: Sequence[Signal]) -> int:
    """Apply signals in one transaction; returns how many devices changed."""
    if not signals:
        return 0
    ordered = sorted(signals, key=lambda s: s.device_id)  # stable: keeps arrival order per device
    changed = 0
    async with conn.transaction():
        rows = await sources.health_for_update(conn, sorted({s.device_id for s in ordered}))
        for device_id, group in groupby(ordered, key=lambda s: s.device_id):
            batch = list(group)
            change = apply(rows.get(device_id), device_id, batch)
            if change is not None:
                await _write(conn, change, batch[-1])
                changed += 1
    return changed


async def _write(conn: Conn, change: Change, last: Signal) -> None:
    await sources.write_health(conn, change.row, last.community_id)
    await sources.open_tickets(conn, change.row.device_id, change.opened, last.at)
    await sources.close_tickets(conn, change.row.device_id, change.closed, last.at)


async def sweep_stale(conn: Conn, *, older_than_s: float, now: datetime | None = None) -> int:
    """Devices with no event for `older_than_s` become stale; stale devices heard from again
    recover. Returns how many devices changed."""
    moment = now or datetime.now(UTC)
    cutoff = moment - timedelta(seconds=older_than_s)
    silent = await sources.silent_devices(conn, cutoff)
    back = await sources.heard_again(conn, cutoff)
    signals = [Signal(d, c, STALE, True, moment) for d, c in silent]
    signals += [Signal(d, c, STALE, False, moment) for d, c in back]
    return await observe(conn, signals)
