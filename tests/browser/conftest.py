"""The console in a real browser: Debian's Chromium driven by Playwright, against a platform
started the way a newcomer starts it (`commonwatch up --demo`, on free ports, in a temp folder).

Skipped with a reason when no Chromium is installed. Every request the page makes is checked:
nothing may leave 127.0.0.1 (the console must work on closed networks).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from commonwatch.handlers.accounts import ensure_admin_password
from commonwatch.runtime.embedded import free_port
from commonwatch.runtime.rules import load_rules
from commonwatch.storage import db
from commonwatch.web import shell
from commonwatch.web.serve import console_app
from tests.e2e.conftest import ADMIN_TOKEN, RunningPlatform, start_platform, stop_platform

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-unsafe-swiftshader",
]  # fmt: skip
PASSWORD = "browser-test-password-1"
ARTIFACTS = Path(os.environ.get("COMMONWATCH_ARTIFACTS", "artifacts")) / "browser"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
T = TypeVar("T")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                reason = (
                    f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)"
                )
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, object]) -> dict[str, object]:
    return {**browser_context_args, "viewport": {"width": 1600, "height": 900}, "locale": "en-GB"}


@dataclass
class Console:
    """Where the console answers, and the platform behind it."""

    base_url: str
    platform: RunningPlatform
    database_url: str
    nats_url: str
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)


def _serve(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=2, access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-under-test", daemon=True)
    thread.start()
    return server, thread


def _serves_console(base_url: str) -> bool:
    try:
        return "/app/console.js" in httpx.get(f"{base_url}/", timeout=5).text
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    missing = shell.missing_bundles()
    if missing:
        pytest.fail(f"the console is not built (missing {missing}): run `{shell.BUILD_COMMAND}`")
    data_dir = tmp_path_factory.mktemp("console") / "data"
    platform = start_platform(data_dir, "--demo", ports=_distinct_ports())
    endpoints = json.loads((data_dir / "endpoints.json").read_text())
    running = Console(platform.base_url, platform, endpoints["database_url"], endpoints["nats_url"])
    try:
        in_thread(_set_password(running.database_url))
        if not _serves_console(platform.base_url):
            # The lead has not mounted the console in create_app yet: serve it beside the API.
            app = console_app(
                database_url=running.database_url, nats_url=running.nats_url, rules=load_rules(None)
            )
            port = free_port()
            running.server, running.thread = _serve(app, port)
            running.base_url = f"http://127.0.0.1:{port}"
            _wait_ready(running.base_url)
        yield running
    finally:
        if running.server is not None and running.thread is not None:
            running.server.should_exit = True
            running.thread.join(15)
        stop_platform(platform)


def in_thread(coroutine: Coroutine[object, object, T]) -> T:
    """Runs a coroutine on a loop of its own: Playwright's sync API owns this thread's loop."""
    box: list[T] = []
    worker = threading.Thread(target=lambda: box.append(asyncio.run(coroutine)))
    worker.start()
    worker.join()
    if not box:
        raise RuntimeError("the coroutine failed; see the log above")
    return box[0]


def _distinct_ports() -> tuple[int, int, int]:
    # free_port() may hand out the same port twice in a row; three services need three.
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports[0], ports[1], ports[2]


async def _set_password(database_url: str) -> None:
    conn = await db.connect(database_url)
    try:
        await ensure_admin_password(conn, password=PASSWORD)
    finally:
        await conn.close()


def _wait_ready(base_url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.1)
    raise TimeoutError(f"console at {base_url} not ready")


@pytest.fixture(scope="session")
def base_url(console: Console) -> str:
    return console.base_url


@dataclass
class Outside:
    """Requests the page tried to send anywhere but this machine (they are refused)."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture
def outside(context: object) -> Outside:
    from playwright.sync_api import BrowserContext, Route

    assert isinstance(context, BrowserContext)
    seen = Outside()

    def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            seen.urls.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return seen


def shoot(page: object, name: str) -> Path:
    """A screenshot for docs/screenshots/ and the test artifacts."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target))
    shutil.copyfile(target, ARTIFACTS / target.name)
    return target


def sign_in_quietly(page: object) -> None:
    """Signs the page's browser context in through the API (the UI path has a test of its own)."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    answer = page.request.post("/api/v1/session", data={"account": "admin", "password": PASSWORD})
    assert answer.ok, answer.text()


async def _publish(nats_url: str, changes: list[tuple[str, dict[str, object]]]) -> None:
    from commonwatch.bus import subjects
    from commonwatch.runtime.worker import connect_nats

    nc = await connect_nats(nats_url, "browser-tests")
    try:
        js = nc.jetstream()
        for ref, change in changes:
            subject = subjects.change_subject(str(change.get("kind", "change")).lower(), ref)
            await js.publish(subject, json.dumps(change).encode(), headers={"Cw-Jpath": DISTRICT})
    finally:
        await nc.close()


DISTRICT = "campo_grande.centro"


def publish_changes(console: Console, changes: list[tuple[str, dict[str, object]]]) -> None:
    """Puts changes on the platform's change stream as another module would (units moving)."""
    in_thread(_publish(console.nats_url, changes))


CENTRE = (-20.4640, -54.6160)
STATIONS = [  # id, name, kind, lat offset, lon offset (from the district's centre)
    ("post-centro", "Posto PM Centro", "street_police_post", 0.004, -0.012),
    ("bombeiros-1", "Bombeiros 1º GB", "fire_station", -0.010, 0.016),
    ("seg-afonso", "Segurança Afonso Pena", "property_security_office", 0.008, 0.010),
]
FLEET = [  # id, name, kind, station, status, lat offset, lon offset
    ("PM-101", "PM 101", "patrol_car", "post-centro", "available", 0.0035, -0.0060),
    ("PM-102", "PM 102", "patrol_car", "post-centro", "available", -0.0050, 0.0020),
    ("PM-103", "PM 103", "ebike_patrol", "post-centro", "busy", 0.0070, 0.0110),
    ("PM-104", "PM 104", "foot_patrol", "post-centro", "available", -0.0020, -0.0140),
    ("BM-21", "ABT 21", "fire_engine", "bombeiros-1", "available", -0.0095, 0.0150),
    ("BM-22", "ABT 22", "fire_engine", "bombeiros-1", "available", -0.0060, 0.0090),
    ("SAMU-7", "SAMU 07", "ambulance", "bombeiros-1", "available", 0.0010, 0.0040),
    ("GS-3", "Vigilante 3", "security_guard", "seg-afonso", "available", 0.0080, 0.0030),
    ("GS-4", "Vigilante 4", "security_guard", "seg-afonso", "out_of_service", 0.0020, 0.0160),
    ("VOL-1", "Brigada Voluntária", "volunteer_team", "seg-afonso", "available", -0.0075, -0.0080),
]  # fmt: skip


@pytest.fixture(scope="session")
def fleet(console: Console) -> list[str]:
    """Stations and units in the demo district, registered and placed through the dispatch API."""
    with console.api() as api:
        for ident, name, kind, dlat, dlon in STATIONS:
            body = {"id": ident, "name": name, "kind": kind, "parent": DISTRICT,
                    "lat": CENTRE[0] + dlat, "lon": CENTRE[1] + dlon}  # fmt: skip
            assert api.post("/api/v1/stations", json=body).status_code in (201, 409)
        for ident, name, kind, station, status, dlat, dlon in FLEET:
            body = {"id": ident, "name": name, "kind": kind, "station_id": station}
            assert api.post("/api/v1/units", json=body).status_code in (201, 409)
            at = {"lat": CENTRE[0] + dlat, "lon": CENTRE[1] + dlon}
            assert api.post(f"/api/v1/units/{ident}/position", json=at).status_code == 200
            if status != "available":
                api.post(f"/api/v1/units/{ident}/status", json={"status": status})
    return [f[0] for f in FLEET]


def raise_alarm(console: Console, device: str, event_type: str) -> str:
    """An alarm through the public ingest API; returns the incident it opened or joined."""
    with console.api() as api:
        event = {"id": f"browser-{uuid.uuid4().hex}", "type": event_type, "device": device}
        sent = api.post("/api/v1/events", json=event)
        assert sent.status_code in (200, 202), sent.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            items = api.get("/api/v1/incidents", params={"open": "true", "limit": 200}).json()[
                "items"
            ]
            mine = [i for i in items if device in i["device_ids"]]
            if mine:
                return str(mine[0]["id"])
            time.sleep(0.1)
    raise AssertionError(f"the {event_type} event from {device} opened no incident")
