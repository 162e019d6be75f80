"""Request dependencies: the shared resources, a database connection, and who is calling.

Authentication and the role check live here and nowhere else: a route states what it needs by
the type of its principal parameter (Reader, Operator, Ingestor, Admin). A caller proves who it
is with a bearer token or, from the console in a browser, with the session cookie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, cast

import asyncpg
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nats.aio.client import Client
from nats.js import JetStreamContext

from commonwatch.api.auth import TokenCache, principal_for_session, principal_for_token
from commonwatch.domain.rules import Rules
from commonwatch.storage.accounts import Principal, Role


@dataclass(frozen=True, slots=True)
class Resources:
    """What the lifespan opened; one per app."""

    pool: asyncpg.Pool
    nc: Client
    js: JetStreamContext
    rules: Rules
    tokens: TokenCache
    heartbeat_s: float


async def get_resources(request: Request) -> Resources:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, per request.
    return cast(Resources, request.app.state.resources)


Res = Annotated[Resources, Depends(get_resources)]


async def connection(res: Res) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
    async with res.pool.acquire() as conn:
        yield conn


Db = Annotated[asyncpg.pool.PoolConnectionProxy, Depends(connection)]


class Permission(StrEnum):
    INGEST = "ingest"
    READ = "read"
    OPERATE = "operate"
    ADMINISTER = "administer"


# Who may do what, as data. An integration key can only hand in events.
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.INGEST, Permission.READ, Permission.OPERATE}),
    Role.INTEGRATION: frozenset({Permission.INGEST}),
}

_bearer = HTTPBearer(auto_error=False, description="An API key or an account's bearer token.")


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
    )


SESSION_COOKIE = "cw_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin(request: Request) -> bool:
    """A cookie rides along on cross-site requests in old browsers; SameSite=Strict is the main
    guard, and a changing request whose Origin names another site is refused as well."""
    origin = request.headers.get("origin")
    if request.method in _SAFE_METHODS or origin is None:
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


async def _from_session(request: Request, res: Resources, token: str) -> Principal:
    if not _same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="cross-site request refused")
    principal = await principal_for_session(res.pool, res.tokens, token)
    if principal is None:
        raise _unauthorized("session expired or signed out: sign in again")
    return principal


async def authenticate(
    request: Request,
    res: Res,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await _from_session(request, res, cookie)
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    principal = await principal_for_token(res.pool, res.tokens, credentials.credentials)
    if principal is None:
        raise _unauthorized("invalid, revoked or disabled bearer token")
    return principal


def _requires(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if permission not in GRANTS[principal.role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role} may not {permission} here",
            )
        return principal

    return check


Ingestor = Annotated[Principal, Depends(_requires(Permission.INGEST))]
Reader = Annotated[Principal, Depends(_requires(Permission.READ))]
Operator = Annotated[Principal, Depends(_requires(Permission.OPERATE))]
Admin = Annotated[Principal, Depends(_requires(Permission.ADMINISTER))]
