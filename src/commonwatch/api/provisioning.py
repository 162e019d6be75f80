"""Use cases: register communities and devices in the jurisdiction tree. Each owns its transaction.

(These belong with the other use cases in handlers/; they live here until the registry gets its
own handler module.)
"""

from __future__ import annotations

from commonwatch.domain.places import Building, Community, Device, child_path
from commonwatch.handlers.accounts import in_scope
from commonwatch.storage import incidents, queries, registry
from commonwatch.storage.accounts import Principal
from commonwatch.storage.incidents import Conn

JURISDICTION_KINDS = ("city", "district")


class Conflict(ValueError):
    """The thing to create exists already."""


class Rejected(ValueError):
    """The request names something that does not exist or does not fit."""


class OutOfScope(PermissionError):
    """The caller may not create things in that part of the tree."""


def _ancestors(path: str) -> list[str]:
    labels = path.split(".")
    return [".".join(labels[: i + 1]) for i in range(len(labels))]


async def _ensure_jurisdictions(conn: Conn, parent: str) -> None:
    """Create the city and district rows above a community when they are missing."""
    for path in await queries.missing_jurisdictions(conn, _ancestors(parent)):
        kind = JURISDICTION_KINDS[path.count(".")]
        label = path.rsplit(".", 1)[-1]
        await registry.upsert_jurisdiction(conn, path=path, kind=kind, name=label)


async def create_community(
    conn: Conn, community: Community, *, parent: str, by: Principal
) -> Community:
    jpath = child_path(parent, community.id)
    if not in_scope(jpath, by.scope):
        raise OutOfScope(f"{jpath} lies outside your jurisdiction {by.scope}")
    placed = Community(
        community.id, community.name, jpath, community.lat, community.lon, community.polygon
    )
    async with conn.transaction():
        await incidents.lock_keys(conn, [f"community:{community.id}"])
        if await registry.get_community(conn, community.id) is not None:
            raise Conflict(f"community {community.id!r} exists")
        if not await queries.missing_jurisdictions(conn, [jpath]):
            raise Conflict(f"another community already has the path {jpath}")
        await _ensure_jurisdictions(conn, parent)
        await registry.upsert_jurisdiction(conn, path=jpath, kind="community", name=community.name)
        await registry.upsert_communities(conn, [placed])
    return placed


async def create_device(
    conn: Conn, device: Device, *, building_name: str | None, by: Principal
) -> Device:
    async with conn.transaction():
        community = await registry.get_community(conn, device.community_id)
        if community is None or not in_scope(community.jpath, by.scope):
            raise Rejected(f"no community {device.community_id!r}")
        await incidents.lock_keys(conn, [f"device:{device.id}"])
        if await registry.get_device(conn, device.id) is not None:
            raise Conflict(f"device {device.id!r} exists")
        jpath = community.jpath
        if device.building_id:
            jpath = await _building_path(conn, community, device.building_id, building_name)
        placed = Device(
            device.id, device.kind, device.community_id, jpath, device.building_id, device.name,
            device.lat, device.lon,
        )  # fmt: skip
        await registry.upsert_devices(conn, [placed])
    return placed


async def _building_path(
    conn: Conn, community: Community, building_id: str, name: str | None
) -> str:
    existing = await registry.get_building(conn, building_id)
    if existing is not None:
        if existing.community_id != community.id:
            raise Rejected(
                f"building {building_id!r} belongs to community {existing.community_id!r}"
            )
        return existing.jpath
    jpath = child_path(community.jpath, building_id)
    building = Building(building_id, community.id, name or building_id, jpath)
    await registry.upsert_buildings(conn, [building])
    await registry.upsert_jurisdiction(conn, path=jpath, kind="building", name=building.name)
    return jpath
