"""The imported road network in memory, and its file form (.npz arrays + a JSON manifest)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from commonwatch.domain.travel import Profile
from commonwatch.routing.arcs import Arcs, Floats, Ints
from commonwatch.routing.hierarchy import Hierarchy, Upward

FORMAT = 1


@dataclass(frozen=True, slots=True)
class ProfileGraph:
    profile: Profile
    nodes: Ints  # local index -> network node index; the hierarchy works in local indices
    arcs: Arcs  # in local indices
    snappable: Ints  # local indices of nodes in well-connected parts: where points may snap to
    hierarchy: Hierarchy


@dataclass(frozen=True, slots=True)
class Roads:
    """Driving road segments between graph nodes, with their shape, for drawing a map."""

    u: Ints
    v: Ints
    road_class: Ints
    shape_ptr: Ints  # segment i's points are shape_lat/lon[shape_ptr[i]:shape_ptr[i+1]]
    shape_lat: Floats
    shape_lon: Floats


@dataclass(frozen=True, slots=True)
class RoadNetwork:
    name: str
    lat: Floats
    lon: Floats
    profiles: dict[Profile, ProfileGraph]
    roads: Roads


def network_dir(data_dir: Path) -> Path:
    return data_dir / "network"


def _flatten(prefix: str, obj: object, out: dict[str, np.ndarray]) -> None:
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            out[f"{prefix}{f.name}"] = value
        elif isinstance(value, Arcs | Hierarchy | Upward):
            _flatten(f"{prefix}{f.name}.", value, out)


def _arrays(net: RoadNetwork) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"lat": net.lat, "lon": net.lon}
    _flatten("roads.", net.roads, out)
    for profile, graph in net.profiles.items():
        _flatten(f"{profile.value}.", graph, out)
    # the core table is the bulk of the file: int32 milliseconds lose nothing
    for key in list(out):
        if key.endswith("core_ms"):
            out[key] = out[key].astype(np.int32)
        elif key.endswith(("core_meters", "meters")) or key.startswith("roads.shape_"):
            out[key] = out[key].astype(np.float32)
    return out


def save(net: RoadNetwork, data_dir: Path, manifest: dict[str, Any]) -> Path:
    folder = network_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{net.name}.npz"
    tmp = folder / f".{net.name}.tmp.npz"
    # numpy's stub types **kwds as if one could be allow_pickle
    np.savez_compressed(tmp, **_arrays(net))  # type: ignore[arg-type]
    tmp.replace(path)
    body = {"format": FORMAT, "name": net.name, **manifest}
    (folder / f"{net.name}.json").write_text(json.dumps(body, indent=2) + "\n")
    return path


def _i(a: np.lib.npyio.NpzFile, key: str) -> Ints:
    return np.asarray(a[key], dtype=np.int64)


def _f(a: np.lib.npyio.NpzFile, key: str) -> Floats:
    return np.asarray(a[key], dtype=np.float64)


def _arcs(a: np.lib.npyio.NpzFile, p: str) -> Arcs:
    return Arcs(_i(a, f"{p}src"), _i(a, f"{p}dst"), _i(a, f"{p}ms"), _f(a, f"{p}meters"))


def _upward(a: np.lib.npyio.NpzFile, p: str) -> Upward:
    return Upward(_i(a, f"{p}ptr"), _i(a, f"{p}to"), _i(a, f"{p}ms"), _f(a, f"{p}meters"))


def _graph(a: np.lib.npyio.NpzFile, profile: Profile) -> ProfileGraph:
    p = f"{profile.value}."
    h = f"{p}hierarchy."
    hierarchy = Hierarchy(
        _i(a, f"{h}nodes"),
        _i(a, f"{h}level_ptr"),
        _upward(a, f"{h}out."),
        _upward(a, f"{h}into."),
        _i(a, f"{h}core_ms"),
        _f(a, f"{h}core_meters"),
    )
    return ProfileGraph(
        profile, _i(a, f"{p}nodes"), _arcs(a, f"{p}arcs."), _i(a, f"{p}snappable"), hierarchy
    )


def load(path: Path) -> RoadNetwork:
    with np.load(path) as a:
        r = "roads."
        roads = Roads(
            _i(a, f"{r}u"), _i(a, f"{r}v"), _i(a, f"{r}road_class"), _i(a, f"{r}shape_ptr"),
            _f(a, f"{r}shape_lat"), _f(a, f"{r}shape_lon"),
        )  # fmt: skip
        present = [p for p in Profile if f"{p.value}.nodes" in a.files]
        profiles = {p: _graph(a, p) for p in present}
        return RoadNetwork(path.stem, _f(a, "lat"), _f(a, "lon"), profiles, roads)


def installed(data_dir: Path) -> list[Path]:
    """Imported networks, newest first."""
    folder = network_dir(data_dir)
    found = list(folder.glob("*.npz")) if folder.is_dir() else []
    return sorted(
        (p for p in found if not p.name.startswith(".")), key=lambda p: -p.stat().st_mtime
    )
