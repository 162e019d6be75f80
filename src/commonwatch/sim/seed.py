"""Use case: write the demo district into the registry, in one transaction. Idempotent."""

from __future__ import annotations

from commonwatch.sim.district import DemoDistrict, build_district
from commonwatch.storage import registry
from commonwatch.storage.incidents import Conn


async def seed(conn: Conn, district: DemoDistrict | None = None) -> DemoDistrict:
    """Upsert the district's jurisdictions, communities, buildings and devices; returns it."""
    district = district or build_district()
    async with conn.transaction():
        for place in district.jurisdictions:
            await registry.upsert_jurisdiction(
                conn, path=place.path, kind=place.kind, name=place.name, timezone=place.timezone
            )
        await registry.upsert_communities(conn, district.communities)
        await registry.upsert_buildings(conn, district.buildings)
        await registry.upsert_devices(conn, district.devices)
    return district
