"""Device health as maintenance: issues come and go, states follow, tickets open and close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.handlers.health import Signal, apply, signals_from, state_of
from commonwatch.storage.sources import HealthRow

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def event(etype: str, state: EventState, at: datetime = T0) -> DeviceEvent:
    return DeviceEvent("e", "dev-1", "c-1", etype, state, at, at)


def signal(issue: str, active: bool, at: datetime = T0) -> Signal:
    return Signal("dev-1", "c-1", issue, active, at)


def test_it_hears_health_issues_from_any_source_and_ignores_emergencies() -> None:
    signals = signals_from(
        [
            event("device_offline", EventState.ALARM),
            event("communication_failure", EventState.ALARM),
            event("battery_low", EventState.RESTORE),
            event("smoke", EventState.ALARM),
            event("tamper", EventState.INFO),
        ]
    )
    assert [(s.issue, s.active) for s in signals] == [
        ("offline", True), ("supervision_loss", True), ("battery_low", False),
    ]  # fmt: skip


def test_it_opens_a_ticket_when_an_issue_appears_and_closes_it_when_it_ends() -> None:
    opened = apply(None, "dev-1", [signal("battery_low", True)])
    assert opened is not None
    assert (opened.row.state, opened.opened, opened.closed) == ("degraded", ["battery_low"], [])
    later = T0 + timedelta(hours=2)
    closed = apply(opened.row, "dev-1", [signal("battery_low", False, later)])
    assert closed is not None
    assert (closed.row.state, closed.opened, closed.closed) == ("ok", [], ["battery_low"])
    assert closed.row.since == later


def test_it_changes_nothing_for_a_repeated_issue_or_a_device_that_never_had_one() -> None:
    row = HealthRow("dev-1", "degraded", frozenset({"tamper"}), T0)
    assert apply(row, "dev-1", [signal("tamper", True)]) is None
    assert apply(None, "dev-1", [signal("tamper", False)]) is None


def test_it_keeps_since_while_the_state_stays_the_same() -> None:
    row = HealthRow("dev-1", "degraded", frozenset({"tamper"}), T0)
    change = apply(row, "dev-1", [signal("battery_low", True, T0 + timedelta(hours=1))])
    assert change is not None
    assert (change.row.since, change.opened) == (T0, ["battery_low"])


def test_it_counts_offline_supervision_loss_and_silence_as_offline() -> None:
    assert state_of(frozenset({"stale"})) == "offline"
    assert state_of(frozenset({"supervision_loss", "battery_low"})) == "offline"
    assert state_of(frozenset({"battery_low"})) == "degraded"
    assert state_of(frozenset()) == "ok"
