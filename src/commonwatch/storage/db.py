"""Connection pools and schema migrations."""

from __future__ import annotations

import logging
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

_MIGRATION_LOCK = 7_400_001  # pg_advisory_lock key: one migrator at a time across processes


def _ltree_out(value: str) -> bytes:
    return b"\x01" + value.encode()  # ltree's binary form: a version byte, then the text


def _ltree_in(data: bytes) -> str:
    return data[1:].decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    """ltree as str, in binary form: COPY, which the ingest worker writes events with, is binary."""
    await conn.set_type_codec(
        "ltree", encoder=_ltree_out, decoder=_ltree_in, schema="public", format="binary"
    )


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection
    )
    assert pool is not None
    return pool


def migration_scripts() -> list[tuple[str, str]]:
    folder = resources.files("commonwatch.storage") / "migrations"
    scripts = [(f.name, f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(scripts)


async def migrate(url: str) -> list[str]:
    """Apply pending migrations in order; returns the names applied. Safe to run concurrently."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        applied = []
        for name, sql in migration_scripts():
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            log.info("applied migration %s", name)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()
