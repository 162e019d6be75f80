"""The jurisdiction tree and the places in it: city > district > community > building."""

from __future__ import annotations

from dataclasses import dataclass

from commonwatch.domain.model import ltree_label


@dataclass(frozen=True, slots=True)
class Community:
    id: str
    name: str
    jpath: str
    lat: float | None = None
    lon: float | None = None
    polygon: list[list[float]] | None = None  # [[lon, lat], ...], closed ring


@dataclass(frozen=True, slots=True)
class Building:
    id: str
    community_id: str
    name: str
    jpath: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    kind: str
    community_id: str
    jpath: str
    building_id: str | None = None
    name: str | None = None
    lat: float | None = None
    lon: float | None = None


def child_path(parent: str, ident: str) -> str:
    label = ltree_label(ident)
    return f"{parent}.{label}" if parent else label
