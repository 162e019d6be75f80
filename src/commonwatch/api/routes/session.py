"""Sign in with a password, for people in a browser: an HttpOnly session cookie, then sign out.

The cookie is SameSite=Strict and HttpOnly: scripts cannot read it, other sites cannot send it,
and the browser's EventSource carries it to GET /stream like any other same-site request.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated

import msgspec
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from commonwatch.api.deps import SESSION_COOKIE, Admin, Db, Res, authenticate
from commonwatch.api.routes.console import documented_inline
from commonwatch.api.schemas import Ident, json_response
from commonwatch.handlers import accounts as use_cases
from commonwatch.storage import accounts
from commonwatch.storage.accounts import Principal

router = APIRouter(tags=["session"])

MAX_FAILURES = 10
FAILURE_WINDOW_S = 300.0


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: Ident
    password: Annotated[str, Field(min_length=1, max_length=512)]


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, Field(min_length=10, max_length=512)]


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    name: str
    role: str
    scope: str


@dataclass
class FailedSignIns:
    """Wrong passwords per (client, account) in a sliding window: guessing gets slow and loud."""

    limit: int = MAX_FAILURES
    window_s: float = FAILURE_WINDOW_S
    _seen: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def blocked(self, key: tuple[str, str]) -> bool:
        recent = self._seen.get(key)
        if recent is None:
            return False
        while recent and recent[0] < time.monotonic() - self.window_s:
            recent.popleft()
        return len(recent) >= self.limit

    def add(self, key: tuple[str, str]) -> None:
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen.setdefault(key, deque()).append(time.monotonic())


_failures = FailedSignIns()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def _view(conn: Db, principal: Principal) -> SessionView:
    name = await accounts.account_name(conn, principal.account_id) or principal.account_id
    return SessionView(
        account_id=principal.account_id, name=name, role=principal.role.value, scope=principal.scope
    )


@router.post(
    "/session",
    summary="Sign in with an account and its password; sets the session cookie",
    responses=documented_inline(SessionView, errors=(401, 429), public=True),
)
async def sign_in(body: SignIn, request: Request, conn: Db) -> Response:
    key = (request.client.host if request.client else "", body.account)
    if _failures.blocked(key):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, detail="too many failed sign-ins; wait a few minutes"
        )
    token = await use_cases.sign_in(conn, account_id=body.account, password=body.password)
    if token is None:
        _failures.add(key)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong account or password")
    principal = await accounts.principal_for_session(conn, use_cases.session_hash(token))
    assert principal is not None
    response = json_response(await _view(conn, principal))
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(use_cases.SESSION_TTL.total_seconds()), path="/",
        httponly=True, samesite="strict", secure=_secure(request),
    )  # fmt: skip
    return response


@router.get("/session", summary="Who is signed in", responses=documented_inline(SessionView))
async def whoami(caller: Annotated[Principal, Depends(authenticate)], conn: Db) -> Response:
    return json_response(await _view(conn, caller))


@router.delete(
    "/session", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out: ends the session"
)
async def sign_out(request: Request, res: Res, conn: Db) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await use_cases.sign_out(conn, token)
        res.tokens.drop(use_cases.session_hash(token))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.put(
    "/accounts/{account_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set an account's password (its open sessions end)",
    responses={404: {"description": "Problem"}},
)
async def set_password(account_id: str, body: NewPassword, caller: Admin, conn: Db) -> Response:
    if not await use_cases.set_password(conn, account_id=account_id, password=body.password):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no account {account_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
