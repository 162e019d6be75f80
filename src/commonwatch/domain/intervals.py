"""Response intervals and their percentile report against targets. Pure.

Every incident, live or imported from a CAD, is reduced to five timestamps, and the intervals
are differences between them, always measured at the incident level:

    answering   received    -> answered (operator acknowledged, or first dispatch if earlier)
    processing  received    -> first unit dispatched
    turnout     dispatched  -> first unit en route
    travel      en route    -> first unit on scene
    total       received    -> first unit on scene

so processing + turnout + travel = total. A missing timestamp leaves its intervals out; a
negative difference (clocks or data entry out of order) is left out too and counted as such.

Percentiles use ONE definition everywhere: linear interpolation between closest ranks, i.e.
Hyndman & Fan type 7, numpy.percentile's default and PostgreSQL's percentile_cont. For sorted
values x[0..n-1] the p-th percentile sits at rank h = (n - 1) * p / 100 and is
x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).

An interval passes when the share of incidents within their target is at least the target's
fraction (e.g. 90 % within 60 s), which is how NFPA states its objectives.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec


class Interval(StrEnum):
    ANSWERING = "answering"
    PROCESSING = "processing"
    TURNOUT = "turnout"
    TRAVEL = "travel"
    TOTAL = "total"


# Each interval as (start, end) timestamp names of IncidentTimes.
SPANS: dict[Interval, tuple[str, str]] = {
    Interval.ANSWERING: ("received_at", "answered_at"),
    Interval.PROCESSING: ("received_at", "dispatched_at"),
    Interval.TURNOUT: ("dispatched_at", "en_route_at"),
    Interval.TRAVEL: ("en_route_at", "on_scene_at"),
    Interval.TOTAL: ("received_at", "on_scene_at"),
}

PERCENTILES = (50.0, 90.0, 95.0)


class Target(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`fraction` of incidents should take at most `target_s`; `by_type` overrides per type."""

    target_s: Annotated[float, msgspec.Meta(gt=0)]
    fraction: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.9
    standard: str = ""
    by_type: dict[str, Annotated[float, msgspec.Meta(gt=0)]] = msgspec.field(default_factory=dict)

    def seconds_for(self, incident_type: str) -> float:
        return self.by_type.get(incident_type, self.target_s)


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    incident_id: str
    source: str  # 'live' or 'cad_import'
    incident_type: str
    jpath: str
    received_at: datetime
    answered_at: datetime | None = None
    dispatched_at: datetime | None = None
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None


def duration_s(times: IncidentTimes, interval: Interval) -> float | None:
    """The interval in seconds; None when a timestamp is missing or the order is reversed."""
    start_name, end_name = SPANS[interval]
    start, end = getattr(times, start_name), getattr(times, end_name)
    if start is None or end is None:
        return None
    seconds: float = (end - start).total_seconds()
    return seconds if seconds >= 0 else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"a percentile lies between 0 and 100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


class IntervalStats(msgspec.Struct, frozen=True, kw_only=True):
    interval: Interval
    count: int
    skipped_negative: int
    p50: float | None
    p90: float | None
    p95: float | None
    target_s: float
    by_type: dict[str, float]
    fraction: float
    within: int
    within_share: float | None
    passed: bool | None  # None: no incidents to judge
    standard: str


class JurisdictionStats(msgspec.Struct, frozen=True, kw_only=True):
    jurisdiction: str
    incidents: int
    intervals: list[IntervalStats]


class IntervalReport(msgspec.Struct, frozen=True, kw_only=True):
    jurisdiction: str
    since: datetime | None
    until: datetime | None
    incidents: int
    sources: dict[str, int]
    percentile_method: str
    intervals: list[IntervalStats]
    children: list[JurisdictionStats]


PERCENTILE_METHOD = "linear interpolation between closest ranks (numpy default, type 7)"


def interval_stats(
    times: Sequence[IncidentTimes], interval: Interval, target: Target
) -> IntervalStats:
    values: list[float] = []
    within = negative = 0
    for t in times:
        seconds = duration_s(t, interval)
        if seconds is None:
            negative += _is_negative(t, interval)
            continue
        values.append(seconds)
        within += seconds <= target.seconds_for(t.incident_type)
    share = within / len(values) if values else None
    return IntervalStats(
        interval=interval,
        count=len(values),
        skipped_negative=negative,
        p50=percentile(values, 50),
        p90=percentile(values, 90),
        p95=percentile(values, 95),
        target_s=target.target_s,
        by_type=dict(target.by_type),
        fraction=target.fraction,
        within=within,
        within_share=share,
        passed=None if share is None else share >= target.fraction,
        standard=target.standard,
    )


def _is_negative(times: IncidentTimes, interval: Interval) -> int:
    start_name, end_name = SPANS[interval]
    start, end = getattr(times, start_name), getattr(times, end_name)
    return int(start is not None and end is not None and end < start)


def all_stats(
    times: Sequence[IncidentTimes], targets: dict[Interval, Target]
) -> list[IntervalStats]:
    return [interval_stats(times, interval, targets[interval]) for interval in Interval]


def child_of(jpath: str, depth: int) -> str:
    """The jurisdiction `depth + 1` labels deep that contains `jpath` (jpath itself if shorter)."""
    return ".".join(jpath.split(".")[: depth + 1])


def build_report(
    times: Sequence[IncidentTimes],
    targets: dict[Interval, Target],
    *,
    jurisdiction: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> IntervalReport:
    """The whole subtree, and each child jurisdiction one level below it."""
    depth = len(jurisdiction.split(".")) if jurisdiction else 0
    groups: dict[str, list[IncidentTimes]] = defaultdict(list)
    for t in times:
        groups[child_of(t.jpath, depth)].append(t)
    children = [
        JurisdictionStats(
            jurisdiction=name, incidents=len(group), intervals=all_stats(group, targets)
        )
        for name, group in sorted(groups.items())
    ]
    return IntervalReport(
        jurisdiction=jurisdiction,
        since=since,
        until=until,
        incidents=len(times),
        sources=_count_by(t.source for t in times),
        percentile_method=PERCENTILE_METHOD,
        intervals=all_stats(times, targets),
        children=children,
    )


def _count_by(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(sorted(counts.items()))


def check_targets(targets: dict[Interval, Target]) -> list[str]:
    """The intervals that have no target (a report needs all five)."""
    return [i.value for i in Interval if i not in targets]
