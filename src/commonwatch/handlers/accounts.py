"""Use cases: bootstrap the administrator, issue API keys, sign in with a password.

Only hashes of tokens, session tokens and passwords are stored.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

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


# scrypt (RFC 7914) from the standard library. N=2**14, r=8, p=1 costs ~16 MiB and ~50 ms per
# guess: slow for an attacker, quick enough for a person signing in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
SESSION_TTL = timedelta(hours=14)  # a 12-hour shift and its hand-over


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`: the parameters travel with the hash so they can be raised later."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(actual, base64.b64decode(digest))
    except ValueError:  # a malformed hash matches nothing
        return False


# Checked when the account does not exist, so that "no such account" takes as long as "wrong".
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_password() -> str:
    return secrets.token_urlsafe(12)


def session_hash(token: str) -> bytes:
    # Its own key space: a bearer token presented as a session cookie never matches.
    return hashlib.sha256(b"session\0" + token.encode()).digest()


async def ensure_admin_password(conn: Conn, *, password: str | None) -> str | None:
    """Give 'admin' a password; returns it only when it was generated (print it once).

    A chosen password (COMMONWATCH_ADMIN_PASSWORD) is set on every start; without one, a password
    is generated only when the administrator has none yet.
    """
    async with conn.transaction():
        await accounts.insert_account(
            conn, account_id=ADMIN_ID, kind="user", name="Administrator", role=Role.ADMIN, scope=""
        )
        if password is None and await accounts.password_hash_of(conn, ADMIN_ID) is not None:
            return None
        chosen = password or new_password()
        await accounts.set_password_hash(conn, ADMIN_ID, hash_password(chosen))
    return None if password else chosen


async def set_password(conn: Conn, *, account_id: str, password: str) -> bool:
    """True when the account exists; its sessions end, so a changed password locks others out."""
    encoded = await asyncio.to_thread(hash_password, password)
    async with conn.transaction():
        changed = await accounts.set_password_hash(conn, account_id, encoded)
        if changed:
            await accounts.revoke_sessions_of(conn, account_id)
    return changed


async def sign_in(
    conn: Conn, *, account_id: str, password: str, now: datetime | None = None
) -> str | None:
    """A new session token when the password is right, else None (the same for every failure)."""
    encoded = await accounts.password_hash_of(conn, account_id)
    # scrypt runs in a thread: ~50 ms on the event loop would stall every other request.
    ok = await asyncio.to_thread(verify_password, password, encoded or _DUMMY_HASH)
    if not ok or encoded is None:
        return None
    moment = now or datetime.now(UTC)
    token = new_token()
    async with conn.transaction():
        await accounts.purge_sessions(conn, ended_before=moment - timedelta(days=1))
        await accounts.insert_session(
            conn, token_hash=session_hash(token), account_id=account_id,
            expires_at=moment + SESSION_TTL,
        )  # fmt: skip
    return token


async def sign_out(conn: Conn, token: str) -> None:
    await accounts.revoke_session(conn, session_hash(token))
