"""Read routable ways from an OSM PBF/XML file with pyosmium into flat arrays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium

from commonwatch.domain.travel import Profile
from commonwatch.routing.arcs import Floats, Ints
from commonwatch.routing.profiles import ROAD_CLASSES, Passage, passage

PROFILES = (Profile.DRIVING, Profile.CYCLING, Profile.WALKING)
Tick = Callable[[int], None]


@dataclass(slots=True)
class ProfileColumns:
    forward: list[bool] = field(default_factory=list)
    backward: list[bool] = field(default_factory=list)
    kmh: list[float] = field(default_factory=list)

    def add(self, p: Passage | None) -> None:
        self.forward.append(p is not None and p.forward)
        self.backward.append(p is not None and p.backward)
        self.kmh.append(p.kmh if p is not None else 0.0)


@dataclass(frozen=True, slots=True)
class Ways:
    """Way pieces with known coordinates; piece i spans node slots offsets[i]:offsets[i+1]."""

    node_ids: Ints
    lat: Floats
    lon: Floats
    offsets: Ints
    road_class: Ints
    forward: dict[Profile, np.ndarray]
    backward: dict[Profile, np.ndarray]
    kmh: dict[Profile, Floats]

    def __len__(self) -> int:
        return len(self.offsets) - 1


@dataclass(slots=True)
class _Collector:
    ids: list[int] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    offsets: list[int] = field(default_factory=lambda: [0])
    road_class: list[int] = field(default_factory=list)
    columns: dict[Profile, ProfileColumns] = field(
        default_factory=lambda: {p: ProfileColumns() for p in PROFILES}
    )

    def piece(
        self, run: list[tuple[int, float, float]], code: int, rules: list[Passage | None]
    ) -> None:
        for node_id, lat, lon in run:
            self.ids.append(node_id)
            self.lat.append(lat)
            self.lon.append(lon)
        self.offsets.append(len(self.ids))
        self.road_class.append(code)
        for profile, rule in zip(PROFILES, rules, strict=True):
            self.columns[profile].add(rule)

    def freeze(self) -> Ways:
        c = self.columns
        return Ways(
            np.asarray(self.ids, dtype=np.int64),
            np.asarray(self.lat, dtype=np.float64),
            np.asarray(self.lon, dtype=np.float64),
            np.asarray(self.offsets, dtype=np.int64),
            np.asarray(self.road_class, dtype=np.int64),
            {p: np.asarray(c[p].forward, dtype=bool) for p in PROFILES},
            {p: np.asarray(c[p].backward, dtype=bool) for p in PROFILES},
            {p: np.asarray(c[p].kmh, dtype=np.float64) for p in PROFILES},
        )


def _runs(way: osmium.osm.Way) -> list[list[tuple[int, float, float]]]:
    """Consecutive nodes with valid locations: an extract cuts ways at its border."""
    runs: list[list[tuple[int, float, float]]] = [[]]
    for ref in way.nodes:
        loc = ref.location
        if loc.valid():
            runs[-1].append((ref.ref, loc.lat, loc.lon))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


def read_ways(path: Path, tick: Tick | None = None) -> Ways:
    """Every way some profile may use, with node coordinates (pyosmium location cache)."""
    collector = _Collector()
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for count, obj in enumerate(processor, start=1):
        if tick is not None and count % 1000 == 0:
            tick(count)
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = {t.k: t.v for t in obj.tags}
        road = ROAD_CLASSES.get(tags.get("highway", ""))
        rules = [passage(p, tags) for p in PROFILES]
        if road is None or not any(rules):
            continue
        for run in _runs(obj):
            collector.piece(run, road.code, rules)
    return collector.freeze()
