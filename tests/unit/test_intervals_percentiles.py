"""Response intervals: one percentile definition, checked by hand, and targets judged by the share
of incidents within them."""

from __future__ import annotations

from datetime import datetime

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from commonwatch.domain.intervals import (
    IncidentTimes,
    Interval,
    Target,
    build_report,
    duration_s,
    interval_stats,
    percentile,
)
from tests.unit.factories import T0, at


def test_it_interpolates_percentiles_between_closest_ranks_by_hand() -> None:
    values = [20.0, 5.0, 8.0, 3.0, 12.0]  # sorted: 3, 5, 8, 12, 20
    assert percentile(values, 50) == 8.0  # rank (5 - 1) * 0.5 = 2
    assert percentile(values, 90) == pytest.approx(16.8)  # rank 3.6: 12 + 0.6 * (20 - 12)
    assert percentile(values, 95) == pytest.approx(18.4)  # rank 3.8: 12 + 0.8 * 8
    assert percentile(values, 0) == 3.0
    assert percentile(values, 100) == 20.0


def test_it_has_no_percentile_of_nothing_and_the_value_of_one() -> None:
    assert percentile([], 90) is None
    assert percentile([42.0], 90) == 42.0


def test_it_refuses_a_percentile_outside_zero_to_a_hundred() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=100),
)
def test_it_agrees_with_numpys_default_percentile(values: list[float], p: float) -> None:
    assert percentile(values, p) == pytest.approx(numpy.percentile(values, p), rel=1e-9, abs=1e-6)


def times(
    *,
    answered: float | None = None,
    dispatched: float | None = None,
    en_route: float | None = None,
    on_scene: float | None = None,
    kind: str = "fire",
    jpath: str = "city.north.c1",
) -> IncidentTimes:
    def t(s: float | None) -> datetime | None:
        return None if s is None else at(s)

    return IncidentTimes(
        incident_id="i",
        source="live",
        incident_type=kind,
        jpath=jpath,
        received_at=T0,
        answered_at=t(answered),
        dispatched_at=t(dispatched),
        en_route_at=t(en_route),
        on_scene_at=t(on_scene),
    )


def test_it_measures_each_interval_between_its_two_timestamps() -> None:
    full = times(answered=4, dispatched=30, en_route=90, on_scene=300)
    assert {i: duration_s(full, i) for i in Interval} == {
        Interval.ANSWERING: 4,
        Interval.PROCESSING: 30,
        Interval.TURNOUT: 60,
        Interval.TRAVEL: 210,
        Interval.TOTAL: 300,
    }


def test_it_leaves_out_what_has_not_happened_or_runs_backwards() -> None:
    partial = times(answered=4, dispatched=30)
    assert duration_s(partial, Interval.TRAVEL) is None
    backwards = times(dispatched=30, en_route=20)
    assert duration_s(backwards, Interval.TURNOUT) is None
    stats = interval_stats([backwards, partial], Interval.TURNOUT, Target(target_s=60))
    assert (stats.count, stats.skipped_negative) == (0, 1)
    assert stats.passed is None


def test_it_judges_a_target_by_the_share_within_it_with_per_type_targets() -> None:
    turnout = Target(target_s=80, fraction=0.75, by_type={"medical": 60})
    fleet = [
        times(dispatched=0, en_route=70),  # fire, within 80
        times(dispatched=0, en_route=80),  # fire, within 80 (at the target is within)
        times(dispatched=0, en_route=70, kind="medical"),  # medical, over 60
        times(dispatched=0, en_route=30, kind="medical"),
    ]
    stats = interval_stats(fleet, Interval.TURNOUT, turnout)
    assert (stats.count, stats.within, stats.within_share, stats.passed) == (4, 3, 0.75, True)
    assert stats.p50 == 70.0
    assert stats.by_type == {"medical": 60}


TARGETS = {i: Target(target_s=100) for i in Interval}


def test_it_reports_the_subtree_and_each_child_jurisdiction() -> None:
    north = [times(dispatched=10, jpath="city.north.c1"), times(dispatched=30, jpath="city.north")]
    south = [times(dispatched=200, jpath="city.south.c9")]
    report = build_report(north + south, TARGETS, jurisdiction="city")
    assert report.incidents == 3
    assert report.sources == {"live": 3}
    processing = report.intervals[1]
    assert (processing.interval, processing.count, processing.p50) == (Interval.PROCESSING, 3, 30)
    assert [(c.jurisdiction, c.incidents) for c in report.children] == [
        ("city.north", 2),
        ("city.south", 1),
    ]
    assert report.children[1].intervals[1].passed is False
    assert "numpy default" in report.percentile_method
