"""The receiver's tables: sia_accounts, sia_supervision, sia_messages. Functions never commit.

(A repository; it lives beside the receiver because this folder is the SIA source's whole home.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import asyncpg

from commonwatch.domain.model import UNASSIGNED_PATH
from commonwatch.ingest.sia.config import Account, ConfigError, account
from commonwatch.ingest.sia.supervision import Watch
from commonwatch.storage.incidents import Conn

NOTIFY_CHANNEL = "commonwatch_sia_accounts"

MESSAGE_COLUMNS = (
    "account", "seq", "message_id", "code", "zone", "area", "event_type", "state", "encrypted",
    "event_id", "device_ts", "received_at", "lon", "lat", "jpath",
)  # fmt: skip


async def _binary_ltree(conn: asyncpg.Connection) -> None:
    # COPY speaks binary, and ltree's binary form is a version byte (1) and the text.
    await conn.set_type_codec(
        "ltree",
        encoder=lambda text: b"\x01" + text.encode(),
        decoder=lambda data: data[1:].decode(),
        schema="public",
        format="binary",
    )


async def create_pool(url: str, *, max_size: int = 3) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=max_size, init=_binary_ltree, timeout=5.0
    )
    assert pool is not None
    return pool


_ACCOUNTS = """
SELECT number, aes_key, supervision_s, window_before_s, window_after_s, community_id,
       building_id, device_id, jpath::text AS jpath
FROM sia_accounts ORDER BY number
"""


async def load_accounts(conn: Conn) -> tuple[list[Account], list[str]]:
    """The table's accounts, and a problem for each row that cannot be used."""
    accounts, problems = [], []
    for row in await conn.fetch(_ACCOUNTS):
        try:
            accounts.append(account_from_row(row))
        except ConfigError as exc:
            problems.append(str(exc))
    return accounts, problems


def account_from_row(row: asyncpg.Record) -> Account:
    return account(
        row["number"],
        key=row["aes_key"],
        supervision_s=row["supervision_s"],
        window_before_s=row["window_before_s"],
        window_after_s=row["window_after_s"],
        community=row["community_id"],
        building=row["building_id"],
        device=row["device_id"],
        jpath=row["jpath"],
    )


async def place_paths(conn: Conn, accounts: Sequence[Account]) -> list[Account]:
    """Static accounts with the jpath of their building, else of their community. A building
    the registry does not know is dropped (its events still carry the community)."""
    communities = sorted({a.community for a in accounts if a.community})
    buildings = sorted({a.building for a in accounts if a.building})
    if not communities:
        return list(accounts)
    places = {
        (r["kind"], r["id"]): r["jpath"]
        for r in await conn.fetch(
            "SELECT 'b' AS kind, id, jpath::text AS jpath FROM buildings WHERE id = ANY($1) "
            "UNION ALL SELECT 'c', id, jpath::text FROM communities WHERE id = ANY($2)",
            buildings,
            communities,
        )
    }
    return [_placed(a, places) for a in accounts]


def _placed(item: Account, places: dict[tuple[str, str], str]) -> Account:
    building = places.get(("b", item.building or ""))
    community = places.get(("c", item.community or ""))
    return replace(
        item,
        building=item.building if building else None,
        jpath=building or community or UNASSIGNED_PATH,
    )


async def load_watches(conn: Conn) -> list[Watch]:
    rows = await conn.fetch(
        "SELECT account, last_seen, failed_since, jpath::text AS jpath FROM sia_supervision"
    )
    return [Watch(r["account"], r["last_seen"], r["failed_since"], r["jpath"]) for r in rows]


async def save_watches(conn: Conn, watches: Sequence[Watch]) -> None:
    if not watches:
        return
    await conn.execute(
        "INSERT INTO sia_supervision (account, last_seen, failed_since, jpath) "
        "SELECT a, s, f, j::ltree FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], "
        "$4::text[]) AS x(a, s, f, j) ON CONFLICT (account) DO UPDATE SET "
        "last_seen = EXCLUDED.last_seen, failed_since = EXCLUDED.failed_since, "
        "jpath = EXCLUDED.jpath, updated_at = now()",
        [w.account for w in watches],
        [w.last_seen for w in watches],
        [w.failed_since for w in watches],
        [w.jpath for w in watches],
    )


async def append_messages(conn: Conn, rows: Sequence[tuple[object, ...]]) -> None:
    if rows:
        await conn.copy_records_to_table("sia_messages", records=rows, columns=MESSAGE_COLUMNS)


async def purge_messages(conn: Conn) -> int:
    """Delete log rows older than the `sia_messages` retention policy (90 days by default)."""
    status = await conn.execute(
        "DELETE FROM sia_messages WHERE received_at < now() - make_interval(days => "
        "(SELECT days FROM retention_policies WHERE data_class = 'sia_messages'))"
    )
    return int(status.rsplit(" ", 1)[-1])


async def ensure_devices(conn: Conn, devices: Sequence[tuple[str, Account]]) -> None:
    """Register zones of placed accounts, so the worker resolves their building and jpath.
    An existing device row (an admin may have named or moved it) is left as it is."""
    rows = [
        (d, a.community, a.building, a.jpath)
        for d, a in devices
        if a.community and a.jpath != UNASSIGNED_PATH  # a community the registry knows
    ]
    await conn.executemany(
        "INSERT INTO devices (id, kind, community_id, building_id, jpath) "
        "VALUES ($1, 'alarm_panel', $2, $3, $4::text::ltree) ON CONFLICT (id) DO NOTHING",
        rows,
    )
