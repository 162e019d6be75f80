"""Health, readiness and the dead-letter stream: what an operator of the platform looks at."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from commonwatch.api.deps import Admin, Res, Resources
from commonwatch.api.schemas import Health, Problem, documented, json_response
from commonwatch.bus import deadletter

CHECK_TIMEOUT_S = 2

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive", responses=documented(Health, public=True))
async def healthz() -> Response:
    return json_response(Health(status="ok", checked_at=datetime.now(UTC)))


@router.get(
    "/readyz",
    summary="PostgreSQL and NATS are reachable",
    responses=documented(Health, errors=(503,), public=True),
)
async def readyz(res: Res) -> Response:
    problems = [p for p in await asyncio.gather(_database(res), _bus(res)) if p]
    if problems:
        return json_response(
            Problem(detail="; ".join(problems)), status.HTTP_503_SERVICE_UNAVAILABLE
        )
    return json_response(Health(status="ready", checked_at=datetime.now(UTC)))


async def _database(res: Resources) -> str | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            async with res.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
    except Exception as exc:
        return f"database unreachable: {_reason(exc)}"
    return None


async def _bus(res: Resources) -> str | None:
    if not res.nc.is_connected:
        return "nats unreachable: not connected"
    try:
        await res.nc.flush(timeout=CHECK_TIMEOUT_S)
    except Exception as exc:
        return f"nats unreachable: {_reason(exc)}"
    return None


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


dead_letters_router = APIRouter(tags=["operations"])


@dead_letters_router.get(
    "/dead-letters",
    summary="Input that could not be used, newest first, with the reason",
    responses=documented(deadletter.DeadLetterView, errors=(403,), many=True),
)
async def dead_letters(
    caller: Admin, res: Res, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> Response:
    return json_response(await deadletter.recent(res.js, limit=limit))
