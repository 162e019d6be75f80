"""Incidents: the queue, one incident with its timeline, and what an operator does to it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from commonwatch.api.deps import Db, Operator, Reader
from commonwatch.api.pagination import incident_after, incident_cursor
from commonwatch.api.schemas import (
    LTREE,
    IncidentPage,
    NoteIn,
    ResolveIn,
    documented,
    json_response,
)
from commonwatch.domain.model import OPEN_STATUSES, IncidentStatus
from commonwatch.handlers import incidents as use_cases
from commonwatch.storage import accounts, queries
from commonwatch.storage.accounts import Principal
from commonwatch.storage.queries import IncidentDetail, IncidentFilter, IncidentView

router = APIRouter(prefix="/incidents", tags=["incidents"])


class IncidentQuery(BaseModel):
    """Filters combine with AND; repeat a list parameter or separate values with commas."""

    status: list[str] = Field(default_factory=list, description="e.g. new,acknowledged")
    open: bool | None = Field(
        default=None, description="true: new, acknowledged, dispatched, on_scene"
    )
    type: list[str] = Field(default_factory=list, description="Incident types, e.g. fire")
    priority: list[str] = Field(default_factory=list, description="1 (most urgent) to 5")
    community: str | None = None
    jurisdiction: str | None = Field(default=None, pattern=LTREE, description="A subtree path")
    since: datetime | None = Field(default=None, description="Opened at or after this time")
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


@router.get("", summary="The incident queue, newest first", responses=documented(IncidentPage))
async def list_incidents(
    caller: Reader, conn: Db, q: Annotated[IncidentQuery, Query()]
) -> Response:
    where = _filter(q, caller)
    items = await queries.list_incidents(conn, where, limit=q.limit + 1)
    more = len(items) > q.limit
    page = items[: q.limit]
    cursor = incident_cursor(page[-1].opened_at, page[-1].id) if more else None
    return json_response(IncidentPage(items=page, next_cursor=cursor))


@router.get(
    "/{incident_id}",
    summary="One incident and its timeline",
    responses=documented(IncidentDetail, errors=(404,)),
)
async def get_incident(incident_id: str, caller: Reader, conn: Db) -> Response:
    detail = await queries.incident_detail(conn, incident_id, scope=caller.scope)
    if detail is None:
        raise use_cases.IncidentNotFound(incident_id)
    # Notes on the timeline may name people: every read is on the record.
    await accounts.record_read(
        conn, account_id=caller.account_id, action="incident.read", target=incident_id,
        jpath=detail.jpath,
    )  # fmt: skip
    return json_response(detail)


_ACTION_ERRORS = documented(IncidentView, errors=(403, 404, 409, 422))


@router.post("/{incident_id}/acknowledge", summary="Someone is on it", responses=_ACTION_ERRORS)
async def acknowledge(incident_id: str, caller: Operator, conn: Db) -> Response:
    cmd = use_cases.AcknowledgeIncident(incident_id=incident_id)
    await use_cases.acknowledge(conn, cmd, by=caller)
    return await _current(conn, incident_id, caller)


@router.post(
    "/{incident_id}/resolve", summary="Close the case with a reason", responses=_ACTION_ERRORS
)
async def resolve(incident_id: str, body: ResolveIn, caller: Operator, conn: Db) -> Response:
    cmd = use_cases.ResolveIncident(incident_id=incident_id, resolution=body.reason, note=body.note)
    await use_cases.resolve(conn, cmd, by=caller)
    return await _current(conn, incident_id, caller)


@router.post(
    "/{incident_id}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add a note to the timeline",
    responses=documented(IncidentView, 201, errors=(403, 404, 422)),
)
async def add_note(incident_id: str, body: NoteIn, caller: Operator, conn: Db) -> Response:
    await use_cases.add_note(
        conn, use_cases.AddNote(incident_id=incident_id, text=body.text), by=caller
    )
    response = await _current(conn, incident_id, caller)
    response.status_code = status.HTTP_201_CREATED
    return response


async def _current(conn: Db, incident_id: str, caller: Principal) -> Response:
    view = await queries.get_incident(conn, incident_id, scope=caller.scope)
    if view is None:
        raise use_cases.IncidentNotFound(incident_id)
    return json_response(view)


def _filter(q: IncidentQuery, caller: Principal) -> IncidentFilter:
    return IncidentFilter(
        scope=caller.scope,
        statuses=_statuses(_split(q.status), q.open),
        types=_split(q.type) or None,
        priorities=_priorities(_split(q.priority)),
        community=q.community,
        jurisdiction=q.jurisdiction,
        since=_aware(q.since),
        after=incident_after(q.cursor),
    )


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _statuses(named: list[str], open_only: bool | None) -> list[str] | None:
    known = {s.value for s in IncidentStatus}
    unknown = sorted(set(named) - known)
    if unknown:
        raise _invalid(
            f"unknown status {', '.join(unknown)}; expected one of {', '.join(sorted(known))}"
        )
    chosen = set(named) or known
    if open_only is not None:
        opened = {s.value for s in OPEN_STATUSES}
        chosen = chosen & opened if open_only else chosen - opened
    return sorted(chosen) if chosen != known else None


def _priorities(named: list[str]) -> list[int] | None:
    if not named:
        return None
    if not all(p in {"1", "2", "3", "4", "5"} for p in named):
        raise _invalid(f"priority must be 1 to 5, got {', '.join(named)}")
    return sorted({int(p) for p in named})


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _invalid(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=reason)
