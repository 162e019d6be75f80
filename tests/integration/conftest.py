"""Fixtures for the API tests: the app on a real port, in front of the real servers, and the
people who call it (an admin, an operator of the north district, an outsider from the south
district, an integration key, and someone with no key at all).

Every test works inside a city of its own name, so data left by other tests never interferes.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
import uvicorn
from nats.aio.client import Client
from nats.js import JetStreamContext

from commonwatch.api.app import create_app
from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.handlers.accounts import create_api_key, ensure_admin, new_token
from commonwatch.handlers.ingest import ingest_batch
from commonwatch.runtime.embedded import free_port
from commonwatch.runtime.rules import load_rules
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db
from tests.conftest import Servers

RULES = load_rules(None)
# Short enough that a revoked key is seen as revoked within a test, long enough to be exercised.
TOKEN_CACHE_S = 0.5
HEARTBEAT_S = 1.0


@dataclass(frozen=True)
class Api:
    base_url: str
    server: uvicorn.Server


def serve_in_thread(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        access_log=False,
    )
    server = uvicorn.Server(config)
    # Its own thread and loop, as in production: the tests' loop only ever speaks HTTP to it.
    thread = threading.Thread(target=server.run, name="api-under-test", daemon=True)
    thread.start()
    return server, thread


async def until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    for _ in range(300):
        if server.started or not thread.is_alive():
            break
        await asyncio.sleep(0.05)
    assert server.started, "the API did not start; see the log above"


@pytest.fixture(scope="session")
async def api(servers: Servers) -> AsyncIterator[Api]:
    await db.migrate(servers.database_url)
    app = create_app(
        database_url=servers.database_url,
        nats_url=servers.nats_url,
        rules=RULES,
        token_cache_s=TOKEN_CACHE_S,
        heartbeat_s=HEARTBEAT_S,
    )
    port = free_port()
    server, thread = serve_in_thread(app, port)
    await until_started(server, thread)
    yield Api(f"http://127.0.0.1:{port}", server)
    server.should_exit = True
    await asyncio.to_thread(thread.join, 15)


@pytest.fixture
async def pg(servers: Servers, api: Api) -> AsyncIterator[asyncpg.Connection]:
    conn = await db.connect(servers.database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def bus(servers: Servers) -> AsyncIterator[JetStreamContext]:
    nc: Client = await connect_nats(servers.nats_url, "api-tests")
    yield nc.jetstream()
    await nc.close()


@dataclass(frozen=True)
class City:
    """A city of our own: districts north (the operator's) and south (the outsider's)."""

    name: str

    @property
    def north(self) -> str:
        return f"{self.name}.north"

    @property
    def south(self) -> str:
        return f"{self.name}.south"


@dataclass(frozen=True)
class Keys:
    admin: str
    operator: str
    outsider: str
    integration: str


@pytest.fixture(scope="session")
def city() -> City:
    return City(f"apitest_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
async def keys(servers: Servers, api: Api, city: City) -> Keys:
    conn = await db.connect(servers.database_url)
    try:
        admin = new_token()
        await ensure_admin(conn, token=admin)
        return Keys(
            admin=admin,
            operator=await create_api_key(
                conn, name="north desk", role="operator", scope=city.north
            ),
            outsider=await create_api_key(
                conn, name="south desk", role="operator", scope=city.south
            ),
            integration=await create_api_key(
                conn, name="alarm gateway", role="integration", scope=""
            ),
        )
    finally:
        await conn.close()


def _client(api: Api, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=10.0)


@pytest.fixture
async def admin_client(api: Api, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(api, keys.admin) as client:
        yield client


@pytest.fixture
async def operator_client(api: Api, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """An operator whose jurisdiction is the north district."""
    async with _client(api, keys.operator) as client:
        yield client


@pytest.fixture
async def outsider(api: Api, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """An operator of the south district: sees nothing of the north."""
    async with _client(api, keys.outsider) as client:
        yield client


@pytest.fixture
async def integration_client(api: Api, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(api, keys.integration) as client:
        yield client


@pytest.fixture
async def anonymous(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(api, None) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Scene:
    """Builds places through the API (as an admin would) and raises alarms through the real
    ingest use case (as the worker would)."""

    city: City
    admin: httpx.AsyncClient
    conn: asyncpg.Connection

    async def community(self, district: str = "north") -> str:
        ident = unique(f"c-{district}")
        body = {
            "id": ident,
            "name": f"Estate {ident}",
            "parent": f"{self.city.name}.{district}",
        }
        response = await self.admin.post("/api/v1/communities", json=body)
        assert response.status_code == 201, response.text
        return ident

    async def device(
        self, community: str, building: str | None = None, kind: str = "sensor"
    ) -> str:
        ident = unique("dev")
        body = {"id": ident, "kind": kind, "community_id": community, "building_id": building}
        response = await self.admin.post("/api/v1/devices", json=body)
        assert response.status_code == 201, response.text
        return ident

    async def alarm(
        self, device: str, etype: str, *, at: datetime | None = None, state: str = "alarm"
    ) -> str:
        """Ingest one event; returns the id of the incident it opened or joined."""
        when = at or datetime.now(UTC)
        event = DeviceEvent(
            id=unique("ev"),
            device_id=device,
            community_id="",
            type=etype,
            state=EventState(state),
            device_ts=when,
            received_ts=when,
        )
        await ingest_batch(self.conn, [event], [None], rules=RULES)
        incident = await self.conn.fetchval(
            "SELECT incident_id FROM events WHERE id = $1", event.id
        )
        return str(incident)


@pytest.fixture
def scene(city: City, admin_client: httpx.AsyncClient, pg: asyncpg.Connection) -> Scene:
    return Scene(city, admin_client, pg)
