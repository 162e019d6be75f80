"""The load the console bench puts on the console: the demo district, thousands of open
incidents, hundreds of units and their moves, and the events that stream in meanwhile."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from commonwatch.bus import subjects
from commonwatch.ingest.native.parse import EventIn
from commonwatch.sim.district import DISTRICT_PATH, DemoDistrict
from commonwatch.storage.incidents import Conn

SEEDED_TYPES = (("intrusion", 2), ("ebike_fire_risk", 2), ("water_leak", 3), ("tamper", 4))
CHURN_TYPES = (
    ("water_leak", "water_sensor"),
    ("intrusion", "door_contact"),
    ("tamper", "alarm_panel"),
)
UNIT_KINDS = ("patrol_car", "foot_patrol", "ebike_patrol", "security_guard", "volunteer_team")
STEP_DEG = 0.0004  # ~40 m per move


@dataclass
class MovingUnit:
    id: str
    lat: float
    lon: float


def _bounds(district: DemoDistrict) -> tuple[float, float, float, float]:
    lats = [c.lat for c in district.communities if c.lat is not None]
    lons = [c.lon for c in district.communities if c.lon is not None]
    return min(lats), max(lats), min(lons), max(lons)


async def seed_incidents(conn: Conn, district: DemoDistrict, count: int, seed: int = 1) -> None:
    """`count` open incidents of priority 2 to 5 over the last six hours, spread over buildings."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        building = rng.choice(district.buildings)
        kind, priority = rng.choice(SEEDED_TYPES)
        opened = now - timedelta(seconds=rng.uniform(60, 6 * 3600))
        ident = str(uuid.UUID(int=rng.getrandbits(128)))
        status = rng.choice(("new", "acknowledged"))
        rows.append((
            ident, kind, priority + (n % 2 if priority < 5 else 0), status, building.jpath,
            building.community_id, building.id, opened, [f"bench:{ident}"],
            [f"{building.id}-bench"], [kind],
        ))  # fmt: skip
    await conn.executemany(
        "INSERT INTO incidents (id, type, priority, status, jpath, community_id, building_id, "
        "first_device_ts, received_at, opened_at, last_event_at, correlation_keys, device_ids, "
        "event_types) VALUES ($1, $2, $3, $4, $5::ltree, $6, $7, $8, $8, $8, $8, $9, $10, $11)",
        rows,
    )


async def seed_units(
    conn: Conn, district: DemoDistrict, count: int, seed: int = 2
) -> list[MovingUnit]:
    """A station and `count` units with a position each (the dispatch module's tables)."""
    rng = random.Random(seed)
    south, north, west, east = _bounds(district)
    await conn.execute(
        "INSERT INTO stations (id, name, kind, lat, lon, jpath) VALUES "
        "('bench-post', 'Bench post', 'street_police_post', $1, $2, $3::ltree) "
        "ON CONFLICT (id) DO NOTHING",
        (south + north) / 2, (west + east) / 2, DISTRICT_PATH,
    )  # fmt: skip
    units = [
        MovingUnit(f"U-{n:04d}", rng.uniform(south, north), rng.uniform(west, east))
        for n in range(count)
    ]
    now = datetime.now(UTC)
    await conn.executemany(
        "INSERT INTO units (id, name, kind, station_id, jpath) "
        "VALUES ($1, $1, $2, 'bench-post', $3::ltree)",
        [(u.id, rng.choice(UNIT_KINDS), DISTRICT_PATH) for u in units],
    )
    await conn.executemany(
        "INSERT INTO unit_positions (unit_id, lat, lon, at, jpath) "
        "VALUES ($1, $2, $3, $4, $5::ltree)",
        [(u.id, u.lat, u.lon, now, DISTRICT_PATH) for u in units],
    )
    return units


def move(unit: MovingUnit, rng: random.Random) -> tuple[str, bytes]:
    """One position change, as the change stream would carry it: (subject, payload)."""
    unit.lat += rng.uniform(-STEP_DEG, STEP_DEG)
    unit.lon += rng.uniform(-STEP_DEG, STEP_DEG)
    change = {
        "kind": "UnitPositionReported", "at": datetime.now(UTC).isoformat(), "unit_id": unit.id,
        "lat": unit.lat, "lon": unit.lon,
    }  # fmt: skip
    return subjects.change_subject("unit", unit.id), msgspec.json.encode(change)


def native_event(community: str, device: str, event_type: str) -> tuple[str, str, bytes]:
    """An event as the platform's own ingest puts it on the bus: (id, subject, payload)."""
    ident = f"bench-console-{uuid.uuid4().hex}"
    event = EventIn(
        type=event_type, id=ident, device=device, community=community,
        received=datetime.now(UTC), source="bench",
    )  # fmt: skip
    return ident, subjects.event_subject(community, device), msgspec.json.encode(event)


def devices_of(district: DemoDistrict, kind: str) -> list[tuple[str, str]]:
    return [(d.community_id, d.id) for d in district.devices if d.kind == kind]
