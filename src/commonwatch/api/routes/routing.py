"""The imported road network as GeoJSON, for the console's map (no tile server needed)."""

from __future__ import annotations

import asyncio
import functools

import msgspec
from fastapi import APIRouter, HTTPException, Response, status

from commonwatch.api.deps import Reader
from commonwatch.routing.geojson import road_map
from commonwatch.routing.times import NetworkTravelTimes, load_travel_times
from commonwatch.runtime.config import default_data_dir

router = APIRouter(tags=["routing"])


@functools.cache
def _roads() -> bytes | None:
    # Built once per process: the network only changes with `commonwatch network import`,
    # which is followed by a restart of `up`.
    times = load_travel_times(default_data_dir())
    if not isinstance(times, NetworkTravelTimes):
        return None
    return msgspec.json.encode(road_map(times.network))


@router.get("/routing/roads", summary="Driving roads of the imported network (GeoJSON)")
async def roads(_: Reader) -> Response:
    body = await asyncio.to_thread(_roads)
    if body is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "no road network imported: run `commonwatch network import FILE.osm.pbf`",
        )
    return Response(body, media_type="application/geo+json")
