"""Use case: fire due escalation timers. Claims with SKIP LOCKED, so many runners are safe."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from commonwatch.domain.escalation import TimerSpec, fire_timer
from commonwatch.domain.model import IncidentStatus
from commonwatch.domain.rules import Rules
from commonwatch.storage import incidents, outbox
from commonwatch.storage.incidents import Conn

_CLAIM = """
SELECT t.id, t.incident_id, t.kind, t.level, t.due_at, i.type, i.status, i.priority, i.jpath
FROM timers t JOIN incidents i ON i.id = t.incident_id
WHERE t.kind = 'escalate_unacknowledged'
  AND t.due_at <= $1 AND t.fired_at IS NULL AND t.cancelled_at IS NULL
ORDER BY t.due_at LIMIT $2
FOR UPDATE OF t SKIP LOCKED
"""


async def fire_due_timers(conn: Conn, *, rules: Rules, now: datetime | None = None) -> int:
    """Fire every due timer in one transaction; returns how many fired."""
    moment = now or datetime.now(UTC)
    async with conn.transaction():
        due = await conn.fetch(_CLAIM, moment, 100)
        for row in due:
            await _fire(conn, row, rules, moment)
    return len(due)


async def _fire(conn: Conn, row: asyncpg.Record, rules: Rules, now: datetime) -> None:
    spec = TimerSpec(row["incident_id"], row["kind"], row["due_at"], row["level"])
    result = fire_timer(
        rules,
        timer=spec,
        incident_type=row["type"],
        status=IncidentStatus(row["status"]),
        priority=row["priority"],
        now=now,
    )
    await conn.execute("UPDATE timers SET fired_at = $2 WHERE id = $1", row["id"], now)
    if result.event is not None:
        event = result.event
        await incidents.set_escalation(
            conn, event.incident_id, level=event.level, priority=event.priority
        )
        await incidents.append_timeline(conn, [event], actor="rule:escalation")
        await outbox.append(conn, [event], {event.incident_id: row["jpath"]}, row["jpath"])
    if result.next_timer is not None:
        await incidents.add_timers(conn, [result.next_timer])
