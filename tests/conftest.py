"""Shared fixtures. Integration and e2e tests talk to real embedded PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commonwatch.runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port


@dataclass(frozen=True)
class Servers:
    database_url: str
    nats_url: str
    mqtt_port: int
    root: Path


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("servers")
    pg = EmbeddedPostgres(root / "pg")
    database_url = pg.start()
    nats_server = EmbeddedNats(root / "nats", port=free_port(), mqtt_port=free_port())
    nats_server.start()
    try:
        yield Servers(database_url, nats_server.url, nats_server.mqtt_port, root)
    finally:
        nats_server.stop()
        pg.stop()
