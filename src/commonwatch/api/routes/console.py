"""The operations console: its app shell and files (`shell_router`, at the root) and the few
reads and actions only the console needs (`router`, under /api/v1).

The console works on closed networks: every file it loads comes from here, and the map draws the
platform's own data, with a tile server only when COMMONWATCH_TILE_URL names one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from commonwatch.api.deps import Db, Operator, Reader, Res
from commonwatch.api.schemas import json_response
from commonwatch.domain.model import Resolution
from commonwatch.domain.sop import SopStep, StepState, UnknownStep, open_required
from commonwatch.handlers import console as use_cases
from commonwatch.handlers.incidents import IncidentNotFound
from commonwatch.storage import checklists, queries
from commonwatch.storage import console as reads
from commonwatch.storage.accounts import Principal
from commonwatch.web import shell

ENV_TILE_URL = "COMMONWATCH_TILE_URL"
# Where the routing module serves the imported road network as GeoJSON; the map hides the layer
# when it answers 404.
ROADS_PATH = "/api/v1/routing/roads"
SILENT_AFTER = timedelta(hours=24)

router = APIRouter(tags=["console"])
shell_router = APIRouter(include_in_schema=False)


# --- OpenAPI: these shapes are documented inline, resolved from msgspec's own schema -----------


def _inline(kind: Any) -> dict[str, Any]:
    (schema,), defs = msgspec.json.schema_components([kind], ref_template="{name}")

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return dict(resolve(schema))


def documented_inline(
    body: Any, status_code: int = 200, *, errors: tuple[int, ...] = (), public: bool = False
) -> dict[int | str, dict[str, Any]]:
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    out: dict[int | str, dict[str, Any]] = {
        status_code: {
            "description": "OK",
            "content": {"application/json": {"schema": _inline(body)}},
        }
    }
    for code in sorted({*errors, 422} | (set() if public else {401})):
        out[code] = {"description": "Problem", "content": problem}
    return out


# --- shapes ------------------------------------------------------------------------------------


class TypeInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    priority: int
    category: str


class ConsoleConfig(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    role: str
    scope: str
    timezone: str
    jurisdictions: list[reads.Jurisdiction]
    incident_types: list[TypeInfo]
    resolutions: list[str]
    tile_url: str | None
    roads_path: str


class Queue(msgspec.Struct, frozen=True, kw_only=True):
    items: list[reads.QueueRow]


class Devices(msgspec.Struct, frozen=True, kw_only=True):
    items: list[reads.DevicePoint]


class DeviceHealth(msgspec.Struct, frozen=True, kw_only=True):
    silent_after_s: int
    items: list[reads.CommunityHealth]


class Overview(msgspec.Struct, frozen=True, kw_only=True):
    open_by_priority: dict[int, int]
    month_start: datetime
    timezone: str
    quiet_communities: list[reads.QuietCommunity]


class Assignments(msgspec.Struct, frozen=True, kw_only=True):
    items: list[reads.OpenAssignment]


class ChecklistStep(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    required: bool
    labels: dict[str, str]
    state: str | None = None
    reason: str | None = None
    by: str | None = None
    at: datetime | None = None


class Checklist(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    incident_type: str
    steps: list[ChecklistStep]
    open_required: list[str]
    exempt_resolutions: list[str]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["done", "skipped"]
    reason: Annotated[str | None, Field(max_length=use_cases.MAX_REASON)] = None


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=use_cases.MAX_REASON)]


# --- the app shell -----------------------------------------------------------------------------


def _csp() -> str:
    tiles = os.environ.get(ENV_TILE_URL, "")
    tile_origin = ""
    if tiles:
        # {s} (the tile server's subdomains) becomes a wildcard host.
        parts = urlsplit(tiles)
        tile_origin = f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tile_origin}; connect-src 'self'; worker-src 'self'; "
        "manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _shell(kind: str) -> Response:
    missing = shell.missing_bundles()
    if missing:
        return HTMLResponse(shell.not_built_page(missing), status.HTTP_503_SERVICE_UNAVAILABLE)
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": _csp(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(shell.page(kind), headers=headers)


@shell_router.get("/")
async def console_page() -> Response:
    return _shell("console")


@shell_router.get("/responder")
async def responder_page() -> Response:
    return _shell("responder")


def _file(name: str, *, cache: str) -> Response:
    path = shell.resolve(name)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no console file {name!r}")
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=shell.media_type(path), headers=headers)


@shell_router.get("/app/{name}")
async def console_file(name: str) -> Response:
    # URLs carry the bundle version (?v=...), so a file can be kept until the version changes.
    return _file(name, cache="public, max-age=31536000, immutable")


@shell_router.get("/sw.js")
async def service_worker() -> Response:
    # Served from the root so that it may control /responder; never cached, so updates arrive.
    return _file("sw.js", cache="no-cache")


@shell_router.get("/manifest.webmanifest")
async def manifest() -> Response:
    return _file("manifest.webmanifest", cache="no-cache")


# --- console reads -----------------------------------------------------------------------------


def _zone_of(scope: str, places: list[reads.Jurisdiction]) -> str:
    """The time zone of the deepest place that contains the scope (or the first city)."""
    containing = [
        j for j in places if not scope or scope == j.path or scope.startswith(j.path + ".")
    ]
    chosen = max(containing, key=lambda j: j.path.count("."), default=None)
    if chosen is None and places:
        chosen = places[0]
    return chosen.timezone if chosen else "UTC"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@router.get(
    "/console/config",
    summary="What the console needs to start: who, where, which types, which time zone",
    responses=documented_inline(ConsoleConfig),
)
async def config(caller: Reader, res: Res, conn: Db) -> Response:
    places = await reads.jurisdictions(conn, scope=caller.scope)
    types = [
        TypeInfo(id=key, label=t.label, priority=t.priority, category=t.category)
        for key, t in sorted(res.rules.incident_types.items())
    ]
    return json_response(
        ConsoleConfig(
            account_id=caller.account_id, role=caller.role.value, scope=caller.scope,
            timezone=_zone_of(caller.scope, places), jurisdictions=places, incident_types=types,
            resolutions=[r.value for r in Resolution], tile_url=os.environ.get(ENV_TILE_URL),
            roads_path=ROADS_PATH,
        )
    )  # fmt: skip


@router.get(
    "/console/queue",
    summary="Every open incident in your jurisdiction, most urgent and oldest first",
    responses=documented_inline(Queue),
)
async def queue(
    caller: Reader, conn: Db, ids: Annotated[str | None, Query(max_length=20_000)] = None
) -> Response:
    wanted = [i for i in ids.split(",") if i] if ids else None
    return json_response(Queue(items=await reads.open_queue(conn, scope=caller.scope, ids=wanted)))


@router.get(
    "/console/devices",
    summary="Every device in your jurisdiction with its position and alarm state",
    responses=documented_inline(Devices),
)
async def devices(caller: Reader, conn: Db) -> Response:
    return json_response(Devices(items=await reads.device_points(conn, scope=caller.scope)))


@router.get(
    "/console/device-health",
    summary="Devices per community: how many, in alarm, silent for a day",
    responses=documented_inline(DeviceHealth),
)
async def device_health(caller: Reader, conn: Db) -> Response:
    since = datetime.now(UTC) - SILENT_AFTER
    items = await reads.community_health(conn, scope=caller.scope, heard_since=since)
    return json_response(
        DeviceHealth(silent_after_s=int(SILENT_AFTER.total_seconds()), items=items)
    )


@router.get(
    "/console/overview",
    summary="Open incidents by priority, and communities with no incident this month",
    responses=documented_inline(Overview),
)
async def overview(caller: Reader, conn: Db) -> Response:
    zone_name = _zone_of(caller.scope, await reads.jurisdictions(conn, scope=caller.scope))
    local = datetime.now(_zone(zone_name))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return json_response(
        Overview(
            open_by_priority=await reads.open_by_priority(conn, scope=caller.scope),
            month_start=month_start,
            timezone=zone_name,
            quiet_communities=await reads.quiet_communities(
                conn, scope=caller.scope, since=month_start
            ),
        )
    )


@router.get(
    "/console/assignments",
    summary="Which unit is sent to which open incident (for the unit board and responders)",
    responses=documented_inline(Assignments),
)
async def assignments(
    caller: Reader, conn: Db, unit: Annotated[str | None, Query(max_length=128)] = None
) -> Response:
    found = await reads.open_assignments(conn, scope=caller.scope, unit_id=unit)
    return json_response(Assignments(items=found))


# --- the SOP checklist and escalation ----------------------------------------------------------


def _step_view(step: SopStep, record: checklists.StepRecord | None) -> ChecklistStep:
    view = ChecklistStep(id=step.id, required=step.required, labels=dict(step.labels))
    if record is None:
        return view
    return msgspec.structs.replace(
        view, state=record.state.value, reason=record.reason, by=record.actor, at=record.at
    )


async def _checklist(conn: Db, incident_id: str, caller: Principal) -> Checklist:
    view = await queries.get_incident(conn, incident_id, scope=caller.scope)
    if view is None:
        raise IncidentNotFound(incident_id)
    procedures = checklists.procedures()
    steps = procedures.steps_for(view.type)
    done = {r.step: r for r in await checklists.records(conn, incident_id)}
    return Checklist(
        incident_id=incident_id,
        incident_type=view.type,
        steps=[_step_view(s, done.get(s.id)) for s in steps],
        open_required=open_required(steps, {step: r.state for step, r in done.items()}),
        exempt_resolutions=sorted(procedures.exempt_resolutions),
    )


@router.get(
    "/incidents/{incident_id}/checklist",
    tags=["incidents"],
    summary="The SOP checklist for the incident's type, with what has been done",
    responses=documented_inline(Checklist, errors=(404,)),
)
async def get_checklist(incident_id: str, caller: Reader, conn: Db) -> Response:
    return json_response(await _checklist(conn, incident_id, caller))


@router.post(
    "/incidents/{incident_id}/checklist/{step}",
    tags=["incidents"],
    summary="Mark a step done, or skip it with a reason (skips are audited)",
    responses=documented_inline(Checklist, errors=(403, 404, 409)),
)
async def record_step(
    incident_id: str, step: str, body: StepIn, caller: Operator, conn: Db
) -> Response:
    cmd = use_cases.RecordChecklistStep(
        incident_id=incident_id, step=step, state=StepState(body.state), reason=body.reason
    )
    try:
        await use_cases.record_step(conn, cmd, by=caller)
    except UnknownStep as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except use_cases.ReasonRequired as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return json_response(await _checklist(conn, incident_id, caller))


@router.post(
    "/incidents/{incident_id}/escalate",
    tags=["incidents"],
    summary="Escalate by hand: one level up, one priority step more urgent",
    responses=documented_inline(queries.IncidentView, errors=(403, 404, 409)),
)
async def escalate(incident_id: str, body: EscalateIn, caller: Operator, conn: Db) -> Response:
    cmd = use_cases.EscalateIncident(incident_id=incident_id, reason=body.reason)
    await use_cases.escalate(conn, cmd, by=caller)
    view = await queries.get_incident(conn, incident_id, scope=caller.scope)
    if view is None:
        raise IncidentNotFound(incident_id)
    return json_response(view)
