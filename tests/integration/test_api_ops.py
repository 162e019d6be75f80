"""Health, readiness, dead letters, and errors that must not take the server down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from commonwatch.api.app import create_app
from commonwatch.bus import deadletter
from commonwatch.runtime.embedded import EmbeddedNats, free_port
from tests.conftest import Servers
from tests.integration.conftest import RULES, Api, Keys, serve_in_thread, until_started


async def test_it_says_it_is_alive_without_a_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_it_says_it_is_ready_when_postgres_and_nats_answer(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_it_lists_dead_letters_newest_first_with_their_reason(
    admin_client: httpx.AsyncClient, bus: JetStreamContext
) -> None:
    summary = deadletter.summarise(b'{"type": 5, "owner": "someone"}')
    letters = [
        deadletter.DeadLetter("http", "first reason", "commonwatch.events.x.y", summary),
        deadletter.DeadLetter("mqtt", "second reason", "commonwatch.events.x.z", None),
    ]
    await deadletter.publish(bus, letters)
    response = await admin_client.get("/api/v1/dead-letters", params={"limit": 2})
    assert response.status_code == 200
    items = response.json()
    assert [(i["source"], i["reason"]) for i in items] == [
        ("mqtt", "second reason"),
        ("http", "first reason"),
    ]
    assert items[0]["body"] is None
    assert json.loads(items[1]["body"])["keys"] == ["owner", "type"]
    assert items[0]["seq"] > items[1]["seq"]


@dataclass
class LonelyApi:
    """An API with a NATS server of its own, which a test may stop."""

    client: httpx.AsyncClient
    nats: EmbeddedNats


@pytest.fixture
async def lonely_api(
    servers: Servers, api: Api, keys: Keys, tmp_path: Path
) -> AsyncIterator[LonelyApi]:
    nats_server = EmbeddedNats(tmp_path / "nats", port=free_port(), mqtt_port=free_port())
    await asyncio.to_thread(nats_server.start)
    app = create_app(database_url=servers.database_url, nats_url=nats_server.url, rules=RULES)

    async def boom() -> None:
        raise RuntimeError("a bug nobody foresaw")

    app.add_api_route("/boom", boom)
    port = free_port()
    server, thread = serve_in_thread(app, port)
    try:
        await until_started(server, thread)
        headers = {"Authorization": f"Bearer {keys.admin}"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers
        ) as client:
            yield LonelyApi(client, nats_server)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)
        await asyncio.to_thread(nats_server.stop)


async def test_it_says_it_is_not_ready_when_nats_is_gone(lonely_api: LonelyApi) -> None:
    assert (await lonely_api.client.get("/readyz")).status_code == 200
    await asyncio.to_thread(lonely_api.nats.stop)
    response = await lonely_api.client.get("/readyz")
    for _ in range(50):
        if response.status_code == 503:
            break
        await asyncio.sleep(0.1)
        response = await lonely_api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("nats unreachable")


async def test_it_refuses_events_with_503_while_nats_is_gone(lonely_api: LonelyApi) -> None:
    await asyncio.to_thread(lonely_api.nats.stop)
    response = await lonely_api.client.post(
        "/api/v1/events", json={"type": "smoke", "device": "d-offline"}
    )
    assert response.status_code == 503
    assert "retry with the same ids" in response.json()["detail"]


async def test_it_survives_an_unexpected_error(lonely_api: LonelyApi) -> None:
    crashed = await lonely_api.client.get("/boom")
    after = await lonely_api.client.get("/healthz")
    assert crashed.status_code == 500
    assert crashed.json() == {"detail": "internal error; it has been logged"}
    assert after.status_code == 200


def test_it_connects_to_nothing_until_the_lifespan_starts() -> None:
    # Unreachable addresses: building the app and its OpenAPI document must not touch them.
    app = create_app(
        database_url="postgresql://nobody@127.0.0.1:1/none",
        nats_url="nats://127.0.0.1:1",
        rules=RULES,
    )
    document = app.openapi()
    assert "/api/v1/incidents/{incident_id}/resolve" in document["paths"]
    assert document["paths"]["/readyz"]["get"].get("security") is None
    assert not hasattr(app.state, "resources")
