"""Communities and devices: where things are in the jurisdiction tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from commonwatch.api import provisioning
from commonwatch.api.deps import Admin, Db, Reader
from commonwatch.api.pagination import id_after, id_cursor
from commonwatch.api.schemas import (
    CommunityIn,
    CommunityList,
    DeviceIn,
    DevicePage,
    documented,
    json_response,
)
from commonwatch.domain.places import Community, Device
from commonwatch.handlers.accounts import in_scope
from commonwatch.storage import queries, registry
from commonwatch.storage.queries import DeviceDetail

router = APIRouter(tags=["registry"])


@router.post(
    "/communities",
    status_code=status.HTTP_201_CREATED,
    summary="Register a community under a city or district",
    responses=documented(Community, 201, errors=(403, 409, 422)),
)
async def create_community(body: CommunityIn, caller: Admin, conn: Db) -> Response:
    polygon = [list(point) for point in body.polygon] if body.polygon else None
    draft = Community(body.id, body.name, "", body.lat, body.lon, polygon)
    created = await provisioning.create_community(conn, draft, parent=body.parent, by=caller)
    return json_response(created, status.HTTP_201_CREATED)


@router.get("/communities", summary="Communities you can see", responses=documented(CommunityList))
async def list_communities(caller: Reader, conn: Db) -> Response:
    items = await registry.list_communities(conn, scope=caller.scope)
    return json_response(CommunityList(items=items))


@router.get(
    "/communities/{community_id}",
    summary="One community",
    responses=documented(Community, errors=(404,)),
)
async def get_community(community_id: str, caller: Reader, conn: Db) -> Response:
    found = await registry.get_community(conn, community_id)
    if found is None or not in_scope(found.jpath, caller.scope):
        raise _not_found("community", community_id)
    return json_response(found)


@router.post(
    "/devices",
    status_code=status.HTTP_201_CREATED,
    summary="Register a device in a community (and building)",
    responses=documented(Device, 201, errors=(403, 409, 422)),
)
async def create_device(body: DeviceIn, caller: Admin, conn: Db) -> Response:
    draft = Device(
        body.id, body.kind, body.community_id, "", body.building_id, body.name, body.lat, body.lon
    )
    created = await provisioning.create_device(
        conn, draft, building_name=body.building_name, by=caller
    )
    return json_response(created, status.HTTP_201_CREATED)


@router.get("/devices", summary="Devices you can see, by id", responses=documented(DevicePage))
async def list_devices(
    caller: Reader,
    conn: Db,
    community: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    items = await registry.list_devices(
        conn, scope=caller.scope, community_id=community, after=id_after(cursor), limit=limit + 1
    )
    page = items[:limit]
    next_cursor = id_cursor(page[-1].id) if len(items) > limit else None
    return json_response(DevicePage(items=page, next_cursor=next_cursor))


@router.get(
    "/devices/{device_id}",
    summary="One device with its active alarms",
    responses=documented(DeviceDetail, errors=(404,)),
)
async def get_device(device_id: str, caller: Reader, conn: Db) -> Response:
    found = await queries.device_detail(conn, device_id, scope=caller.scope)
    if found is None:
        raise _not_found("device", device_id)
    return json_response(found)


def _not_found(kind: str, ident: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {kind} {ident!r}")
