"""Device ecosystems: camera evidence, unit positions, device health, bridge connections, and
OwnTracks HTTP mode."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status

from commonwatch.api.deps import Db, Ingestor, Reader, Res
from commonwatch.api.routes.dispatch import Ctx
from commonwatch.api.schemas import json_response
from commonwatch.handlers.accounts import in_scope
from commonwatch.handlers.incidents import IncidentNotFound
from commonwatch.ingest.bridge import sink
from commonwatch.ingest.bridge.config import BridgeFile, default_path, load_config
from commonwatch.ingest.bridge.decoding import ParseError
from commonwatch.ingest.bridge.outputs import Context
from commonwatch.ingest.owntracks.translate import OwnTracksTranslator
from commonwatch.storage import accounts, queries, registry, sources
from commonwatch.storage.sources import (
    ConnectionView,
    EvidenceView,
    UnhealthyDevice,
    UnitPositionView,
)

router = APIRouter(tags=["sources"])

MAX_OWNTRACKS_BODY = 64 * 1024


class EvidenceList(msgspec.Struct, frozen=True):
    items: list[EvidenceView]


class UnitPositionList(msgspec.Struct, frozen=True):
    items: list[UnitPositionView]


class UnhealthyDeviceList(msgspec.Struct, frozen=True):
    items: list[UnhealthyDevice]


class ConnectionList(msgspec.Struct, frozen=True):
    items: list[ConnectionView]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _documented(body: type, *errors: int) -> dict[int | str, dict[str, Any]]:
    """Responses with the msgspec schema inlined (these types are not in the shared components)."""
    schema = msgspec.json.schema(body)
    inlined = _inline(schema, schema.pop("$defs", {}))
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    out: dict[int | str, dict[str, Any]] = {
        200: {"description": body.__name__, "content": {"application/json": {"schema": inlined}}}
    }
    for code in sorted({401, 422, *errors}):
        out[code] = {"description": "Problem", "content": problem}
    return out


@router.get(
    "/incidents/{incident_id}/evidence",
    summary="Links to camera snapshots and clips of an incident (URLs to the NVR only)",
    responses=_documented(EvidenceList, 404),
)
async def incident_evidence(incident_id: str, caller: Reader, conn: Db) -> Response:
    view = await queries.get_incident(conn, incident_id, scope=caller.scope)
    if view is None:
        raise IncidentNotFound(incident_id)
    items = await sources.evidence_for_incident(conn, incident_id)
    # Camera images may show people: every read is on the record.
    await accounts.record_read(
        conn, account_id=caller.account_id, action="incident.evidence.read", target=incident_id,
        jpath=view.jpath,
    )  # fmt: skip
    return json_response(EvidenceList(items=items))


@router.get(
    "/units/positions",
    summary="Latest position of each on-duty unit you can see",
    responses=_documented(UnitPositionList),
)
async def unit_positions(caller: Reader, conn: Db) -> Response:
    items = await sources.unit_positions(conn, scope=caller.scope)
    # Where staff are is personal data too.
    await accounts.record_read(
        conn, account_id=caller.account_id, action="units.positions.read", target="units",
        jpath=caller.scope,
    )  # fmt: skip
    return json_response(UnitPositionList(items=items))


@router.get(
    "/communities/{community_id}/unhealthy-devices",
    summary="Devices offline, low on battery, tampered with or silent (maintenance, not alarms)",
    responses=_documented(UnhealthyDeviceList, 404),
)
async def unhealthy_devices(community_id: str, caller: Reader, conn: Db) -> Response:
    found = await registry.get_community(conn, community_id)
    if found is None or not in_scope(found.jpath, caller.scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no community {community_id!r}")
    items = await sources.unhealthy_devices(conn, community_id)
    return json_response(UnhealthyDeviceList(items=items))


@router.get(
    "/sources/connections",
    summary="The MQTT bridge's connections and their state",
    responses=_documented(ConnectionList),
)
async def connections(caller: Reader, conn: Db) -> Response:
    return json_response(ConnectionList(items=await sources.list_connections(conn)))


@functools.lru_cache(maxsize=1)
def _config() -> BridgeFile:
    return load_config(default_path())


@router.post(
    "/owntracks",
    summary="OwnTracks HTTP mode: one message of a unit's app; answers []",
    responses={200: {"description": "An empty list (no friends, no cards)"}},
)
async def owntracks_http(
    request: Request,
    caller: Ingestor,
    res: Res,
    ctx: Ctx,
    x_limit_u: Annotated[str | None, Header()] = None,
    x_limit_d: Annotated[str | None, Header()] = None,
    u: Annotated[str | None, Query(max_length=128)] = None,
    d: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    user, device = (x_limit_u or u or "")[:128], (x_limit_d or d or "")[:128]
    if not user or not device:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="say which unit: X-Limit-U and X-Limit-D headers, or ?u=&d=",
        )
    body = await _body(request)
    translator = OwnTracksTranslator(_config().owntracks)
    try:
        outputs = translator.translate_for(user, device, body, Context(datetime.now(UTC)))
    except ParseError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=exc.reason) from None
    radius = ctx.rules.settings.arrival_radius_m
    async with res.pool.acquire() as conn:
        await sink.store(conn, sink.sort_outputs(outputs), arrival_radius_m=radius)
    return Response(b"[]", media_type="application/json")


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_OWNTRACKS_BODY:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, detail=f"body over {MAX_OWNTRACKS_BODY} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)
