"""Operator commands that work with or without a running `up` on the same data dir."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import msgspec
from rich.console import Console
from rich.table import Table

from commonwatch.bus import deadletter
from commonwatch.runtime.config import Settings
from commonwatch.runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from commonwatch.runtime.supervisor import read_endpoints
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db


@contextlib.asynccontextmanager
async def servers(settings: Settings) -> AsyncIterator[Settings]:
    """The running platform's servers, or embedded ones started just for this command."""
    running = read_endpoints(settings.data_dir)
    if running or (settings.database_url and settings.nats_url):
        urls = running or {}
        yield settings.with_urls(
            database_url=settings.database_url or urls["database_url"],
            nats_url=settings.nats_url or urls["nats_url"],
        )
        return
    pg = EmbeddedPostgres(settings.data_dir / "postgres") if not settings.database_url else None
    nats = (
        EmbeddedNats(settings.data_dir / "nats", port=free_port(), mqtt_port=free_port())
        if not settings.nats_url
        else None
    )
    try:
        database_url = pg.start() if pg else settings.database_url
        if nats:
            nats.start()
        nats_url = nats.url if nats else settings.nats_url
        assert database_url and nats_url
        yield settings.with_urls(database_url=database_url, nats_url=nats_url)
    finally:
        if nats:
            nats.stop()
        if pg:
            pg.stop()


async def show_dead_letters(settings: Settings, *, limit: int, as_json: bool) -> int:
    async with servers(settings) as live:
        assert live.nats_url
        nc = await connect_nats(live.nats_url, "commonwatch-cli")
        try:
            letters = await deadletter.recent(nc.jetstream(), limit=limit)
        finally:
            await nc.close()
    if as_json:
        for letter in letters:
            print(msgspec.json.encode(letter).decode())
        return 0
    table = Table("seq", "at", "source", "reason", "subject", title="Dead letters (newest first)")
    for letter in letters:
        at = letter.at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(letter.seq), at, letter.source, letter.reason, letter.origin_subject)
    Console().print(table if letters else "No dead letters.")
    return 0


async def run_migrations(settings: Settings) -> int:
    async with servers(settings) as live:
        assert live.database_url
        applied = await db.migrate(live.database_url)
    print("applied: " + (", ".join(applied) if applied else "nothing, schema is current"))
    return 0
