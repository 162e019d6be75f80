"""/api/v1/sia/accounts: admins manage the panels the receiver accepts; keys are write-only, and
a running receiver applies a change at once."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from commonwatch.api.app import create_app
from commonwatch.api.routes import sia
from commonwatch.ingest.sia import dialler
from commonwatch.ingest.sia.dialler import Dial, read_answer, udp_exchange
from commonwatch.ingest.sia.receiver import Receiver, ReceiverOptions
from commonwatch.runtime.embedded import free_port
from tests.conftest import Servers
from tests.integration.conftest import RULES, Keys, serve_in_thread, until_started

KEY = "0123456789abcdef"


@pytest.fixture(scope="module")
async def base_url(servers: Servers, keys: Keys) -> AsyncIterator[str]:
    app = create_app(database_url=servers.database_url, nats_url=servers.nats_url, rules=RULES)
    app.include_router(sia.router, prefix="/api/v1")
    port = free_port()
    server, thread = serve_in_thread(app, port)
    await until_started(server, thread)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.to_thread(thread.join, 15)


@pytest.fixture
async def admin(base_url: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {keys.admin}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def operator(base_url: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {keys.operator}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        yield client


async def community(admin: httpx.AsyncClient) -> str:
    ident = f"c-sia-{secrets.token_hex(3)}"
    body = {"id": ident, "name": "Alarm estate", "parent": "siaapi.north"}
    response = await admin.post("/api/v1/communities", json=body)
    assert response.status_code == 201, response.text
    return ident


async def test_it_creates_lists_and_deletes_accounts_never_showing_a_key(
    admin: httpx.AsyncClient,
) -> None:
    number = secrets.token_hex(3).upper()
    place = await community(admin)
    body = {"number": number.lower(), "key": KEY, "supervision_s": 300, "community": place}
    created = await admin.post("/api/v1/sia/accounts", json=body)
    again = await admin.post("/api/v1/sia/accounts", json={**body, "supervision_s": 600})
    listed = await admin.get("/api/v1/sia/accounts")
    assert (created.status_code, again.status_code) == (201, 200), created.text
    view = created.json()
    assert (view["number"], view["encrypted"], view["community"]) == (number, True, place)
    assert view["jpath"] == f"siaapi.north.{place.replace('-', '_')}"
    assert "key" not in view and KEY not in listed.text
    (mine,) = [a for a in listed.json()["items"] if a["number"] == number]
    assert mine["supervision_s"] == 600
    assert (await admin.delete(f"/api/v1/sia/accounts/{number}")).status_code == 204
    assert (await admin.delete(f"/api/v1/sia/accounts/{number}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"number": "12", "key": KEY}, "number"),
        ({"number": "ABCD", "key": "x" * 17}, "AES key"),
        ({"number": "ABCD", "community": "c-nowhere"}, "no community"),
        ({"number": "ABCD", "supervision_s": -5}, "supervision_s"),
        ({"number": "ABCD", "colour": "red"}, "colour"),
    ],
)
async def test_it_refuses_accounts_it_could_not_use(
    admin: httpx.AsyncClient, body: dict[str, object], detail: str
) -> None:
    response = await admin.post("/api/v1/sia/accounts", json=body)
    assert response.status_code == 422 and detail in response.json()["detail"]


async def test_it_lets_only_admins_manage_accounts(operator: httpx.AsyncClient) -> None:
    assert (await operator.get("/api/v1/sia/accounts")).status_code == 403
    created = await operator.post("/api/v1/sia/accounts", json={"number": "ABCD"})
    assert created.status_code == 403


async def test_it_makes_a_running_receiver_accept_a_new_account_at_once(
    servers: Servers, admin: httpx.AsyncClient
) -> None:
    number = secrets.token_hex(3).upper()
    options = ReceiverOptions(
        nats_url=servers.nats_url, database_url=servers.database_url, port=0, reload_s=60.0
    )
    rx = Receiver(options)
    await rx.start()
    try:
        sealed = Dial(timestamp=datetime.now(UTC), key=KEY.encode())
        before = await udp_exchange("127.0.0.1", rx.port, dialler.null(number, 1, sealed))
        created = await admin.post("/api/v1/sia/accounts", json={"number": number, "key": KEY})
        assert created.status_code == 201
        for _ in range(30):  # LISTEN/NOTIFY, not the 60 s poll
            if rx.book.get(number) is not None:
                break
            await asyncio.sleep(0.1)
        after = await udp_exchange("127.0.0.1", rx.port, dialler.null(number, 2, sealed))
    finally:
        await rx.stop()
        await admin.delete(f"/api/v1/sia/accounts/{number}")
    assert read_answer(before).kind == "NAK"
    assert read_answer(after, KEY.encode()).kind == "ACK"
