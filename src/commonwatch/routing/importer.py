"""`commonwatch network import`: OSM file in, routable network with hierarchies out."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from commonwatch.domain.travel import Profile
from commonwatch.routing import build
from commonwatch.routing import network as store
from commonwatch.routing.network import ProfileGraph, RoadNetwork
from commonwatch.routing.osmread import read_ways

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"


@dataclass(frozen=True, slots=True)
class ProfileStats:
    nodes: int
    arcs: int
    one_way_arcs: int
    snappable_nodes: int
    hierarchy_arcs: int
    core_nodes: int
    levels: int


@dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    source: str
    source_bytes: int
    source_sha256: str
    imported_at: str
    import_seconds: float
    nodes: int
    road_segments: int
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    profiles: dict[str, ProfileStats]
    attribution: str = ATTRIBUTION


class ImportProgress:
    """What the importer reports; the CLI draws it, tests ignore it."""

    def reading(self, ways_seen: int) -> None: ...

    def building(self, profile: Profile, fraction: float) -> None: ...

    def stage(self, text: str) -> None: ...


def network_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-") or "network"


def _stats(g: ProfileGraph) -> ProfileStats:
    h = g.hierarchy
    pairs = set(zip(g.arcs.src.tolist(), g.arcs.dst.tolist(), strict=True))
    one_way = sum(1 for u, v in pairs if (v, u) not in pairs)
    return ProfileStats(
        nodes=len(g.nodes),
        arcs=len(g.arcs),
        one_way_arcs=one_way,
        snappable_nodes=len(g.snappable),
        hierarchy_arcs=int(len(h.out.to) + len(h.into.to)),
        core_nodes=len(h.core_ms),
        levels=len(h.level_ptr) - 1,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(net: RoadNetwork, source: Path, seconds: float) -> Manifest:
    bbox = (float(net.lon.min()), float(net.lat.min()), float(net.lon.max()), float(net.lat.max()))
    return Manifest(
        name=net.name,
        source=source.name,
        source_bytes=source.stat().st_size,
        source_sha256=_sha256(source),
        imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        import_seconds=round(seconds, 3),
        nodes=len(net.lat),
        road_segments=len(net.roads.u),
        bbox=bbox,
        profiles={p.value: _stats(g) for p, g in net.profiles.items()},
    )


def import_network(
    source: Path,
    data_dir: Path,
    name: str | None = None,
    progress: ImportProgress | None = None,
) -> Manifest:
    """Read, build and save; returns the manifest written next to the arrays."""
    report = progress or ImportProgress()
    started = time.perf_counter()
    report.stage("reading ways")
    ways = read_ways(source, report.reading)
    if len(ways) == 0:
        raise ValueError(f"{source}: no routable ways")
    report.stage("building graphs and hierarchies")
    net = build.network(name or network_name(source), ways, report.building)
    report.stage("saving")
    meta = manifest(net, source, time.perf_counter() - started)
    store.save(net, data_dir, asdict(meta))
    return meta


def bbox_center(m: Manifest) -> tuple[float, float]:
    lon0, lat0, lon1, lat1 = m.bbox
    return float(np.mean([lat0, lat1])), float(np.mean([lon0, lon1]))
