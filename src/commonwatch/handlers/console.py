"""Use cases the operations console adds: SOP checklist steps and escalating by hand.

Each owns its transaction; the change, its timeline entry and its outbox row commit together.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from commonwatch.domain.events import DomainEvent, IncidentEscalated
from commonwatch.domain.model import IllegalTransition, Incident
from commonwatch.domain.sop import ChecklistStepRecorded, StepState, find_step
from commonwatch.handlers.accounts import in_scope
from commonwatch.handlers.incidents import IncidentNotFound
from commonwatch.storage import accounts, checklists, incidents, outbox
from commonwatch.storage.accounts import Principal
from commonwatch.storage.incidents import Conn

MAX_REASON = 1000


class RecordChecklistStep(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    step: str
    state: StepState
    reason: str | None = None


class EscalateIncident(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    reason: str


class ReasonRequired(ValueError):
    """Skipping a step needs a reason: the audit trail must say why."""


async def _locked_open(conn: Conn, incident_id: str, by: Principal) -> Incident:
    incident = await incidents.get_for_update(conn, incident_id)
    if incident is None or not in_scope(incident.jpath, by.scope):
        raise IncidentNotFound(incident_id)
    if not incident.is_open:
        raise IllegalTransition(f"the incident is {incident.status}: it can no longer be worked")
    return incident


async def _publish(conn: Conn, incident: Incident, event: DomainEvent, actor: str) -> None:
    await incidents.append_timeline(conn, [event], actor=actor)
    await outbox.append(conn, [event], {incident.id: incident.jpath}, default_jpath=incident.jpath)


async def record_step(
    conn: Conn, cmd: RecordChecklistStep, *, by: Principal, at: datetime | None = None
) -> ChecklistStepRecorded:
    reason = (cmd.reason or "").strip() or None
    if cmd.state is StepState.SKIPPED and reason is None:
        raise ReasonRequired("skipping a step needs a reason")
    when = at or datetime.now(UTC)
    async with conn.transaction():
        incident = await _locked_open(conn, cmd.incident_id, by)
        find_step(checklists.procedures(), incident.type, cmd.step)
        await checklists.record(
            conn, incident_id=incident.id, step=cmd.step, state=cmd.state, reason=reason,
            actor=by.account_id, at=when, jpath=incident.jpath,
        )  # fmt: skip
        if cmd.state is StepState.SKIPPED:
            await accounts.record_read(
                conn, account_id=by.account_id, action="checklist.skip",
                target=f"{incident.id}/{cmd.step}", jpath=incident.jpath,
            )  # fmt: skip
        event = ChecklistStepRecorded(
            at=when, incident_id=incident.id, step=cmd.step, state=cmd.state.value,
            by=by.account_id, reason=reason,
        )  # fmt: skip
        await _publish(conn, incident, event, by.account_id)
    return event


async def escalate(
    conn: Conn, cmd: EscalateIncident, *, by: Principal, at: datetime | None = None
) -> IncidentEscalated:
    """One level up and one priority step more urgent (1 stays 1), with the operator's reason."""
    when = at or datetime.now(UTC)
    async with conn.transaction():
        incident = await _locked_open(conn, cmd.incident_id, by)
        event = IncidentEscalated(
            at=when, incident_id=incident.id, level=incident.escalation_level + 1,
            priority=max(1, incident.priority - 1), reason=f"{by.account_id}: {cmd.reason}",
        )  # fmt: skip
        await incidents.set_escalation(
            conn, incident.id, level=event.level, priority=event.priority
        )
        await _publish(conn, incident, event, by.account_id)
    return event
