"""The outbox relay: publishes committed outbox rows to CW_CHANGES, then marks them published.

At least once: a row is marked only after JetStream acknowledged it, and the Nats-Msg-Id header
(outbox-<id>) lets the stream drop the duplicate if we crash between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.js import JetStreamContext

log = logging.getLogger(__name__)

_RELAY_LOCK = 7_400_002  # one relay at a time keeps the stream in outbox order
BATCH = 500


async def relay_once(conn: asyncpg.Connection, js: JetStreamContext) -> int:
    """Publish up to BATCH pending rows in id order; returns how many were published."""
    rows = await conn.fetch(
        "SELECT id, subject, payload, jpath::text AS jpath FROM outbox "
        "WHERE published_at IS NULL ORDER BY id LIMIT $1",
        BATCH,
    )
    if not rows:
        return 0
    acks = [
        await js.publish(
            r["subject"],
            bytes(r["payload"]),
            headers={"Nats-Msg-Id": f"outbox-{r['id']}", "Cw-Jpath": r["jpath"]},
        )
        for r in rows
    ]
    await conn.execute(
        "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
        [r["id"] for r in rows],
    )
    return len(acks)


async def run(conn: asyncpg.Connection, js: JetStreamContext, stop: asyncio.Event) -> None:
    wake = asyncio.Event()
    await conn.add_listener("outbox", lambda *_: wake.set())
    await conn.execute("SELECT pg_advisory_lock($1)", _RELAY_LOCK)
    log.info("outbox relay running")
    while not stop.is_set():
        if await relay_once(conn, js):
            continue
        wake.clear()
        # NOTIFY wakes us at once; the timeout covers a notification lost during a reconnect.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=1.0)
