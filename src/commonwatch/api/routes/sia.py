"""SIA DC-09 accounts: which alarm panels the receiver accepts, with their keys and supervision.

Admin only. A key is write-only: responses say whether an account has one, never what it is.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from commonwatch.api.deps import Admin, Db
from commonwatch.api.schemas import json_response
from commonwatch.ingest.sia import admin
from commonwatch.ingest.sia.config import (
    DEFAULT_AFTER_S,
    DEFAULT_BEFORE_S,
    DEFAULT_SUPERVISION_S,
    MAX_WINDOW_S,
    ConfigError,
    account,
)

router = APIRouter(tags=["sia"])

NUMBER = r"^[0-9A-Fa-f]{3,16}$"
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,95}$"
Ident = Annotated[str, Field(pattern=IDENT)]
Seconds = Annotated[float, Field(ge=0, le=MAX_WINDOW_S)]


class SiaAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, Field(pattern=NUMBER, description="Account, 3-16 hex digits.")]
    key: Annotated[
        str | None,
        Field(
            min_length=16,
            max_length=68,
            repr=False,
            description="AES key: 16/24/32 characters (used as ASCII), or 32/48/64 hex digits "
            "(prefix `hex:` to force hex). Write-only.",
        ),
    ] = None
    supervision_s: Seconds = Field(DEFAULT_SUPERVISION_S, description="0: not supervised")
    window_before_s: Seconds = DEFAULT_BEFORE_S
    window_after_s: Seconds = DEFAULT_AFTER_S
    community: Ident | None = None
    building: Ident | None = None
    device: Ident | None = Field(None, description="The panel's device id; default sia-<number>")


def _inline(struct: type) -> dict[str, Any]:
    """A msgspec type's JSON Schema with its definitions inlined (no components needed)."""
    schema = msgspec.json.schema(struct)
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


def _documented(
    struct: type | None, codes: tuple[int, ...], errors: tuple[int, ...] = ()
) -> dict[int | str, Any]:
    problem = {"$ref": "#/components/schemas/Problem"}
    out: dict[int | str, Any] = {}
    if struct is not None:
        body = {"description": struct.__name__, "content": _json(_inline(struct))}
        out.update((code, body) for code in codes)
    for error in sorted({*errors, 401, 403, 422}):
        out[error] = {"description": "Problem", "content": _json(problem)}
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


@router.get(
    "/sia/accounts",
    summary="SIA accounts you administer, with their supervision state",
    responses=_documented(admin.AccountList, (200,)),
)
async def list_sia_accounts(caller: Admin, conn: Db) -> Response:
    return json_response(await admin.list_accounts(conn, by=caller))


@router.post(
    "/sia/accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Create or replace a SIA account (201 created, 200 replaced)",
    responses=_documented(admin.AccountView, (201, 200)),
)
async def save_sia_account(body: SiaAccountIn, caller: Admin, conn: Db) -> Response:
    try:
        draft = account(body.number, **body.model_dump(exclude={"number"}))
        view, created = await admin.save_account(conn, draft, by=caller)
    except (ConfigError, admin.Rejected) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    except admin.OutOfScope as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None
    return json_response(view, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.delete(
    "/sia/accounts/{number}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop accepting a SIA account",
    responses=_documented(None, (), (404,)),
)
async def delete_sia_account(
    number: Annotated[str, Path(pattern=NUMBER)], caller: Admin, conn: Db
) -> Response:
    try:
        await admin.delete_account(conn, number.upper(), by=caller)
    except admin.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
