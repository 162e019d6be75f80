"""Use cases behind /api/v1/sia/accounts: list, save, delete. Each owns its transaction and
notifies running receivers, which reload at once (and every few seconds regardless)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from commonwatch.domain.model import UNASSIGNED_PATH
from commonwatch.handlers.accounts import in_scope
from commonwatch.ingest.sia.config import Account
from commonwatch.ingest.sia.store import NOTIFY_CHANNEL
from commonwatch.storage.accounts import Principal
from commonwatch.storage.incidents import Conn


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    """An account as the API shows it: never its key, only whether it has one."""

    number: str
    encrypted: bool
    supervision_s: float
    window_before_s: float
    window_after_s: float
    community: str | None
    building: str | None
    device: str | None
    jpath: str
    last_seen: datetime | None
    failed_since: datetime | None
    updated_at: datetime


class AccountList(msgspec.Struct, frozen=True):
    items: list[AccountView]


class NotFound(LookupError):
    pass


class Rejected(ValueError):
    """Names a community or building that does not exist or does not fit."""


class OutOfScope(PermissionError):
    pass


_VIEW = """
SELECT a.number, a.aes_key IS NOT NULL AS encrypted, a.supervision_s, a.window_before_s,
       a.window_after_s, a.community_id AS community, a.building_id AS building,
       a.device_id AS device, a.jpath::text AS jpath, s.last_seen, s.failed_since, a.updated_at
FROM sia_accounts a LEFT JOIN sia_supervision s ON s.account = a.number
"""


async def list_accounts(conn: Conn, *, by: Principal) -> AccountList:
    rows = await conn.fetch(
        _VIEW + "WHERE $1 = '' OR a.jpath <@ $1::text::ltree ORDER BY a.number", by.scope
    )
    return AccountList([AccountView(**dict(r)) for r in rows])


async def _place(conn: Conn, draft: Account) -> str:
    if draft.building:
        row = await conn.fetchrow(
            "SELECT community_id, jpath::text AS jpath FROM buildings WHERE id = $1", draft.building
        )
        if row is None or row["community_id"] != draft.community:
            raise Rejected(f"no building {draft.building!r} in community {draft.community!r}")
        return str(row["jpath"])
    if draft.community:
        path = await conn.fetchval(
            "SELECT jpath::text FROM communities WHERE id = $1", draft.community
        )
        if path is None:
            raise Rejected(f"no community {draft.community!r}")
        return str(path)
    return UNASSIGNED_PATH


async def _check_scope(conn: Conn, number: str, jpath: str, by: Principal) -> None:
    current = await conn.fetchval(
        "SELECT jpath::text FROM sia_accounts WHERE number = $1 FOR UPDATE", number
    )
    for path in (jpath, current):
        if path is not None and not in_scope(path, by.scope):
            raise OutOfScope(f"account {number} lies at {path}, outside your jurisdiction")


_UPSERT = """
INSERT INTO sia_accounts (number, aes_key, supervision_s, window_before_s, window_after_s,
                          community_id, building_id, device_id, jpath)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::ltree)
ON CONFLICT (number) DO UPDATE SET aes_key = EXCLUDED.aes_key,
    supervision_s = EXCLUDED.supervision_s, window_before_s = EXCLUDED.window_before_s,
    window_after_s = EXCLUDED.window_after_s, community_id = EXCLUDED.community_id,
    building_id = EXCLUDED.building_id, device_id = EXCLUDED.device_id, jpath = EXCLUDED.jpath,
    updated_at = now()
RETURNING (xmax = 0) AS created
"""


async def save_account(conn: Conn, draft: Account, *, by: Principal) -> tuple[AccountView, bool]:
    """Create or replace an account; (its view, whether it is new)."""
    async with conn.transaction():
        jpath = await _place(conn, draft)
        await _check_scope(conn, draft.number, jpath, by)
        created = await conn.fetchval(
            _UPSERT, draft.number, draft.key, draft.supervision_s, draft.window_before_s,
            draft.window_after_s, draft.community, draft.building, draft.device, jpath,
        )  # fmt: skip
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, draft.number)
        row = await conn.fetchrow(_VIEW + "WHERE a.number = $1", draft.number)
    assert row is not None
    return AccountView(**dict(row)), bool(created)


async def delete_account(conn: Conn, number: str, *, by: Principal) -> None:
    async with conn.transaction():
        path = await conn.fetchval(
            "SELECT jpath::text FROM sia_accounts WHERE number = $1 FOR UPDATE", number
        )
        if path is None or not in_scope(path, by.scope):
            raise NotFound(f"no SIA account {number!r}")
        await conn.execute("DELETE FROM sia_accounts WHERE number = $1", number)
        await conn.execute("DELETE FROM sia_supervision WHERE account = $1", number)
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, number)
