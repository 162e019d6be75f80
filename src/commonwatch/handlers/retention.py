"""Use case: delete what is older than its data class's retention limit (GDPR art. 5(1)(e))."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commonwatch.storage.incidents import Conn

# Data class -> the deletes that enforce it, oldest first; $1 is the cut-off time.
PURGES: dict[str, tuple[str, ...]] = {
    "events": ("DELETE FROM events WHERE received_ts < $1",),
    "outbox": ("DELETE FROM outbox WHERE published_at IS NOT NULL AND created_at < $1",),
    "audit_log": ("DELETE FROM audit_log WHERE at < $1",),
    "unit_status_log": ("DELETE FROM unit_status_log WHERE at < $1",),
    "cad_history": ("DELETE FROM cad_calls WHERE received_at < $1",),
    "unit_tracks": ("DELETE FROM unit_tracks WHERE at < $1",),
    "evidence": (
        "DELETE FROM evidence x WHERE x.created_at < $1 "
        "AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = x.incident_id)",
    ),
    "maintenance_tickets": ("DELETE FROM maintenance_tickets WHERE closed_at < $1",),
    "incidents": (
        "DELETE FROM incident_timeline t USING incidents i WHERE t.incident_id = i.id "
        "AND i.status IN ('resolved', 'closed') AND i.updated_at < $1",
        "DELETE FROM timers t USING incidents i WHERE t.incident_id = i.id "
        "AND i.status IN ('resolved', 'closed') AND i.updated_at < $1",
        "UPDATE events SET incident_id = NULL FROM incidents i WHERE events.incident_id = i.id "
        "AND i.status IN ('resolved', 'closed') AND i.updated_at < $1",
        "DELETE FROM incidents WHERE status IN ('resolved', 'closed') AND updated_at < $1",
    ),
}


async def enforce_retention(conn: Conn, *, now: datetime | None = None) -> dict[str, int]:
    """Apply every policy in one transaction; returns rows deleted per data class."""
    moment = now or datetime.now(UTC)
    deleted: dict[str, int] = {}
    async with conn.transaction():
        policies = await conn.fetch("SELECT data_class, days FROM retention_policies")
        for policy in policies:
            statements = PURGES.get(policy["data_class"], ())
            cutoff = moment - timedelta(days=policy["days"])
            deleted[policy["data_class"]] = sum(
                [_count(await conn.execute(sql, cutoff)) for sql in statements]
            )
    return deleted


def _count(status: str) -> int:
    # asyncpg returns e.g. "DELETE 12" or "UPDATE 3".
    return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
