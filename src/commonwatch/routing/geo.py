"""Vectorised distances and a local metric projection for snapping. Pure."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from commonwatch.domain.travel import EARTH_RADIUS_M

Floats = NDArray[np.float64]


def haversine_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> Floats:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(
        2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=np.float64
    )


class LocalProjection:
    """Equirectangular metres around a reference latitude: within a city, errors stay < 0.5 %."""

    def __init__(self, ref_lat: float, ref_lon: float) -> None:
        self.ref_lat = ref_lat
        self.ref_lon = ref_lon
        self.kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(ref_lat))
        self.ky = np.radians(1.0) * EARTH_RADIUS_M

    def xy(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
        x = (np.asarray(lon, dtype=np.float64) - self.ref_lon) * self.kx
        y = (np.asarray(lat, dtype=np.float64) - self.ref_lat) * self.ky
        return np.column_stack([x, y])
