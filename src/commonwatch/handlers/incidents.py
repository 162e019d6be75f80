"""Use cases: what a person does to an incident. Each owns its transaction.

The incident row is locked first, the lifecycle decides, and the change, its timeline entry and
its outbox row commit together: a listener never hears of a change that did not happen.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from commonwatch.domain.events import (
    DomainEvent,
    IncidentAcknowledged,
    IncidentResolved,
    NoteAdded,
)
from commonwatch.domain.model import Incident, IncidentStatus, Resolution, check_transition
from commonwatch.domain.sop import require_complete
from commonwatch.handlers.accounts import in_scope
from commonwatch.storage import checklists, incidents, outbox
from commonwatch.storage.accounts import Principal
from commonwatch.storage.incidents import Conn

MAX_NOTE = 4000


class AcknowledgeIncident(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str


class ResolveIncident(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    resolution: Resolution
    note: str | None = None


class AddNote(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    text: str


class IncidentNotFound(LookupError):
    """No incident with this id in the caller's jurisdiction."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident {incident_id!r}")
        self.incident_id = incident_id


def _now() -> datetime:
    return datetime.now(UTC)


async def acknowledge(
    conn: Conn, cmd: AcknowledgeIncident, *, by: Principal, at: datetime | None = None
) -> IncidentAcknowledged:
    when = at or _now()
    async with conn.transaction():
        incident = await _locked(conn, cmd.incident_id, by)
        check_transition(incident.status, IncidentStatus.ACKNOWLEDGED)
        await incidents.set_status(conn, incident.id, IncidentStatus.ACKNOWLEDGED, at=when)
        await incidents.cancel_timers(conn, [incident.id])
        event = IncidentAcknowledged(at=when, incident_id=incident.id, by=by.account_id)
        await _record(conn, incident, event, by)
    return event


async def resolve(
    conn: Conn, cmd: ResolveIncident, *, by: Principal, at: datetime | None = None
) -> IncidentResolved:
    when = at or _now()
    async with conn.transaction():
        incident = await _locked(conn, cmd.incident_id, by)
        check_transition(incident.status, IncidentStatus.RESOLVED)
        # The SOP's required steps gate resolving; ChecklistIncomplete is an IllegalTransition.
        require_complete(
            checklists.procedures(), incident.type, await checklists.progress(conn, incident.id),
            resolution=cmd.resolution.value,
        )  # fmt: skip
        await incidents.set_status(
            conn, incident.id, IncidentStatus.RESOLVED, at=when, resolution=cmd.resolution
        )
        await incidents.cancel_timers(conn, [incident.id])
        event = IncidentResolved(
            at=when,
            incident_id=incident.id,
            resolution=cmd.resolution.value,
            by=by.account_id,
            note=cmd.note,
        )
        await _record(conn, incident, event, by)
    return event


async def add_note(
    conn: Conn, cmd: AddNote, *, by: Principal, at: datetime | None = None
) -> NoteAdded:
    when = at or _now()
    async with conn.transaction():
        incident = await _locked(conn, cmd.incident_id, by)
        event = NoteAdded(at=when, incident_id=incident.id, by=by.account_id, text=cmd.text)
        await _record(conn, incident, event, by)
    return event


async def _locked(conn: Conn, incident_id: str, by: Principal) -> Incident:
    incident = await incidents.get_for_update(conn, incident_id)
    # Out of scope looks exactly like absent: a caller learns nothing about other jurisdictions.
    if incident is None or not in_scope(incident.jpath, by.scope):
        raise IncidentNotFound(incident_id)
    return incident


async def _record(conn: Conn, incident: Incident, event: DomainEvent, by: Principal) -> None:
    await incidents.append_timeline(conn, [event], actor=by.account_id)
    await outbox.append(conn, [event], {incident.id: incident.jpath}, default_jpath=incident.jpath)
