"""The console's other faces: a busy map, the unit board, device health, the dashboard, the
shortcut list, Chinese, signing out, and the responder app on a phone."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from commonwatch.sim.district import build_district
from tests.browser.conftest import (
    Console,
    Outside,
    publish_changes,
    raise_alarm,
    shoot,
    sign_in_quietly,
)

# (device kind, event type, nth such device in the district): a morning in the demo district.
MORNING = [
    ("smoke_detector", "smoke", 40), ("heat_detector", "heat", 13),
    ("water_sensor", "water_leak", 3), ("door_contact", "intrusion", 70),
    ("fall_sensor", "fall", 30), ("gas_detector", "gas", 20), ("alarm_panel", "tamper", 90),
    ("ebike_charger_monitor", "ebike_overheat", 60), ("panic_button", "panic", 80),
    ("water_sensor", "water_leak", 55), ("door_contact", "intrusion", 250),
]  # fmt: skip


def morning_events() -> list[tuple[str, str]]:
    devices = build_district().devices
    by_kind: dict[str, list[str]] = {}
    for device in devices:
        by_kind.setdefault(device.kind, []).append(device.id)
    return [(by_kind[kind][nth], etype) for kind, etype, nth in MORNING]


def moved(unit: str, lat: float, lon: float) -> list[tuple[str, dict[str, object]]]:
    at = datetime.now(UTC).isoformat()
    change = {"kind": "UnitPositionReported", "at": at, "unit_id": unit, "lat": lat, "lon": lon}
    return [(unit, change)]


@pytest.fixture(scope="module")
def busy(console: Console) -> Console:
    with console.api() as api:
        for device, etype in morning_events():
            event = {"id": f"view-{uuid.uuid4().hex}", "type": etype, "device": device}
            assert api.post("/api/v1/events", json=event).status_code in (200, 202)
    time.sleep(2)  # let the worker correlate them
    return console


def test_it_shows_the_queue_and_the_map_with_communities_incidents_and_units(
    page: Page, busy: Console, fleet: list[str], outside: Outside
) -> None:
    sign_in_quietly(page)
    page.goto("/")
    expect(page.locator(".conn")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(page.locator(".queue-row").nth(5)).to_be_visible()
    page.wait_for_function(f"() => window.__cw.units() >= {len(fleet)}", timeout=5_000)
    page.wait_for_timeout(1500)  # the map redraws live data once a second
    shoot(page, "queue")
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_timeout(1200)
    shoot(page, "map")
    assert outside.urls == []


def test_it_moves_a_unit_when_the_change_stream_says_so(
    page: Page, console: Console, fleet: list[str]
) -> None:
    sign_in_quietly(page)
    page.goto("/")
    expect(page.locator(".conn")).to_have_attribute("data-state", "live", timeout=15_000)
    page.wait_for_function(f"() => window.__cw.units() >= {len(fleet)}", timeout=5_000)
    publish_changes(console, moved("PM-102", -20.4701, -54.6102))
    page.wait_for_function("() => window.__cw.unitAt('PM-102')[0] === -20.4701", timeout=3_000)


def test_it_lists_units_device_health_and_the_dashboard(
    page: Page, busy: Console, fleet: list[str], outside: Outside
) -> None:
    sign_in_quietly(page)
    page.goto("/")
    expect(page.locator(".conn")).to_have_attribute("data-state", "live", timeout=15_000)
    page.get_by_role("link", name="Units").click()
    expect(page.locator("#view-units tbody tr")).to_have_count(len(fleet), timeout=5_000)
    expect(page.locator("#view-units")).to_contain_text("Out of service")
    shoot(page, "units")
    page.get_by_role("link", name="Devices").click()
    expect(page.locator("#view-devices tbody tr")).to_have_count(40, timeout=10_000)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator(".tile")).to_have_count(5)
    expect(page.locator("#view-dashboard")).to_contain_text(
        "Communities with no incident this month"
    )
    shoot(page, "dashboard")
    assert outside.urls == []


def test_it_refuses_a_wrong_password(page: Page, console: Console) -> None:
    page.goto("/")
    page.get_by_label("Account").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".signin-error")).to_have_text("Wrong account or password.")


def test_it_shows_the_shortcuts_on_question_mark_and_speaks_chinese(
    page: Page, console: Console
) -> None:
    sign_in_quietly(page)
    page.goto("/")
    expect(page.locator(".queue-count")).to_be_visible(timeout=15_000)
    expect(page.locator(".queue-row").first).to_be_visible(timeout=20_000)
    page.keyboard.press("j")  # the most urgent incident opens
    expect(page.locator(".incident-pane")).to_be_visible()
    expect(page.locator(".queue-row.selected")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(".incident-pane")).to_be_hidden()
    page.keyboard.press("?")
    expect(page.locator("dialog.help")).to_contain_text("Next incident")
    page.keyboard.press("Escape")
    page.locator(".topbar .lang-select").select_option("zh-CN")
    expect(page.get_by_role("link", name="警情队列")).to_be_visible(timeout=15_000)
    expect(page.locator(".queue-count")).to_contain_text("起未结")
    page.locator(".topbar .lang-select").select_option("en")
    expect(page.get_by_role("link", name="Queue")).to_be_visible(timeout=15_000)


def test_it_signs_out(page: Page, console: Console) -> None:
    sign_in_quietly(page)
    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.request.get("/api/v1/session").status == 401


def test_it_serves_an_installable_responder_app_for_phones(
    browser: Browser, console: Console, fleet: list[str]
) -> None:
    incident = raise_alarm(console, "c15-b5-panic-1", "panic")
    with console.api() as api:
        sent = api.post(f"/api/v1/incidents/{incident}/assign", json={"unit_id": "PM-104"})
        assert sent.status_code == 201, sent.text
    phone = browser.new_context(
        base_url=console.base_url, viewport={"width": 390, "height": 844}, is_mobile=True,
        has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    try:
        page = phone.new_page()
        sign_in_quietly(page)
        page.goto("/responder")
        expect(page.get_by_role("heading", name="Which unit are you?")).to_be_visible(
            timeout=10_000
        )
        page.get_by_label("Unit").select_option("PM-104")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Panic / duress")).to_be_visible()
        expect(page.get_by_role("link", name="Directions (maps app)")).to_have_attribute(
            "href", re.compile("^geo:")
        )
        page.get_by_role("button", name="En route").click()
        expect(page.locator(".r-unit .pill")).to_have_text("En route")
        manifest = page.request.get("/manifest.webmanifest").json()
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/responder"
        ready = "navigator.serviceWorker.getRegistration('/responder').then((r) => r?.active)"
        page.wait_for_function(ready, timeout=10_000)
        shoot(page, "responder")
    finally:
        phone.close()
