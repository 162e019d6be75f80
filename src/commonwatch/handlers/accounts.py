"""Use cases: bootstrap the administrator, issue API keys. Only hashes of tokens are stored."""

from __future__ import annotations

import hashlib
import secrets

from commonwatch.domain.model import ltree_label
from commonwatch.storage import accounts
from commonwatch.storage.accounts import ADMIN_ID, Role
from commonwatch.storage.incidents import Conn


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def in_scope(jpath: str | None, scope: str) -> bool:
    """Whether a place at `jpath` lies in the subtree `scope` ('' is the whole tree)."""
    if not scope:
        return True
    if jpath is None:
        return False
    return jpath == scope or jpath.startswith(scope + ".")


async def ensure_admin(conn: Conn, *, token: str | None) -> str | None:
    """Create the 'admin' account when missing; returns a token only when one was generated.

    The caller prints a generated token once: it is not stored and cannot be shown again.
    """
    async with conn.transaction():
        created = await accounts.insert_account(
            conn, account_id=ADMIN_ID, kind="user", name="Administrator", role=Role.ADMIN, scope=""
        )
        if not created and token is None:
            return None
        chosen = token or new_token()
        await accounts.add_credential(
            conn, token_hash=hash_token(chosen), account_id=ADMIN_ID, label="admin bearer token"
        )
    return None if token else chosen


async def create_api_key(conn: Conn, *, name: str, role: str, scope: str) -> str:
    """A new account with one key, for an integration, a device gateway or a scoped operator."""
    parsed = Role(role)  # ValueError names the bad role
    token = new_token()
    account_id = f"{ltree_label(name)}-{secrets.token_hex(4)}"
    kind = "integration" if parsed is Role.INTEGRATION else "user"
    async with conn.transaction():
        await accounts.insert_account(
            conn, account_id=account_id, kind=kind, name=name, role=parsed, scope=scope
        )
        await accounts.add_credential(
            conn, token_hash=hash_token(token), account_id=account_id, label=f"api key: {name}"
        )
    return token
