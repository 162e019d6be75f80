"""Use case: store a batch of device events and correlate the new ones into incidents."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

from commonwatch.domain.correlation import Correlator, Outcome, keys_for
from commonwatch.domain.escalation import TimerSpec, first_timer
from commonwatch.domain.events import IncidentOpened, IncidentResolved
from commonwatch.domain.model import DeviceEvent, Place
from commonwatch.domain.rules import Rules
from commonwatch.storage import devices, events, incidents, outbox
from commonwatch.storage.incidents import Conn
from commonwatch.storage.places import PlaceCache

Insert = Callable[
    [Conn, Sequence[DeviceEvent], Sequence[int | None], Sequence[Place]],
    Awaitable[tuple[int, list[tuple[DeviceEvent, Place]]]],
]


@dataclass(frozen=True, slots=True)
class BatchResult:
    received: int
    stored: int
    opened: int
    correlated: int


def new_incident_id() -> str:
    return str(uuid.uuid4())


async def ingest_batch(
    conn: Conn,
    batch: Sequence[DeviceEvent],
    seqs: Sequence[int | None],
    *,
    rules: Rules,
    places: PlaceCache | None = None,
    new_id: Callable[[], str] = new_incident_id,
) -> BatchResult:
    """Store and correlate a batch in one transaction; `places` remembers device places between
    batches (without it they are looked up). Almost every batch is new events only, which COPY
    straight in; one that repeats a stored id is rolled back and written again, idempotently."""
    places = places or PlaceCache()
    try:
        return await _ingest(conn, batch, seqs, rules, places, new_id, events.insert_all)
    except asyncpg.UniqueViolationError:
        return await _ingest(conn, batch, seqs, rules, places, new_id, events.insert_new)


async def _ingest(
    conn: Conn,
    batch: Sequence[DeviceEvent],
    seqs: Sequence[int | None],
    rules: Rules,
    places: PlaceCache,
    new_id: Callable[[], str],
    insert: Insert,
) -> BatchResult:
    async with conn.transaction():
        resolved = await places.resolve(conn, batch)
        stored, notable = await insert(conn, batch, seqs, resolved)
        notable = [(e, p) for e, p in notable if rules.mapping_for(e.type) is not None]
        outcome = await _correlate(conn, notable, rules, new_id) if notable else Outcome()
    return BatchResult(
        received=len(batch),
        stored=stored,
        opened=len(outcome.opened),
        correlated=len(outcome.event_incident),
    )


async def _correlate(
    conn: Conn, notable: list[tuple[DeviceEvent, Place]], rules: Rules, new_id: Callable[[], str]
) -> Outcome:
    keys = {k for e, p in notable for k in keys_for(e, p, rules)}
    await incidents.lock_keys(conn, keys)
    correlator = Correlator(rules, await incidents.open_by_keys(conn, sorted(keys)), new_id)
    for event, place in notable:
        correlator.apply(event, place)
    outcome = correlator.outcome
    await _persist(conn, outcome, notable, rules)
    return outcome


async def _persist(
    conn: Conn, outcome: Outcome, notable: list[tuple[DeviceEvent, Place]], rules: Rules
) -> None:
    jpaths = {e.device_id: p.jpath for e, p in notable}
    jpaths.update({i.id: i.jpath for i in outcome.touched.values()})
    await incidents.save_correlated(conn, outcome.touched.values())
    await events.link_incidents(conn, outcome.event_incident)
    await devices.apply_alarm_changes(conn, outcome.events, jpaths)
    await incidents.add_timers(conn, _timers(outcome, rules))
    resolved = [e.incident_id for e in outcome.events if isinstance(e, IncidentResolved)]
    await incidents.cancel_timers(conn, resolved)
    await incidents.append_timeline(conn, outcome.events, actor=None)
    await outbox.append(conn, outcome.events, jpaths, default_jpath="unassigned")


def _timers(outcome: Outcome, rules: Rules) -> list[TimerSpec]:
    opened = (e for e in outcome.events if isinstance(e, IncidentOpened))
    specs = (
        first_timer(rules, incident_id=e.incident_id, incident_type=e.incident_type, opened_at=e.at)
        for e in opened
    )
    return [s for s in specs if s is not None]
