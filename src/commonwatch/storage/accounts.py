"""Accounts, their hashed credentials, and the audit trail of reads. Functions never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from commonwatch.storage.incidents import Conn

ADMIN_ID = "admin"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    INTEGRATION = "integration"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account, what it may do, and the jurisdiction subtree it sees."""

    account_id: str
    role: Role
    scope: str  # an ltree path; '' sees everything


async def account_exists(conn: Conn, account_id: str) -> bool:
    found = await conn.fetchval("SELECT 1 FROM accounts WHERE id = $1", account_id)
    return found is not None


async def insert_account(
    conn: Conn, *, account_id: str, kind: str, name: str, role: Role, scope: str
) -> bool:
    """True when the account was created, False when one with this id already exists."""
    created = await conn.fetchval(
        "INSERT INTO accounts (id, kind, name, role, scope) VALUES ($1, $2, $3, $4, $5::ltree) "
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        account_id,
        kind,
        name,
        role.value,
        scope,
    )
    return created is not None


async def add_credential(conn: Conn, *, token_hash: bytes, account_id: str, label: str) -> bool:
    """True when the credential is new, False when this token was already stored."""
    created = await conn.fetchval(
        "INSERT INTO credentials (token_hash, account_id, label) VALUES ($1, $2, $3) "
        "ON CONFLICT (token_hash) DO NOTHING RETURNING account_id",
        token_hash,
        account_id,
        label,
    )
    return created is not None


async def revoke_credential(conn: Conn, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE credentials SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash,
    )


async def principal_for(conn: Conn, token_hash: bytes) -> Principal | None:
    """The account behind a live credential, or None (unknown, revoked, disabled, odd role)."""
    row = await conn.fetchrow(
        "SELECT a.id, a.role, a.scope FROM credentials c JOIN accounts a ON a.id = c.account_id "
        "WHERE c.token_hash = $1 AND c.revoked_at IS NULL AND a.disabled_at IS NULL",
        token_hash,
    )
    if row is None or row["role"] not in Role.__members__.values():
        return None
    return Principal(account_id=row["id"], role=Role(row["role"]), scope=row["scope"])


async def record_read(conn: Conn, *, account_id: str, action: str, target: str, jpath: str) -> None:
    """Reads that may expose personal data (notes, timelines) leave a trace."""
    await conn.execute(
        "INSERT INTO audit_log (account_id, action, target, jpath) VALUES ($1, $2, $3, $4::ltree)",
        account_id,
        action,
        target,
        jpath,
    )


async def password_hash_of(conn: Conn, account_id: str) -> str | None:
    """The stored password hash of an enabled account, or None (no password, unknown, disabled)."""
    found = await conn.fetchval(
        "SELECT password_hash FROM accounts WHERE id = $1 AND disabled_at IS NULL", account_id
    )
    return str(found) if found is not None else None


async def set_password_hash(conn: Conn, account_id: str, password_hash: str) -> bool:
    """True when the account exists and now has this password hash."""
    updated = await conn.fetchval(
        "UPDATE accounts SET password_hash = $2 WHERE id = $1 RETURNING id",
        account_id,
        password_hash,
    )
    return updated is not None


async def account_name(conn: Conn, account_id: str) -> str | None:
    found = await conn.fetchval("SELECT name FROM accounts WHERE id = $1", account_id)
    return str(found) if found is not None else None


async def insert_session(
    conn: Conn, *, token_hash: bytes, account_id: str, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        account_id,
        expires_at,
    )


async def principal_for_session(conn: Conn, token_hash: bytes) -> Principal | None:
    """The account behind a live, unexpired session, or None."""
    row = await conn.fetchrow(
        "SELECT a.id, a.role, a.scope FROM sessions s JOIN accounts a ON a.id = s.account_id "
        "WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() "
        "AND a.disabled_at IS NULL",
        token_hash,
    )
    if row is None or row["role"] not in Role.__members__.values():
        return None
    return Principal(account_id=row["id"], role=Role(row["role"]), scope=row["scope"])


async def revoke_session(conn: Conn, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash,
    )


async def revoke_sessions_of(conn: Conn, account_id: str) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL",
        account_id,
    )


async def purge_sessions(conn: Conn, *, ended_before: datetime) -> None:
    """Forget sessions that expired or were revoked before `ended_before`."""
    await conn.execute(
        "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1", ended_before
    )
