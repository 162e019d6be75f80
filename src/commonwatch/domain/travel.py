"""Travel time between points: the contract the dispatch core ranks units with. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Profile(StrEnum):
    DRIVING = "driving"
    CYCLING = "cycling"
    WALKING = "walking"


class Method(StrEnum):
    NETWORK = "network"  # shortest path over an imported road network
    FALLBACK = "fallback"  # straight line x circuity / speed: said in every answer


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Estimate:
    seconds: float
    meters: float
    method: Method
    reachable: bool = True


class TravelTimes(Protocol):
    """Implemented by routing/ (network) and by StraightLine (fallback)."""

    def many_to_one(self, origins: list[Point], target: Point, profile: Profile) -> list[Estimate]:
        """One estimate per origin, in order, from each origin to the target."""
        ...


EARTH_RADIUS_M = 6_371_000.0
CIRCUITY = 1.35  # typical ratio of road distance to straight-line distance in cities
SPEED_MPS = {Profile.DRIVING: 30 / 3.6, Profile.CYCLING: 15 / 3.6, Profile.WALKING: 5 / 3.6}


def haversine_m(a: Point, b: Point) -> float:
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlmb = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class StraightLine:
    """The fallback when no road network is imported."""

    def many_to_one(self, origins: list[Point], target: Point, profile: Profile) -> list[Estimate]:
        speed = SPEED_MPS[profile]
        out = []
        for origin in origins:
            meters = haversine_m(origin, target) * CIRCUITY
            out.append(Estimate(seconds=meters / speed, meters=meters, method=Method.FALLBACK))
        return out
