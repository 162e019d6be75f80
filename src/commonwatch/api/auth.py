"""Bearer tokens and session cookies: hashed, looked up once, remembered briefly so that ingest
stays fast."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import asyncpg

from commonwatch.handlers.accounts import hash_token, session_hash
from commonwatch.storage import accounts
from commonwatch.storage.accounts import Principal

MAX_ENTRIES = 10_000


@dataclass
class TokenCache:
    """Remembers valid tokens for `ttl_s`; a revoked token keeps working at most that long.

    Unknown tokens are not remembered, so a key created a moment ago works at once.
    """

    ttl_s: float = 30.0
    _entries: dict[bytes, tuple[float, Principal]] = field(default_factory=dict)

    def get(self, token_hash: bytes) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires, principal = entry
        if time.monotonic() >= expires:
            del self._entries[token_hash]
            return None
        return principal

    def drop(self, token_hash: bytes) -> None:
        self._entries.pop(token_hash, None)

    def put(self, token_hash: bytes, principal: Principal) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + self.ttl_s, principal)


async def principal_for_token(
    pool: asyncpg.Pool, cache: TokenCache, token: str
) -> Principal | None:
    token_hash = hash_token(token)
    cached = cache.get(token_hash)
    if cached is not None:
        return cached
    async with pool.acquire() as conn:
        principal = await accounts.principal_for(conn, token_hash)
    if principal is not None and cache.ttl_s > 0:
        cache.put(token_hash, principal)
    return principal


async def principal_for_session(
    pool: asyncpg.Pool, cache: TokenCache, token: str
) -> Principal | None:
    """The account behind a browser session cookie; sign-out drops it from this cache at once."""
    token_hash = session_hash(token)
    cached = cache.get(token_hash)
    if cached is not None:
        return cached
    async with pool.acquire() as conn:
        principal = await accounts.principal_for_session(conn, token_hash)
    if principal is not None and cache.ttl_s > 0:
        cache.put(token_hash, principal)
    return principal
