"""The operations console's API: password sign-in with an HttpOnly cookie that also opens the
change stream, sign-out, the SOP checklist that gates resolving, escalation by hand, and the
console's own reads, each scoped to the caller's jurisdiction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from commonwatch.handlers.accounts import ensure_admin_password
from commonwatch.runtime.embedded import free_port
from commonwatch.web import shell
from commonwatch.web.serve import console_app
from tests.conftest import Servers
from tests.integration.conftest import RULES, Keys, Scene, serve_in_thread, until_started

PASSWORD = "console-test-password"
API = "/api/v1"


@dataclass(frozen=True)
class ConsoleApi:
    base_url: str


@pytest.fixture(scope="module")
async def console_api(servers: Servers, keys: Keys) -> AsyncIterator[ConsoleApi]:
    app = console_app(database_url=servers.database_url, nats_url=servers.nats_url, rules=RULES)
    port = free_port()
    server, thread = serve_in_thread(app, port)
    await until_started(server, thread)
    conn = await asyncpg.connect(servers.database_url)
    try:
        await ensure_admin_password(conn, password=PASSWORD)
    finally:
        await conn.close()
    yield ConsoleApi(f"http://127.0.0.1:{port}")
    server.should_exit = True
    await asyncio.to_thread(thread.join, 15)


@pytest.fixture
async def browser(console_api: ConsoleApi) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in browser: it holds the session cookie and nothing else."""
    async with httpx.AsyncClient(base_url=console_api.base_url, timeout=10) as client:
        answer = await client.post(
            f"{API}/session", json={"account": "admin", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        yield client


@pytest.fixture
async def desk(console_api: ConsoleApi, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """The north district's operator, by bearer token, on the app with the console mounted."""
    headers = {"Authorization": f"Bearer {keys.operator}"}
    async with httpx.AsyncClient(base_url=console_api.base_url, headers=headers, timeout=10) as c:
        yield c


async def test_it_signs_in_with_a_password_into_an_httponly_strict_cookie(
    console_api: ConsoleApi,
) -> None:
    async with httpx.AsyncClient(base_url=console_api.base_url) as client:
        answer = await client.post(
            f"{API}/session", json={"account": "admin", "password": PASSWORD}
        )
        cookie = answer.headers["set-cookie"]
        assert answer.status_code == 200
        assert answer.json()["account_id"] == "admin"
        assert "cw_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert (await client.get(f"{API}/incidents")).status_code == 200


async def test_it_opens_the_change_stream_with_the_cookie(browser: httpx.AsyncClient) -> None:
    async with browser.stream("GET", f"{API}/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first = await anext(response.aiter_text())
        assert ": connected" in first


async def test_it_answers_a_wrong_password_and_an_unknown_account_alike(
    console_api: ConsoleApi,
) -> None:
    async with httpx.AsyncClient(base_url=console_api.base_url) as client:
        wrong = await client.post(f"{API}/session", json={"account": "admin", "password": "nope"})
        nobody = await client.post(f"{API}/session", json={"account": "ghost", "password": "nope"})
    assert (wrong.status_code, nobody.status_code) == (401, 401)
    assert wrong.json() == nobody.json() == {"detail": "wrong account or password"}


async def test_it_ends_the_session_on_sign_out(
    browser: httpx.AsyncClient, console_api: ConsoleApi
) -> None:
    cookie = browser.cookies["cw_session"]
    assert (await browser.delete(f"{API}/session")).status_code == 204
    async with httpx.AsyncClient(
        base_url=console_api.base_url, cookies={"cw_session": cookie}
    ) as replaying:
        replay = await replaying.get(f"{API}/incidents")
    assert replay.status_code == 401
    assert replay.json()["detail"] == "session expired or signed out: sign in again"


async def test_it_refuses_a_cross_site_change_carried_by_the_cookie(
    browser: httpx.AsyncClient, scene: Scene
) -> None:
    incident = await scene.alarm(await scene.device(await scene.community()), "intrusion")
    forged = await browser.post(
        f"{API}/incidents/{incident}/acknowledge", headers={"Origin": "http://elsewhere.example"}
    )
    same_site = await browser.post(
        f"{API}/incidents/{incident}/acknowledge",
        headers={"Origin": str(browser.base_url).rstrip("/")},
    )
    assert forged.status_code == 403
    assert same_site.status_code == 200


async def test_it_generates_the_admin_password_once(
    console_api: ConsoleApi, pg: asyncpg.Connection
) -> None:
    await pg.execute("UPDATE accounts SET password_hash = NULL WHERE id = 'admin'")
    generated = await ensure_admin_password(pg, password=None)
    again = await ensure_admin_password(pg, password=None)
    try:
        assert generated and len(generated) >= 16
        assert again is None
        async with httpx.AsyncClient(base_url=console_api.base_url) as client:
            body = {"account": "admin", "password": generated}
            assert (await client.post(f"{API}/session", json=body)).status_code == 200
    finally:
        await ensure_admin_password(pg, password=PASSWORD)


async def test_it_refuses_to_resolve_until_required_steps_are_done_or_skipped(
    desk: httpx.AsyncClient, scene: Scene, pg: asyncpg.Connection
) -> None:
    fire = await scene.alarm(await scene.device(await scene.community()), "smoke")
    early = await desk.post(f"{API}/incidents/{fire}/resolve", json={"reason": "handled"})
    assert early.status_code == 409
    assert "still open: call_fire_service, warn_residents" in early.json()["detail"]

    done = await desk.post(
        f"{API}/incidents/{fire}/checklist/call_fire_service", json={"state": "done"}
    )
    bare = await desk.post(
        f"{API}/incidents/{fire}/checklist/warn_residents", json={"state": "skipped"}
    )
    skip = {"state": "skipped", "reason": "Building manager unreachable; residents already out"}
    skipped = await desk.post(f"{API}/incidents/{fire}/checklist/warn_residents", json=skip)
    assert done.json()["open_required"] == ["warn_residents"]
    assert bare.status_code == 422
    assert skipped.json()["open_required"] == []
    audited = await pg.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'checklist.skip' AND target = $1",
        f"{fire}/warn_residents",
    )
    assert audited == 1
    resolved = await desk.post(f"{API}/incidents/{fire}/resolve", json={"reason": "handled"})
    assert resolved.status_code == 200
    kinds = await pg.fetch(
        "SELECT kind FROM incident_timeline WHERE incident_id = $1 ORDER BY id", fire
    )
    assert [r["kind"] for r in kinds].count("ChecklistStepRecorded") == 2


async def test_it_needs_no_checklist_to_resolve_a_duplicate(
    desk: httpx.AsyncClient, scene: Scene
) -> None:
    fire = await scene.alarm(await scene.device(await scene.community()), "smoke")
    answer = await desk.post(f"{API}/incidents/{fire}/resolve", json={"reason": "duplicate"})
    assert answer.status_code == 200


async def test_it_names_an_unknown_step(desk: httpx.AsyncClient, scene: Scene) -> None:
    fire = await scene.alarm(await scene.device(await scene.community()), "smoke")
    answer = await desk.post(f"{API}/incidents/{fire}/checklist/dance", json={"state": "done"})
    assert answer.status_code == 404
    assert answer.json()["detail"] == "the fire checklist has no step 'dance'"


async def test_it_escalates_by_hand_with_the_operators_reason(
    desk: httpx.AsyncClient, scene: Scene
) -> None:
    leak = await scene.alarm(await scene.device(await scene.community()), "water_leak")
    answer = await desk.post(
        f"{API}/incidents/{leak}/escalate", json={"reason": "Water in the lift shaft"}
    )
    assert answer.status_code == 200
    assert (answer.json()["priority"], answer.json()["escalation_level"]) == (2, 1)
    timeline = (await desk.get(f"{API}/incidents/{leak}")).json()["timeline"]
    assert "Water in the lift shaft" in timeline[-1]["data"]["reason"]


async def test_it_serves_the_open_queue_and_devices_of_the_callers_jurisdiction_only(
    desk: httpx.AsyncClient, scene: Scene
) -> None:
    north, south = await scene.community("north"), await scene.community("south")
    mine = await scene.alarm(await scene.device(north), "intrusion")
    theirs = await scene.alarm(await scene.device(south), "intrusion")
    queue = {i["id"] for i in (await desk.get(f"{API}/console/queue")).json()["items"]}
    devices = {
        d["community_id"] for d in (await desk.get(f"{API}/console/devices")).json()["items"]
    }
    assert mine in queue and theirs not in queue
    assert north in devices and south not in devices
    one = (await desk.get(f"{API}/console/queue", params={"ids": mine})).json()["items"]
    assert [i["id"] for i in one] == [mine]


async def test_it_tells_the_console_its_time_zone_types_and_places(desk: httpx.AsyncClient) -> None:
    config = (await desk.get(f"{API}/console/config")).json()
    assert config["timezone"] == "UTC"  # the test city has no zone of its own
    assert {"fire", "panic"} <= {t["id"] for t in config["incident_types"]}
    assert "false_alarm" in config["resolutions"]
    overview = (await desk.get(f"{API}/console/overview")).json()
    assert set(overview["open_by_priority"]) == {"1", "2", "3", "4", "5"}


async def test_it_says_how_to_build_the_console_when_its_files_are_missing(
    console_api: ConsoleApi, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setattr(shell, "DIST", tmp_path)
    async with httpx.AsyncClient(base_url=console_api.base_url) as client:
        page = await client.get("/")
    assert page.status_code == 503
    assert "npm ci --no-audit --no-fund &amp;&amp; npm run build" in page.text
