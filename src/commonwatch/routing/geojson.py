"""The driving roads as GeoJSON lines for a map, bounded in size."""

from __future__ import annotations

import msgspec
import numpy as np

from commonwatch.routing.arcs import Ints
from commonwatch.routing.network import RoadNetwork, Roads
from commonwatch.routing.profiles import ROAD_CLASSES

CLASS_NAMES = {rc.code: name for name, rc in ROAD_CLASSES.items()}
MAX_FEATURES = 4000
MAX_POINTS = 40_000


class LineString(msgspec.Struct, frozen=True):
    coordinates: list[tuple[float, float]]
    type: str = "LineString"


class RoadProperties(msgspec.Struct, frozen=True):
    highway: str


class RoadFeature(msgspec.Struct, frozen=True):
    geometry: LineString
    properties: RoadProperties
    type: str = "Feature"


class RoadMap(msgspec.Struct, frozen=True):
    features: list[RoadFeature]
    truncated: bool  # True when minor roads were left out to stay within the bound
    type: str = "FeatureCollection"


def _chosen(roads: Roads, max_features: int) -> Ints:
    """Most important classes first (lower code), then longer shapes; at most max_features."""
    order = np.lexsort((-np.diff(roads.shape_ptr), roads.road_class))
    return np.sort(order[:max_features])


def _line(roads: Roads, i: int, stride: int) -> LineString:
    lo, hi = int(roads.shape_ptr[i]), int(roads.shape_ptr[i + 1])
    keep = [*range(lo, hi - 1, stride), hi - 1]
    lon = np.round(roads.shape_lon[keep], 6).tolist()
    lat = np.round(roads.shape_lat[keep], 6).tolist()
    return LineString(list(zip(lon, lat, strict=True)))


def road_map(
    net: RoadNetwork, max_features: int = MAX_FEATURES, max_points: int = MAX_POINTS
) -> RoadMap:
    """Driving road segments as lines; shapes thinned so the whole stays under max_points."""
    roads = net.roads
    chosen = _chosen(roads, max_features)
    points = int(np.diff(roads.shape_ptr)[chosen].sum())
    stride = max(1, -(-points // max(max_points, 1)))
    features = [
        RoadFeature(
            _line(roads, int(i), stride),
            RoadProperties(CLASS_NAMES.get(int(roads.road_class[i]), "road")),
        )
        for i in chosen
    ]
    return RoadMap(features, truncated=len(chosen) < len(roads.u))
