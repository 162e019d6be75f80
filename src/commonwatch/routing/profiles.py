"""Who may use a road, in which direction, how fast: rules as data, per profile. Pure.

Sources for the defaults: the OSM wiki pages Key:highway, Key:access, Key:oneway and
Key:maxspeed ("Default speed limits"); the class defaults are typical urban limits, not a
country's law. Tagged `maxspeed` wins over the class default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from commonwatch.domain.travel import Profile

CYCLING_KMH = 15.0
WALKING_KMH = 5.0
MPH = 1.609344
KNOTS = 1.852


@dataclass(frozen=True, slots=True)
class RoadClass:
    code: int  # stored with the network, for map styling; stable
    drive_kmh: float | None  # None: cars may not use it by default
    cycle: bool
    walk: bool


ROAD_CLASSES: dict[str, RoadClass] = {
    "motorway": RoadClass(1, 100, False, False),
    "trunk": RoadClass(2, 80, True, True),
    "primary": RoadClass(3, 60, True, True),
    "secondary": RoadClass(4, 50, True, True),
    "tertiary": RoadClass(5, 40, True, True),
    "motorway_link": RoadClass(6, 50, False, False),
    "trunk_link": RoadClass(7, 50, True, True),
    "primary_link": RoadClass(8, 40, True, True),
    "secondary_link": RoadClass(9, 40, True, True),
    "tertiary_link": RoadClass(10, 30, True, True),
    "unclassified": RoadClass(11, 30, True, True),
    "residential": RoadClass(12, 30, True, True),
    "road": RoadClass(13, 20, True, True),
    "living_street": RoadClass(14, 10, True, True),
    "service": RoadClass(15, 15, True, True),
    "track": RoadClass(16, None, True, True),
    "cycleway": RoadClass(17, None, True, True),
    "path": RoadClass(18, None, True, True),
    "pedestrian": RoadClass(19, None, False, True),
    "footway": RoadClass(20, None, False, True),
    "steps": RoadClass(21, None, False, True),
}

# Most general first; the most specific tag present decides (OSM access hierarchy).
ACCESS_KEYS: dict[Profile, tuple[str, ...]] = {
    Profile.DRIVING: ("access", "vehicle", "motor_vehicle", "motorcar"),
    Profile.CYCLING: ("access", "vehicle", "bicycle"),
    Profile.WALKING: ("access", "foot"),
}
# Tags that name the mode itself may open a road its class closes (bicycle=yes on a footway);
# general ones (access=yes) may not.
MODE_KEYS = frozenset({"motor_vehicle", "motorcar", "bicycle", "foot"})
DENIED = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "emergency", "military"}
)
DENIED_CYCLING = DENIED | {"use_sidepath", "dismount"}
YES = frozenset({"yes", "true", "1"})
NO = frozenset({"no", "false", "0"})
REVERSE = frozenset({"-1", "reverse"})
OPPOSITE_CYCLEWAY = frozenset(
    {"opposite", "opposite_lane", "opposite_track", "opposite_share_busway"}
)
IMPLIED_ONEWAY_JUNCTIONS = frozenset({"roundabout", "circular"})

# maxspeed zone values ("BR:urban", "DE:rural", "zone30"): the generic kind, then country overrides.
ZONE_KMH = {"urban": 50.0, "rural": 90.0, "trunk": 100.0, "motorway": 120.0,
            "living_street": 20.0, "walk": 7.0, "bicycle_road": 30.0, "nsl_single": 60 * MPH,
            "nsl_dual": 70 * MPH, "nsl_restricted": 30 * MPH}  # fmt: skip
COUNTRY_ZONE_KMH = {"br:urban": 60.0, "br:rural": 90.0, "de:rural": 100.0, "de:motorway": 130.0,
                    "fr:rural": 80.0, "fr:motorway": 130.0, "it:rural": 90.0, "us:urban": 25 * MPH,
                    "ru:urban": 60.0, "ru:rural": 90.0, "pt:urban": 50.0}  # fmt: skip
NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")
UNIT_FACTOR = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": MPH, "knots": KNOTS}


@dataclass(frozen=True, slots=True)
class Passage:
    forward: bool
    backward: bool
    kmh: float


def _zone_kmh(value: str) -> float | None:
    if value in COUNTRY_ZONE_KMH:
        return COUNTRY_ZONE_KMH[value]
    kind = value.split(":", 1)[-1]
    if kind in ZONE_KMH:
        return ZONE_KMH[kind]
    digits = re.search(r"zone:?(\d+)$", kind)
    return float(digits.group(1)) if digits else None


def _one_maxspeed(value: str) -> tuple[float, bool] | None:
    """(km/h, is a zone) for one value, or None if it says nothing usable ("signals", "none")."""
    match = NUMBER.match(value)
    if match:
        number = float(match.group(1).replace(",", "."))
        return (number * UNIT_FACTOR[match.group(2)], False) if number > 0 else None
    zone = _zone_kmh(value)
    return (zone, True) if zone is not None else None


def parse_maxspeed(value: str | None) -> tuple[float, bool] | None:
    """km/h from a maxspeed tag ("50", "30 mph", "BR:urban", "50;30"); the lowest of a list."""
    if not value:
        return None
    found = [s for s in (_one_maxspeed(v.strip().lower()) for v in value.split(";")) if s]
    return min(found) if found else None


def driving_kmh(road: RoadClass, maxspeed: str | None) -> float:
    default = road.drive_kmh or 20.0
    parsed = parse_maxspeed(maxspeed)
    if parsed is None:
        return default
    kmh, zone = parsed
    # A zone states the area's legal ceiling; a residential street in "BR:urban" is still slower.
    return min(kmh, default) if zone else kmh


def _allowed(profile: Profile, road: RoadClass, tags: Mapping[str, str]) -> bool:
    default = {Profile.DRIVING: road.drive_kmh is not None, Profile.CYCLING: road.cycle}.get(
        profile, road.walk
    )
    denied = DENIED_CYCLING if profile is Profile.CYCLING else DENIED
    for key in reversed(ACCESS_KEYS[profile]):
        value = tags.get(key)
        if value is None:
            continue
        if value in denied:
            return False
        return default or key in MODE_KEYS
    return default


def _oneway_value(value: str | None) -> tuple[bool, bool] | None:
    if value in YES:
        return True, False
    if value in REVERSE:
        return False, True
    if value in NO:
        return True, True
    return None


def _directions(profile: Profile, tags: Mapping[str, str]) -> tuple[bool, bool]:
    if profile is Profile.WALKING:
        return True, True
    if profile is Profile.CYCLING:
        own = _oneway_value(tags.get("oneway:bicycle"))
        if own is not None:
            return own
        if tags.get("cycleway") in OPPOSITE_CYCLEWAY:
            return True, True
    stated = _oneway_value(tags.get("oneway"))
    if stated is not None:
        return stated
    implied = tags.get("junction") in IMPLIED_ONEWAY_JUNCTIONS or tags.get("highway") == "motorway"
    return (True, False) if implied else (True, True)


def passage(profile: Profile, tags: Mapping[str, str]) -> Passage | None:
    """How `profile` may use a way with these tags, or None if it may not."""
    road = ROAD_CLASSES.get(tags.get("highway", ""))
    if road is None or tags.get("area") == "yes" or not _allowed(profile, road, tags):
        return None
    if profile is not Profile.DRIVING and tags.get("motorroad") == "yes":
        return None
    forward, backward = _directions(profile, tags)
    if not (forward or backward):
        return None
    speeds = {Profile.CYCLING: CYCLING_KMH, Profile.WALKING: WALKING_KMH}
    kmh = speeds.get(profile) or driving_kmh(road, tags.get("maxspeed"))
    return Passage(forward, backward, kmh)
