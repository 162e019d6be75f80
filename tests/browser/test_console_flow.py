"""An operator's shift in miniature: sign in, watch an incident arrive live, work it through its
checklist to resolution, and never send a request off this machine."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Console, Outside, raise_alarm, shoot

DEVICE = "c05-b1-panel-1"


def sign_in(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Account").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".conn")).to_have_attribute("data-state", "live", timeout=15_000)


def test_it_signs_in_sees_an_incident_arrive_live_and_resolves_it(
    page: Page, console: Console, fleet: list[str], outside: Outside
) -> None:
    sign_in(page)
    expect(page.locator(".queue-row").first).to_be_visible(timeout=20_000)
    shoot(page, "queue")

    incident = raise_alarm(console, DEVICE, "panic")
    row = page.locator(f".queue-row[data-id='{incident}']")
    expect(row).to_be_visible(timeout=5_000)  # no reload: it arrived over the stream
    expect(page.locator(".p1-banner")).to_contain_text("Panic")

    row.click()
    panel = page.locator(".incident-pane")
    expect(panel.locator("h2")).to_have_text("Panic / duress")
    page.keyboard.press("a")
    expect(panel.locator(".panel-head .pill").first).to_have_text("Acknowledged")
    expect(page.locator(".p1-banner")).to_be_hidden()

    page.keyboard.press("d")  # the dispatch panel: ranked units with ETA and why
    first = panel.locator(".dispatch-section .candidate").first
    expect(first).to_contain_text("ETA")
    first.get_by_role("button", name=re.compile("^Assign")).click()
    expect(panel.locator(".panel-head .pill").first).to_have_text("Dispatched")
    expect(row.locator(".pill")).to_have_text("Dispatched")

    page.keyboard.press("n")
    page.keyboard.type("Called the reception: the guard pressed it, intruder left.")
    page.keyboard.press("Control+Enter")
    expect(panel.locator(".timeline")).to_contain_text("intruder left")

    resolve = panel.locator(".resolve-form button[type=submit]")
    expect(resolve).to_be_disabled()  # required checklist steps are open
    panel.locator(".step[data-step='call_back']").get_by_role(
        "button", name=re.compile("^Mark done")
    ).click()
    skip_step = panel.locator(".step[data-step='send_patrol']")
    skip_step.get_by_role("button", name=re.compile("^Skip")).click()
    skip_step.get_by_label("Reason for skipping").fill("Guard on site confirmed no threat")
    skip_step.get_by_role("button", name="Skip step").click()
    expect(panel.locator(".checklist-summary")).to_have_class(re.compile("complete"))
    expect(panel.locator(".timeline")).to_contain_text("Step skipped")
    page.set_viewport_size(
        {"width": 1600, "height": 1350}
    )  # room for checklist, dispatch and timeline
    page.locator(".toast").evaluate_all("els => els.forEach((el) => el.remove())")
    panel.evaluate("el => el.scrollTo(0, 0)")
    shoot(page, "incident")
    page.set_viewport_size({"width": 1600, "height": 900})

    panel.get_by_label("Resolution").select_option("handled")
    panel.get_by_label("Note (optional)").fill("Guard confirmed; no patrol needed")
    expect(resolve).to_be_enabled()
    resolve.click()
    expect(row).to_have_count(0, timeout=5_000)  # it left the open queue
    expect(panel.locator(".panel-head .pill").first).to_have_text("Resolved")

    assert outside.urls == [], f"requests left the machine: {outside.urls}"
