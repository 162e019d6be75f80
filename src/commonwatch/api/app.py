"""The app factory: routes, error handling, and a lifespan that opens PostgreSQL and NATS.

Nothing connects at import time; create_app only describes, the lifespan connects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from nats.aio.client import Client
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import commonwatch
from commonwatch.api import provisioning
from commonwatch.api.auth import TokenCache
from commonwatch.api.deps import Resources
from commonwatch.api.routes import (
    console,
    dispatch,
    events,
    incidents,
    ops,
    registry,
    routing,
    session,
    sia,
    sources,
    stream,
)
from commonwatch.api.schemas import Problem, json_response, openapi_components
from commonwatch.bus.streams import ensure_streams
from commonwatch.domain.model import IllegalTransition
from commonwatch.domain.rules import Rules
from commonwatch.handlers import dispatch as dispatching
from commonwatch.handlers.incidents import IncidentNotFound
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
CLOSE_TIMEOUT_S = 10.0


def create_app(
    *,
    database_url: str,
    nats_url: str,
    rules: Rules,
    token_cache_s: float = 30.0,
    heartbeat_s: float = 15.0,
) -> FastAPI:
    lifespan = _lifespan(database_url, nats_url, rules, token_cache_s, heartbeat_s)
    app = FastAPI(
        title="Commonwatch",
        version=commonwatch.__version__,
        summary="Community safety operations: events in, incidents out.",
        lifespan=lifespan,
    )
    # sources before dispatch: /units/positions must win over /units/{unit_id}.
    routers = (
        events.router,
        incidents.router,
        registry.router,
        stream.router,
        sources.router,
        dispatch.router,
        session.router,
        console.router,
        sia.router,
        routing.router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(ops.dead_letters_router, prefix=API_PREFIX)
    app.include_router(ops.router)
    app.include_router(console.shell_router)
    _add_error_handlers(app)
    app.add_middleware(CatchAll)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _lifespan(
    database_url: str, nats_url: str, rules: Rules, token_cache_s: float, heartbeat_s: float
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            pool = await db.create_pool(database_url)
            stack.push_async_callback(_close_pool, pool)
            nc = await connect_nats(nats_url, "commonwatch-api")
            stack.push_async_callback(_close_nats, nc)
            js = nc.jetstream()
            await ensure_streams(js)
            app.state.resources = Resources(
                pool=pool, nc=nc, js=js, rules=rules, tokens=TokenCache(token_cache_s),
                heartbeat_s=heartbeat_s,
            )  # fmt: skip
            yield

    return lifespan


async def _close_pool(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT_S)
    except TimeoutError:
        pool.terminate()


async def _close_nats(nc: Client) -> None:
    # drain() waits for a server that may be gone; close() does not.
    try:
        if nc.is_connected:
            await nc.drain()
        else:
            await nc.close()
    except Exception as exc:  # a half-closed socket must not fail the shutdown
        log.warning("closing the NATS connection: %s", exc)


def _problem(status_code: int, detail: str) -> Response:
    return json_response(Problem(detail=detail), status_code)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{error.get('msg', 'invalid')} - at `{where}`")
    return "; ".join(parts) or "invalid request"


# Domain and use-case errors as data: the exception's message is the `detail`.
STATUS_FOR: dict[type[Exception], int] = {
    IncidentNotFound: status.HTTP_404_NOT_FOUND,
    IllegalTransition: status.HTTP_409_CONFLICT,
    provisioning.Conflict: status.HTTP_409_CONFLICT,
    provisioning.Rejected: status.HTTP_422_UNPROCESSABLE_CONTENT,
    provisioning.OutOfScope: status.HTTP_403_FORBIDDEN,
    dispatching.UnitNotFound: status.HTTP_404_NOT_FOUND,
    dispatching.Conflict: status.HTTP_409_CONFLICT,
    dispatching.Refused: status.HTTP_409_CONFLICT,
    dispatching.Rejected: status.HTTP_422_UNPROCESSABLE_CONTENT,
    dispatching.OutOfScope: status.HTTP_403_FORBIDDEN,
}
UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    ConnectionError,
)


async def _validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, _validation_detail(exc))


async def _known(_: Request, exc: Exception) -> Response:
    code = next(c for kind, c in STATUS_FOR.items() if isinstance(exc, kind))
    return _problem(code, str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("%s %s: backend unavailable: %s", request.method, request.url.path, exc)
    detail = "the database or the event bus is unavailable; retry shortly"
    return _problem(status.HTTP_503_SERVICE_UNAVAILABLE, detail)


class CatchAll:
    """Answers 500 with a JSON detail for an exception nothing else handled, and swallows it.

    Starlette's own handler for Exception re-raises after answering, and the server then
    closes the connection: a keep-alive client would see its next request fail.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise  # half a response is out: only closing the connection can tell the client
            detail = "internal error; it has been logged"
            await _problem(status.HTTP_500_INTERNAL_SERVER_ERROR, detail)(scope, receive, send)


def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    for kind in STATUS_FOR:
        app.add_exception_handler(kind, _known)
    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in openapi_components().items():
                components.setdefault(name, definition)
            app.openapi_schema = schema
        return app.openapi_schema

    return build
