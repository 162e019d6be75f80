"""Replay: feed imported calls through the live recommendation engine (domain.dispatch.recommend)
and compare the unit it recommends with the unit the dispatcher actually sent first. Pure.

History has no live positions and no station table, so the replay approximates:
- a unit named after its station (station_unit_pattern, e.g. E39) lives at the centre of that
  station's area: the component-wise median of the locations of the calls in it; any other unit
  at the median of the calls it answered itself (roaming ambulances fit this badly); at each
  call every free unit is assumed at home;
- a unit is busy from its Dispatch DtTm to its Available DtTm on another call (30 min when the
  export has no Available DtTm), and free otherwise; everyone is on duty;
- unit types the [cad.<format>.unit_types] mapping leaves out (chiefs, support) never compete,
  and the unit compared is the first dispatched unit of a mapped type; it is compared with our
  first choice for the first slot its kind can fill.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import msgspec

from commonwatch.cad.sffd import CadCall, CadResponse
from commonwatch.domain.dispatch import FleetUnit, Scene, recommend
from commonwatch.domain.intervals import percentile
from commonwatch.domain.travel import Point, TravelTimes
from commonwatch.domain.units import CadFormat, DispatchRules, Position, Unit, UnitStatus

BUSY_WITHOUT_AVAILABLE = timedelta(minutes=30)
APPROXIMATIONS = [
    "home = centre of its station's area for units named after a station (e.g. E39), else "
    "the median location of the calls it answered; free units are at home",
    "a unit is busy from dispatch to available on another call (30 min if not recorded)",
    "unmapped unit types (chiefs, support) are left out; everyone is on duty",
    "compared: first dispatched mapped unit vs our first choice for its slot",
]


@dataclass(frozen=True, slots=True)
class HistoricUnit:
    unit: Unit  # free
    busy: Unit  # the same unit, busy
    home: Point
    starts: tuple[datetime, ...]  # sorted dispatch times
    ends: tuple[datetime, ...]  # the matching available times

    def busy_at(self, at: datetime) -> bool:
        i = bisect_right(self.starts, at)
        # Overlapping commitments are rare; the last few before `at` are enough to look at.
        return any(end > at for end in self.ends[max(0, i - 4) : i])


def build_fleet(calls: Sequence[CadCall], fmt: CadFormat) -> dict[str, HistoricUnit]:
    seen: dict[str, list[tuple[CadCall, CadResponse]]] = defaultdict(list)
    for call in calls:
        for response in call.responses:
            if response.unit_type in fmt.unit_types:
                seen[response.unit_id].append((call, response))
    areas = _median_by_area(calls)
    return {uid: _unit(uid, answered, fmt, areas) for uid, answered in seen.items()}


def _median(calls: Sequence[CadCall]) -> Point | None:
    located = [(c.lat, c.lon) for c in calls if c.lat is not None and c.lon is not None]
    if not located:
        return None
    return Point(statistics.median(p[0] for p in located), statistics.median(p[1] for p in located))


def _median_by_area(calls: Sequence[CadCall]) -> dict[str, Point]:
    """The centre of each station area, keyed by the last label of the calls' path."""
    by_area: dict[str, list[CadCall]] = defaultdict(list)
    for call in calls:
        by_area[call.jpath.rsplit(".", 1)[-1]].append(call)
    return {area: p for area, group in by_area.items() if (p := _median(group)) is not None}


def home_of(
    unit_id: str, answered: Sequence[CadCall], fmt: CadFormat, areas: dict[str, Point]
) -> Point:
    match = re.match(fmt.station_unit_pattern, unit_id) if fmt.station_unit_pattern else None
    station = areas.get(f"station_{int(match[1]):02d}") if match else None
    return station or _median(answered) or Point(0.0, 0.0)


def _unit(
    unit_id: str, answered: list[tuple[CadCall, CadResponse]], fmt: CadFormat,
    areas: dict[str, Point],
) -> HistoricUnit:  # fmt: skip
    mapping = fmt.unit_types[answered[0][1].unit_type]
    windows = sorted(
        (r.dispatched_at, r.available_at or r.dispatched_at + BUSY_WITHOUT_AVAILABLE)
        for _, r in answered
        if r.dispatched_at is not None
    )
    unit = Unit(
        id=unit_id,
        name=unit_id,
        kind=mapping.kind,
        station_id=unit_id,
        jpath=fmt.root,
        capabilities=frozenset(mapping.capabilities),
    )
    home = home_of(unit_id, [c for c, _ in answered], fmt, areas)
    busy = replace(unit, status=UnitStatus.BUSY)
    starts, ends = tuple(s for s, _ in windows), tuple(e for _, e in windows)
    return HistoricUnit(unit, busy, home, starts, ends)


class ReplayItem(msgspec.Struct, frozen=True, kw_only=True):
    call_id: str
    incident_type: str
    received_at: datetime
    actual_unit_id: str | None
    recommended_unit_id: str | None = None
    match: bool | None = None  # None: not comparable (see note)
    eta_actual_s: float | None = None  # our ETA for the unit actually sent, from its home
    eta_recommended_s: float | None = None
    observed_travel_s: float | None = None  # its en route -> on scene in the export
    method: str | None = None  # of the ETAs: network or fallback
    note: str | None = None


class ReplayReport(msgspec.Struct, frozen=True, kw_only=True):
    format: str
    calls: int
    comparable: int
    matches: int
    match_rate: float | None
    travel_method: str
    eta_gain_p50_s: float | None  # ETA(actual) - ETA(recommended): what our choice would save
    eta_gain_p90_s: float | None
    eta_error_p50_s: float | None  # ETA(actual) - observed travel: the model's bias
    eta_abs_error_p50_s: float | None
    approximations: list[str]
    items: list[ReplayItem]


def first_sent(call: CadCall, fmt: CadFormat) -> CadResponse | None:
    sent = [r for r in call.responses if r.dispatched_at and r.unit_type in fmt.unit_types]
    return min(sent, key=lambda r: (r.dispatched_at, r.sequence or 0, r.unit_id), default=None)


def replay_call(
    call: CadCall,
    fleet: dict[str, HistoricUnit],
    rules: DispatchRules,
    fmt: CadFormat,
    travel: TravelTimes,
) -> ReplayItem:
    base = ReplayItem(
        call_id=call.id,
        incident_type=call.incident_type,
        received_at=call.received_at,
        actual_unit_id=None,
    )
    actual = first_sent(call, fmt)
    if actual is None or call.lat is None or call.lon is None:
        return replace_item(base, note="no location or no unit of a mapped type was sent")
    at, scene = call.received_at, Point(call.lat, call.lon)
    members = [_member(h, at) for h in fleet.values()]
    found = recommend(
        Scene(call.id, call.incident_type, scene),
        members,
        rules.slots_for(call.incident_type),
        travel,
        rules.settings,
        now=at,
    )
    home = fleet[actual.unit_id]
    [eta] = travel.many_to_one([home.home], scene, home.unit.profile)
    observed = _seconds(actual.en_route_at, actual.on_scene_at)
    item = replace_item(
        base,
        actual_unit_id=actual.unit_id,
        eta_actual_s=round(eta.seconds, 1),
        observed_travel_s=observed,
        method=str(eta.method),
    )
    slot = next((s for s in found.slots if home.unit.kind in s.kinds), None)
    best = next((c for c in slot.candidates if c.chosen), None) if slot else None
    if best is None:
        return replace_item(item, note="no slot or no free candidate for the unit's kind")
    return replace_item(
        item,
        recommended_unit_id=best.unit_id,
        match=best.unit_id == actual.unit_id,
        eta_recommended_s=best.eta_s,
    )


def replace_item(item: ReplayItem, **changes: object) -> ReplayItem:
    return msgspec.structs.replace(item, **changes)


def _member(historic: HistoricUnit, at: datetime) -> FleetUnit:
    unit = historic.busy if historic.busy_at(at) else historic.unit
    return FleetUnit(unit, Position(historic.home.lat, historic.home.lon, at))


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()


def replay(
    calls: Sequence[CadCall],
    rules: DispatchRules,
    fmt_name: str,
    travel: TravelTimes,
    *,
    limit: int | None = None,
) -> ReplayReport:
    fmt = rules.cad[fmt_name]
    fleet = build_fleet(calls, fmt)
    chosen = list(calls)[:limit] if limit is not None else list(calls)
    items = [replay_call(call, fleet, rules, fmt, travel) for call in chosen]
    return summarise(fmt_name, items)


def summarise(fmt_name: str, items: list[ReplayItem]) -> ReplayReport:
    methods = {i.method for i in items if i.method}
    method = methods.pop() if len(methods) == 1 else ("mixed" if methods else "none")
    comparable = [i for i in items if i.match is not None]
    gains = [
        i.eta_actual_s - i.eta_recommended_s
        for i in comparable
        if i.eta_actual_s is not None and i.eta_recommended_s is not None
    ]
    errors = [
        i.eta_actual_s - i.observed_travel_s
        for i in items
        if i.eta_actual_s is not None and i.observed_travel_s is not None
    ]
    matches = sum(1 for i in comparable if i.match)
    return ReplayReport(
        format=fmt_name,
        calls=len(items),
        comparable=len(comparable),
        matches=matches,
        match_rate=round(matches / len(comparable), 4) if comparable else None,
        travel_method=method,
        eta_gain_p50_s=_round(percentile(gains, 50)),
        eta_gain_p90_s=_round(percentile(gains, 90)),
        eta_error_p50_s=_round(percentile(errors, 50)),
        eta_abs_error_p50_s=_round(percentile([abs(e) for e in errors], 50)),
        approximations=APPROXIMATIONS,
        items=items,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
