"""Dispatch over HTTP: stations and units, who should go to an incident, sending them, what the
units report, and how fast the response was."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import msgspec
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from commonwatch.api.deps import Admin, Db, Ingestor, Operator, Reader
from commonwatch.api.schemas import IDENT, LTREE, Ident, json_response
from commonwatch.domain.dispatch import Recommendation
from commonwatch.domain.intervals import IntervalReport
from commonwatch.domain.places import child_path
from commonwatch.domain.units import (
    Position,
    Shift,
    Station,
    StationKind,
    Unit,
    UnitKind,
    UnitStatus,
)
from commonwatch.handlers import dispatch as use_cases
from commonwatch.handlers.accounts import in_scope
from commonwatch.handlers.dispatch import Dispatch, OutOfScope
from commonwatch.handlers.incidents import IncidentNotFound
from commonwatch.runtime.config import default_data_dir
from commonwatch.storage import accounts
from commonwatch.storage import dispatch as store
from commonwatch.storage.accounts import Principal

router = APIRouter(tags=["dispatch"])

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]


async def get_dispatch(request: Request) -> Dispatch:
    """Rules and travel times, loaded on first use unless the app set `state.dispatch`."""
    found = getattr(request.app.state, "dispatch", None)
    if found is None:
        incident_types = list(request.app.state.resources.rules.incident_types)
        rules = use_cases.load_dispatch_rules(incident_types=incident_types)
        found = Dispatch(rules, use_cases.load_travel_times(default_data_dir()))
        request.app.state.dispatch = found
    return cast(Dispatch, found)


Ctx = Annotated[Dispatch, Depends(get_dispatch)]

_STATUS: dict[type[Exception], int] = {
    use_cases.UnitNotFound: status.HTTP_404_NOT_FOUND,
    use_cases.Conflict: status.HTTP_409_CONFLICT,
    use_cases.Refused: status.HTTP_409_CONFLICT,
    use_cases.Rejected: status.HTTP_422_UNPROCESSABLE_CONTENT,
    OutOfScope: status.HTTP_403_FORBIDDEN,
}


@contextlib.contextmanager
def _problems() -> Iterator[None]:
    """The use cases' own errors as Problems (the app maps lifecycle and not-found errors)."""
    try:
        yield
    except tuple(_STATUS) as exc:
        code = next(c for kind, c in _STATUS.items() if isinstance(exc, kind))
        raise HTTPException(code, detail=str(exc)) from exc


# --- shapes -----------------------------------------------------------------------------------


class StationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Ident
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: StationKind
    parent: Annotated[str, Field(pattern=LTREE, description="Where it lies, e.g. 'city.north'.")]
    lat: Lat
    lon: Lon


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Ident
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: UnitKind
    station_id: Ident
    capabilities: list[Annotated[str, Field(pattern=IDENT)]] = Field(default_factory=list)
    always_on_duty: bool = Field(default=True, description="false: on duty only during shifts")


class ShiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: datetime
    ends_at: datetime


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: UnitStatus = Field(description="en_route acknowledges; available or returning clears")


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Lat
    lon: Lon
    at: datetime | None = Field(default=None, description="When it was measured (default now)")
    accuracy_m: Annotated[float | None, Field(ge=0)] = None
    speed_kmh: Annotated[float | None, Field(ge=0)] = None


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: Ident


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    at: datetime
    age_s: float
    accuracy_m: float | None


class UnitView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    kind: str
    station_id: str
    jpath: str
    capabilities: list[str]
    status: str
    status_since: datetime | None
    on_duty: bool
    always_on_duty: bool
    shifts: list[Shift]
    position: PositionView | None


class StationList(msgspec.Struct, frozen=True):
    items: list[Station]


class UnitList(msgspec.Struct, frozen=True):
    items: list[UnitView]


class AssignmentList(msgspec.Struct, frozen=True):
    items: list[store.AssignmentView]


def _view(unit: Unit, fix: Position | None, now: datetime) -> UnitView:
    position = None
    if fix is not None:
        age = round(fix.age_s(now), 1)
        position = PositionView(
            lat=fix.lat, lon=fix.lon, at=fix.at, age_s=age, accuracy_m=fix.accuracy_m
        )
    return UnitView(
        id=unit.id, name=unit.name, kind=unit.kind, station_id=unit.station_id, jpath=unit.jpath,
        capabilities=sorted(unit.capabilities), status=unit.status,
        status_since=unit.status_since, on_duty=unit.is_on_duty(now),
        always_on_duty=unit.always_on_duty, shifts=list(unit.shifts), position=position,
    )  # fmt: skip


def _documented(body: Any, code: int = 200, errors: tuple[int, ...] = ()) -> dict[int | str, Any]:
    """Self-contained response docs: the body's schema inlined, errors as Problem."""
    (schema,), components = msgspec.json.schema_components([body], ref_template="{name}")
    out: dict[int | str, Any] = {code: _content(_inline(schema, components))}
    problem = {"$ref": "#/components/schemas/Problem"}
    for error in sorted({*errors, 401, 422}):
        out[error] = {
            "description": "Problem",
            "content": {"application/json": {"schema": problem}},
        }
    return out


def _content(schema: Any) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _inline(node: Any, components: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(components[node["$ref"]], components)
        return {k: _inline(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, components) for v in node]
    return node


async def _audit(conn: Db, caller: Principal, target: str, jpath: str) -> None:
    # Where staff on duty are is personal data: every read is on the record.
    await accounts.record_read(conn, account_id=caller.account_id, action="unit.position.read",
                               target=target, jpath=jpath)  # fmt: skip


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


# --- stations and units -----------------------------------------------------------------------


@router.post(
    "/stations",
    status_code=201,
    summary="Register a station or post",
    responses=_documented(Station, 201, (403, 409)),
)
async def create_station(body: StationIn, caller: Admin, conn: Db) -> Response:
    station = Station(
        body.id, body.name, body.kind, body.lat, body.lon, child_path(body.parent, body.id)
    )
    with _problems():
        created = await use_cases.create_station(conn, station, by=caller)
    return json_response(created, status.HTTP_201_CREATED)


@router.get("/stations", summary="Stations you can see", responses=_documented(StationList))
async def list_stations(caller: Reader, conn: Db) -> Response:
    return json_response(StationList(await store.list_stations(conn, scope=caller.scope)))


@router.post(
    "/units",
    status_code=201,
    summary="Register a unit at its home station",
    responses=_documented(UnitView, 201, (403, 409)),
)
async def create_unit(body: UnitIn, caller: Admin, conn: Db) -> Response:
    draft = Unit(
        id=body.id, name=body.name, kind=body.kind, station_id=body.station_id, jpath="",
        capabilities=frozenset(body.capabilities), always_on_duty=body.always_on_duty,
    )  # fmt: skip
    with _problems():
        unit = await use_cases.create_unit(conn, draft, by=caller)
    return json_response(_view(unit, None, datetime.now(UTC)), status.HTTP_201_CREATED)


@router.get(
    "/units",
    summary="Units you can see, with status, duty and position",
    responses=_documented(UnitList),
)
async def list_units(caller: Reader, conn: Db, station: str | None = None) -> Response:
    now = datetime.now(UTC)
    units = await store.list_units(conn, scope=caller.scope, within="", at=now)
    units = [u for u in units if station is None or u.station_id == station]
    fixes = await store.positions(conn, [u.id for u in units])
    await _audit(conn, caller, "units", caller.scope)
    return json_response(UnitList([_view(u, fixes.get(u.id), now) for u in units]))


@router.get("/units/{unit_id}", summary="One unit", responses=_documented(UnitView, 200, (404,)))
async def get_unit(unit_id: str, caller: Reader, conn: Db) -> Response:
    now = datetime.now(UTC)
    unit = await store.get_unit(conn, unit_id, at=now)
    if unit is None or not in_scope(unit.jpath, caller.scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no unit {unit_id!r}")
    fix = (await store.positions(conn, [unit.id])).get(unit.id)
    await _audit(conn, caller, unit.id, unit.jpath)
    return json_response(_view(unit, fix, now))


@router.post(
    "/units/{unit_id}/shifts",
    status_code=201,
    summary="Add a shift (on duty from-to)",
    responses=_documented(UnitView, 201, (404,)),
)
async def add_shift(unit_id: str, body: ShiftIn, caller: Admin, conn: Db) -> Response:
    shift = Shift(_aware(body.starts_at), _aware(body.ends_at))
    if shift.ends_at <= shift.starts_at:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "a shift ends after it starts")
    with _problems():
        unit = await use_cases.add_shift(conn, unit_id, shift, by=caller)
    fix = (await store.positions(conn, [unit.id])).get(unit.id)
    return json_response(_view(unit, fix, datetime.now(UTC)), status.HTTP_201_CREATED)


@router.post(
    "/units/{unit_id}/status",
    summary="What the unit reports: en route, on scene, clear",
    responses=_documented(UnitView, 200, (404, 409)),
)
async def set_status(unit_id: str, body: StatusIn, caller: Operator, conn: Db) -> Response:
    with _problems():
        unit = await use_cases.change_unit_status(conn, unit_id, body.status, by=caller)
    fix = (await store.positions(conn, [unit.id])).get(unit.id)
    return json_response(_view(unit, fix, datetime.now(UTC)))


@router.post(
    "/units/{unit_id}/position",
    summary="A position fix; near its incident = on scene",
    responses=_documented(use_cases.PositionOutcome, 200, (404,)),
)
async def report_position(
    unit_id: str, body: PositionIn, caller: Ingestor, conn: Db, ctx: Ctx
) -> Response:
    at = _aware(body.at) if body.at else datetime.now(UTC)
    fix = Position(body.lat, body.lon, at, body.accuracy_m)
    with _problems():
        outcome = await use_cases.report_position(
            conn, unit_id, fix, by=caller, arrival_radius_m=ctx.rules.settings.arrival_radius_m,
            speed_kmh=body.speed_kmh,
        )  # fmt: skip
    return json_response(outcome)


# --- incidents --------------------------------------------------------------------------------


@router.get(
    "/incidents/{incident_id}/recommendations",
    summary="Who should go, and why",
    responses=_documented(Recommendation, 200, (404,)),
)
async def recommendations(
    incident_id: str, caller: Reader, conn: Db, ctx: Ctx,
    coverage: Annotated[bool, Query(description="Penalise leaving areas uncovered")] = False,
) -> Response:  # fmt: skip
    with _problems():
        found = await use_cases.recommendations(
            conn, incident_id, by=caller, dispatch=ctx, coverage=coverage
        )
    return json_response(found)


@router.post(
    "/incidents/{incident_id}/assign",
    status_code=201,
    summary="Send a unit",
    responses=_documented(store.AssignmentView, 201, (403, 404, 409)),
)
async def assign(
    incident_id: str, body: AssignIn, caller: Operator, conn: Db, ctx: Ctx
) -> Response:
    with _problems():
        made = await use_cases.assign(conn, incident_id, body.unit_id, by=caller, dispatch=ctx)
    return json_response(made, status.HTTP_201_CREATED)


@router.get(
    "/incidents/{incident_id}/assignments",
    summary="Units sent to an incident",
    responses=_documented(AssignmentList, 200, (404,)),
)
async def assignments(incident_id: str, caller: Reader, conn: Db) -> Response:
    incident = await store.get_incident(conn, incident_id)
    if incident is None or not in_scope(incident.jpath, caller.scope):
        raise IncidentNotFound(incident_id)
    return json_response(AssignmentList(await store.incident_assignments(conn, incident_id)))


# --- reports ----------------------------------------------------------------------------------


@router.get(
    "/reports/intervals",
    summary="Response intervals: percentiles against targets",
    responses=_documented(IntervalReport),
)
async def interval_report(
    caller: Reader, conn: Db, ctx: Ctx,
    jurisdiction: Annotated[str | None, Query(pattern=LTREE)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> Response:  # fmt: skip
    report = await use_cases.interval_report(
        conn, scope=caller.scope, rules=ctx.rules, jurisdiction=jurisdiction or "",
        since=_aware(since) if since else None, until=_aware(until) if until else None,
    )  # fmt: skip
    return json_response(report)
