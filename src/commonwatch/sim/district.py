"""A synthetic district of Campo Grande (Brazil): communities, buildings and devices. Pure.

The district lies on the real city centre, so that a road network imported later from
campo-grande.osm.pbf lines up with it. The same seed always gives the same district.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from commonwatch.domain.places import Building, Community, Device, child_path

TIMEZONE = "America/Campo_Grande"
CITY_PATH = child_path("", "campo_grande")
DISTRICT_PATH = child_path(CITY_PATH, "centro")
CENTER_LAT = -20.4640
CENTER_LON = -54.6160

GRID_COLUMNS, GRID_ROWS = 8, 5  # 40 communities
CELL_LAT = 0.0045  # ~500 m between community centres
CELL_LON = 0.0048  # ~500 m at 20° S
HALF_SIDE = 0.0016  # a community is ~350 m across
CORNER_JITTER = 0.0003
BUILDING_SPACING = 0.0009
BUILDINGS_PER_COMMUNITY = (3, 8)
COORD_DIGITS = 6  # ~0.1 m


@dataclass(frozen=True, slots=True)
class DeviceKind:
    """One kind of device and how many of it a building gets (min, max)."""

    kind: str
    slug: str  # short form used in device ids: c07-b2-smoke-3
    label: str
    per_building: tuple[int, int]
    spots: tuple[str, ...]  # where in the building unit 1, 2, ... hangs


# The building kit as data. Every building has two smoke detectors and a heat detector in or by
# the kitchen, so that any building can host the kitchen-fire scenario.
DEVICE_KINDS: tuple[DeviceKind, ...] = (
    DeviceKind(
        "smoke_detector", "smoke", "Smoke detector", (2, 3), ("kitchen", "hallway", "stairwell")
    ),
    DeviceKind("heat_detector", "heat", "Heat detector", (1, 1), ("kitchen",)),
    DeviceKind("alarm_panel", "panel", "Alarm panel", (1, 1), ("lobby",)),
    DeviceKind("door_contact", "door", "Door contact", (1, 2), ("main entrance", "back door")),
    DeviceKind("motion_sensor", "motion", "Motion sensor", (0, 1), ("lobby",)),
    DeviceKind("water_sensor", "water", "Water sensor", (0, 1), ("basement",)),
    DeviceKind("camera", "cam", "Camera (fire analytics)", (0, 1), ("car park",)),
    DeviceKind("gas_detector", "gas", "Gas detector", (0, 1), ("boiler room",)),
    DeviceKind("panic_button", "panic", "Panic button", (0, 1), ("reception",)),
    DeviceKind("ebike_charger_monitor", "ebike", "E-bike charger monitor", (0, 1), ("corridor",)),
    DeviceKind("fall_sensor", "fall", "Fall sensor", (0, 1), ("common room",)),
)
KINDS: frozenset[str] = frozenset(k.kind for k in DEVICE_KINDS)

_PREFIXES = ("Residencial", "Condomínio", "Vila", "Jardim", "Conjunto", "Parque")
_NAMES = (
    "Ipê", "Aroeira", "Buriti", "Pequi", "Jatobá", "Sucupira", "Tarumã", "Guavira", "Bocaiúva",
    "Angico", "Cedro", "Carandá", "Paineira", "Manduvi", "Piúva", "Jacarandá", "Araçá", "Cambará",
    "Canjerana", "Embaúba", "Figueira", "Gameleira", "Ingá", "Jerivá", "Mangaba", "Murici", "Oiti",
    "Pitanga", "Quaresmeira", "Sibipiruna", "Tamboril", "Umbu", "Angelim", "Baru", "Guatambu",
    "Tuiuiú", "Arara Azul", "Tucano", "Seriema", "Sabiá",
)  # fmt: skip
_BLOCKS = "ABCDEFGH"


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    path: str
    kind: str  # city, district, community, building
    name: str
    timezone: str = TIMEZONE


@dataclass(frozen=True, slots=True)
class DemoDistrict:
    jurisdictions: tuple[Jurisdiction, ...]  # parents before children
    communities: tuple[Community, ...]
    buildings: tuple[Building, ...]
    devices: tuple[Device, ...]


def build_district(seed: int = 7) -> DemoDistrict:
    rng = random.Random(seed)
    places = [
        Jurisdiction(CITY_PATH, "city", "Campo Grande"),
        Jurisdiction(DISTRICT_PATH, "district", "Centro"),
    ]
    communities: list[Community] = []
    buildings: list[Building] = []
    devices: list[Device] = []
    for index, name in enumerate(_community_names(rng)):
        community = _community(rng, index, name)
        communities.append(community)
        places.append(Jurisdiction(community.jpath, "community", community.name))
        for building in _buildings(rng, community):
            buildings.append(building)
            places.append(Jurisdiction(building.jpath, "building", f"{name}, {building.name}"))
            devices.extend(_devices(rng, building))
    return DemoDistrict(tuple(places), tuple(communities), tuple(buildings), tuple(devices))


def _community_names(rng: random.Random) -> list[str]:
    names = list(_NAMES[: GRID_COLUMNS * GRID_ROWS])
    rng.shuffle(names)
    return [f"{rng.choice(_PREFIXES)} {name}" for name in names]


def _community(rng: random.Random, index: int, name: str) -> Community:
    row, column = divmod(index, GRID_COLUMNS)
    lat = CENTER_LAT + (row - (GRID_ROWS - 1) / 2) * CELL_LAT + rng.uniform(-1, 1) * CORNER_JITTER
    lon = CENTER_LON + (column - (GRID_COLUMNS - 1) / 2) * CELL_LON
    lon += rng.uniform(-1, 1) * CORNER_JITTER
    ident = f"c{index + 1:02d}"
    return Community(
        id=ident,
        name=name,
        jpath=child_path(DISTRICT_PATH, ident),
        lat=round(lat, COORD_DIGITS),
        lon=round(lon, COORD_DIGITS),
        polygon=_ring(rng, lat, lon),
    )


def _ring(rng: random.Random, lat: float, lon: float) -> list[list[float]]:
    """A closed ring of [lon, lat] (GeoJSON order), counter-clockwise, corners jittered."""
    corners = ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ring = [
        [
            round(lon + dx * HALF_SIDE + rng.uniform(-1, 1) * CORNER_JITTER, COORD_DIGITS),
            round(lat + dy * HALF_SIDE + rng.uniform(-1, 1) * CORNER_JITTER, COORD_DIGITS),
        ]
        for dx, dy in corners
    ]
    return [*ring, list(ring[0])]


def _buildings(rng: random.Random, community: Community) -> list[Building]:
    count = rng.randint(*BUILDINGS_PER_COMMUNITY)
    # Nine lots on a 3 x 3 grid inside the community; each building takes one.
    lots = sorted(rng.sample(range(9), count))
    lat0, lon0 = community.lat or CENTER_LAT, community.lon or CENTER_LON
    result = []
    for number, lot in enumerate(lots, start=1):
        row, column = divmod(lot, 3)
        ident = f"{community.id}-b{number}"
        result.append(
            Building(
                id=ident,
                community_id=community.id,
                name=f"Bloco {_BLOCKS[number - 1]}",
                jpath=child_path(community.jpath, ident),
                lat=round(lat0 + (row - 1) * BUILDING_SPACING, COORD_DIGITS),
                lon=round(lon0 + (column - 1) * BUILDING_SPACING, COORD_DIGITS),
            )
        )
    return result


def _devices(rng: random.Random, building: Building) -> list[Device]:
    return [
        Device(
            id=f"{building.id}-{kind.slug}-{number}",
            kind=kind.kind,
            community_id=building.community_id,
            jpath=building.jpath,
            building_id=building.id,
            name=f"{kind.label} {number} ({kind.spots[(number - 1) % len(kind.spots)]})",
            lat=building.lat,
            lon=building.lon,
        )
        for kind in DEVICE_KINDS
        for number in range(1, rng.randint(*kind.per_building) + 1)
    ]
