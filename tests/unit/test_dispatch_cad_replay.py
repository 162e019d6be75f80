"""CAD history: reading the SFFD export (local San Francisco time to UTC, calls from unit rows)
and replaying its calls through the recommendation engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commonwatch.cad import sffd
from commonwatch.cad.importer import read_file
from commonwatch.cad.replay import build_fleet, replay
from commonwatch.cad.sffd import CadCall, CadError
from commonwatch.domain.travel import StraightLine
from commonwatch.domain.units import DispatchRules, UnitKind
from commonwatch.handlers.dispatch import load_dispatch_rules

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sffd"
SF = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def rules() -> DispatchRules:
    return load_dispatch_rules()


@pytest.fixture(scope="module")
def hand(rules: DispatchRules) -> list[CadCall]:
    rows, calls, skipped = read_file(FIXTURES / "sffd-hand.csv", rules.cad["sffd"])
    assert (rows, len(calls), skipped.count) == (6, 5, 0)
    return calls


def test_it_reads_local_san_francisco_time_into_utc() -> None:
    winter = sffd.parse_time("01/10/2030 10:00:00 AM", SF)
    summer = sffd.parse_time("07/04/2016 12:00:00 PM", SF)
    assert winter == datetime(2030, 1, 10, 18, 0, tzinfo=UTC)  # PST, UTC-8
    assert summer == datetime(2016, 7, 4, 19, 0, tzinfo=UTC)  # PDT, UTC-7
    assert sffd.parse_time("", SF) is None


def test_it_names_an_unreadable_time() -> None:
    with pytest.raises(CadError, match="unreadable time '2030-01-10 10:00'"):
        sffd.parse_time("2030-01-10 10:00", SF)


def test_it_refuses_a_file_that_is_not_an_sffd_export() -> None:
    with pytest.raises(CadError, match="missing columns Unit ID"):
        sffd.check_header(["Call Number", "Call Type"])


def test_it_groups_unit_rows_into_calls_with_their_first_times(hand: list[CadCall]) -> None:
    medical = next(c for c in hand if c.call_number == "900000005")
    assert medical.id == "sffd:900000005"
    assert (medical.call_type, medical.incident_type) == ("Medical Incident", "medical")
    assert medical.jpath == "sf.battalion_b77.station_77"
    assert (medical.lat, medical.lon) == (37.78, -122.4)
    assert [r.unit_id for r in medical.responses] == ["X2", "XM5"]
    assert medical.received_at == datetime(2030, 1, 10, 22, 0, tzinfo=UTC)
    assert medical.answered_at == datetime(2030, 1, 10, 22, 0, 3, tzinfo=UTC)
    assert medical.dispatched_at == datetime(2030, 1, 10, 22, 0, 20, tzinfo=UTC)  # XM5
    assert medical.en_route_at == datetime(2030, 1, 10, 22, 1, 30, tzinfo=UTC)  # X2
    assert medical.on_scene_at == datetime(2030, 1, 10, 22, 3, 0, tzinfo=UTC)  # X2


def test_it_keeps_a_call_whose_units_never_arrived(hand: list[CadCall]) -> None:
    unfinished = next(c for c in hand if c.call_number == "900000004")
    assert unfinished.on_scene_at is None
    assert unfinished.en_route_at is not None


def test_it_reads_the_slice_of_the_real_week(rules: DispatchRules) -> None:
    rows, calls, skipped = read_file(FIXTURES / "sffd-slice.csv", rules.cad["sffd"])
    assert (rows, skipped.count) == (207, 0)
    assert len(calls) == len({c.call_number for c in calls}) == 95
    assert all(c.jpath.startswith("sf.battalion_b") for c in calls)


def test_it_places_units_at_their_calls_and_maps_their_kinds(
    hand: list[CadCall], rules: DispatchRules
) -> None:
    fleet = build_fleet(hand, rules.cad["sffd"])
    assert set(fleet) == {"X1", "X2", "XM5"}
    assert fleet["XM5"].unit.kind is UnitKind.AMBULANCE
    assert fleet["X1"].unit.capabilities == {"suppression"}
    assert (fleet["X1"].home.lat, fleet["X1"].home.lon) == (37.77, -122.42)
    first = hand[0].responses[0]
    assert first.dispatched_at is not None
    assert fleet["X1"].busy_at(first.dispatched_at)
    assert not fleet["X1"].busy_at(hand[0].received_at)


def test_it_recommends_what_the_dispatcher_sent_when_the_nearest_unit_was_sent(
    hand: list[CadCall], rules: DispatchRules
) -> None:
    report = replay(hand, rules, "sffd", StraightLine())
    assert (report.calls, report.comparable, report.matches, report.match_rate) == (5, 5, 5, 1.0)
    assert report.travel_method == "fallback"
    assert report.eta_gain_p50_s == 0.0
    medical = report.items[-1]
    assert (medical.actual_unit_id, medical.recommended_unit_id) == ("XM5", "XM5")
    assert medical.observed_travel_s == 260.0  # 14:01:40 en route, 14:06:00 on scene
    assert report.approximations


def test_it_replays_only_as_many_calls_as_asked(hand: list[CadCall], rules: DispatchRules) -> None:
    assert replay(hand, rules, "sffd", StraightLine(), limit=2).calls == 2
