"""Dispatch: who should go, ranked by ETA and capability, with the reasons. Pure.

An incident type needs units in slots (rules/dispatch.toml), e.g. a fire: two fire engines and
one patrol. Each slot is filled first by units already assigned, then by the best candidates:
on duty, free, with a fresh position, reachable, of a fitting kind and with the capabilities the
slot asks for. Best means the lowest ETA, or with the coverage option the lowest ETA plus a
penalty for the coverage the unit's departure costs (maximum expected covering location,
Daskin 1983: a demand point covered by k free units is covered with probability 1 - q^k, where
q is the chance a unit is busy; taking the last unit near a community costs the most).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from commonwatch.domain.travel import Estimate, Method, Point, Profile, TravelTimes
from commonwatch.domain.units import (
    DISPATCHABLE,
    DispatchSettings,
    Position,
    Slot,
    Unit,
    UnitKind,
    UnitStatus,
)

# --- what the ranking sees --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleetUnit:
    unit: Unit
    position: Position | None


@dataclass(frozen=True, slots=True)
class Scene:
    incident_id: str
    incident_type: str
    location: Point
    assigned: tuple[Unit, ...] = ()  # units on this incident already: they fill slots first


@dataclass(frozen=True, slots=True)
class DemandPoint:
    id: str
    point: Point
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class CoverageSpec:
    points: tuple[DemandPoint, ...]
    minutes: float
    busy_probability: float
    penalty_s: float


# --- what it answers --------------------------------------------------------------------------


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    unit_id: str
    kind: str
    status: str
    eta_s: float
    distance_m: float
    method: str
    position_age_s: float
    score_s: float
    chosen: bool = False
    coverage_penalty_s: float | None = None
    coverage_after: float | None = None  # share of demand points still covered if it goes
    why: str = ""


class Excluded(msgspec.Struct, frozen=True, kw_only=True):
    unit_id: str
    kind: str
    status: str
    reason: str


class SlotRecommendation(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    kinds: list[str]
    capabilities: list[str]
    count: int
    filled_by: list[str]
    needed: int
    candidates: list[Candidate]
    excluded: list[Excluded]
    excluded_total: int
    coverage_before: float | None = None
    coverage_after: float | None = None  # after the chosen candidates leave


class Location(msgspec.Struct, frozen=True):
    lat: float
    lon: float


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    incident_type: str
    location: Location
    computed_at: datetime
    travel_method: str  # network | fallback | mixed | none
    notice: str | None
    coverage_minutes: float | None
    slots: list[SlotRecommendation]

    def chosen(self) -> list[str]:
        return [c.unit_id for s in self.slots for c in s.candidates if c.chosen]


FALLBACK_NOTICE = (
    "no road network available{which}: ETAs are straight-line distance x 1.35 at typical "
    "speeds (method 'fallback'), not routes"
)


def unit_reason(member: FleetUnit, settings: DispatchSettings, now: datetime) -> str | None:
    """Why this unit cannot go anywhere now, or None."""
    unit, position = member.unit, member.position
    if unit.status is UnitStatus.OUT_OF_SERVICE:
        return "out of service"
    if not unit.is_on_duty(now):
        return "off duty"
    if unit.status not in DISPATCHABLE:
        return f"busy ({unit.status})"
    if position is None:
        return "no position"
    if position.is_stale(now, settings.stale_position_s):
        age, limit = position.age_s(now), settings.stale_position_s
        return f"stale position ({age:.0f} s old, limit {limit:g} s)"
    return None


def estimate_all(
    members: Sequence[FleetUnit], target: Point, travel: TravelTimes
) -> dict[str, Estimate]:
    """One travel estimate per unit, one many-to-one query per travel profile."""
    by_profile: dict[Profile, list[FleetUnit]] = defaultdict(list)
    for m in members:
        by_profile[m.unit.profile].append(m)
    out: dict[str, Estimate] = {}
    for group in by_profile.values():
        origins = [m.position.point for m in group if m.position is not None]
        found = travel.many_to_one(origins, target, group[0].unit.profile)
        out.update(zip((m.unit.id for m in group), found, strict=True))
    return out


@dataclass
class SlotCoverage:
    """Which demand points each unit of a slot's pool reaches within T."""

    reach: dict[str, frozenset[int]]
    weights: tuple[float, ...]
    q: float
    penalty_s: float

    def share(self, without: Iterable[str] = ()) -> float:
        gone = set(without)
        covered: set[int] = set()
        for unit_id, points in self.reach.items():
            if unit_id not in gone:
                covered |= points
        total = sum(self.weights)
        return sum(self.weights[i] for i in covered) / total if total else 0.0

    def expected(self, without: Iterable[str] = ()) -> float:
        gone = set(without)
        k = [0] * len(self.weights)
        for unit_id, points in self.reach.items():
            for i in points if unit_id not in gone else ():
                k[i] += 1
        total = sum(self.weights)
        value = sum(w * (1 - self.q**n) for w, n in zip(self.weights, k, strict=True))
        return value / total if total else 0.0

    def penalty(self, unit_id: str) -> float:
        return self.penalty_s * (self.expected() - self.expected([unit_id]))


def slot_coverage(
    pool: Sequence[FleetUnit], spec: CoverageSpec, travel: TravelTimes
) -> SlotCoverage:
    limit_s = spec.minutes * 60
    reach: dict[str, set[int]] = {m.unit.id: set() for m in pool}
    for index, demand in enumerate(spec.points):
        for unit_id, estimate in estimate_all(pool, demand.point, travel).items():
            if estimate.reachable and estimate.seconds <= limit_s:
                reach[unit_id].add(index)
    return SlotCoverage(
        reach={u: frozenset(p) for u, p in reach.items()},
        weights=tuple(d.weight for d in spec.points),
        q=spec.busy_probability,
        penalty_s=spec.penalty_s,
    )


@dataclass
class _Ranking:
    scene: Scene
    fleet: dict[str, FleetUnit]
    reasons: dict[str, str | None]
    estimates: dict[str, Estimate]
    settings: DispatchSettings
    travel: TravelTimes
    coverage: CoverageSpec | None
    now: datetime
    used_assigned: set[str] = field(default_factory=set)
    chosen_for: dict[str, str] = field(default_factory=dict)

    def slot(self, slot: Slot) -> SlotRecommendation:
        filled = [
            u.id
            for u in self.scene.assigned
            if u.id not in self.used_assigned and slot.misfit(u) is None
        ][: slot.count]
        self.used_assigned.update(filled)
        needed = slot.count - len(filled)
        pool, excluded = self._split(slot)
        cover = slot_coverage(pool, self.coverage, self.travel) if self.coverage else None
        penalties = {m.unit.id: cover.penalty(m.unit.id) if cover else 0.0 for m in pool}
        ranked = sorted(pool, key=lambda m: self._key(m, penalties[m.unit.id]))
        chosen = [m.unit.id for m in ranked[:needed]]
        self.chosen_for.update({unit_id: slot.role for unit_id in chosen})
        shown = ranked[: max(self.settings.candidates_per_slot, needed)]
        return SlotRecommendation(
            role=slot.role,
            kinds=[str(k) for k in slot.kinds],
            capabilities=slot.capabilities,
            count=slot.count,
            filled_by=filled,
            needed=needed,
            candidates=[self._candidate(m, cover, m.unit.id in chosen) for m in shown],
            excluded=[
                _excluded(m, reason) for _, m, reason in excluded[: self.settings.excluded_per_slot]
            ],
            excluded_total=len(excluded),
            coverage_before=round(cover.share(), 4) if cover else None,
            coverage_after=round(cover.share(chosen), 4) if cover else None,
        )

    def _key(self, member: FleetUnit, penalty: float) -> tuple[float, float, str]:
        seconds = self.estimates[member.unit.id].seconds
        return (seconds + penalty, seconds, member.unit.id)

    def _split(self, slot: Slot) -> tuple[list[FleetUnit], list[tuple[int, FleetUnit, str]]]:
        """The slot's candidates, and the others with why (capability misfits last)."""
        pool: list[FleetUnit] = []
        excluded: list[tuple[int, FleetUnit, str]] = []
        for member in self.fleet.values():
            reason = self._reason(slot, member.unit)
            if reason is None:
                pool.append(member)
            else:
                excluded.append((int(reason.startswith("wrong capability")), member, reason))
        excluded.sort(key=lambda e: (e[0], e[1].unit.id))
        return pool, excluded

    def _reason(self, slot: Slot, unit: Unit) -> str | None:
        misfit = slot.misfit(unit)
        if misfit is not None:
            return misfit
        if unit.id in self.chosen_for:
            return f"chosen for {self.chosen_for[unit.id]}"
        return self.reasons[unit.id]

    def _candidate(self, member: FleetUnit, cover: SlotCoverage | None, chosen: bool) -> Candidate:
        unit, estimate = member.unit, self.estimates[member.unit.id]
        penalty = cover.penalty(unit.id) if cover else None
        after = round(cover.share([unit.id]), 4) if cover else None
        assert member.position is not None  # a candidate has a fresh position
        return Candidate(
            unit_id=unit.id,
            kind=unit.kind,
            status=unit.status,
            eta_s=round(estimate.seconds, 1),
            distance_m=round(estimate.meters, 1),
            method=estimate.method,
            position_age_s=round(member.position.age_s(self.now), 1),
            score_s=round(estimate.seconds + (penalty or 0.0), 1),
            chosen=chosen,
            coverage_penalty_s=None if penalty is None else round(penalty, 1),
            coverage_after=after,
            why=_why(estimate, after, penalty, self.coverage),
        )


def _excluded(member: FleetUnit, reason: str) -> Excluded:
    unit = member.unit
    return Excluded(unit_id=unit.id, kind=unit.kind, status=unit.status, reason=reason)


def _why(
    estimate: Estimate, after: float | None, penalty: float | None, spec: CoverageSpec | None
) -> str:
    text = (
        f"ETA {_clock(estimate.seconds)} over {estimate.meters / 1000:.1f} km ({estimate.method})"
    )
    if spec is not None and after is not None and penalty is not None:
        text += (
            f"; if it goes, {after:.0%} of demand points stay covered within "
            f"{spec.minutes:g} min (coverage penalty {penalty:.0f} s)"
        )
    return text


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def recommend(
    scene: Scene,
    fleet: Sequence[FleetUnit],
    slots: Sequence[Slot],
    travel: TravelTimes,
    settings: DispatchSettings,
    *,
    now: datetime,
    coverage: CoverageSpec | None = None,
) -> Recommendation:
    assigned = {u.id for u in scene.assigned}
    others = {m.unit.id: m for m in fleet if m.unit.id not in assigned}
    reasons = {uid: unit_reason(m, settings, now) for uid, m in others.items()}
    ready = [m for uid, m in others.items() if reasons[uid] is None]
    estimates = estimate_all(ready, scene.location, travel)
    for uid, estimate in estimates.items():
        reasons[uid] = None if estimate.reachable else "unreachable"
    ranking = _Ranking(scene, others, reasons, estimates, settings, travel, coverage, now)
    ranked = [ranking.slot(slot) for slot in slots]
    method, notice = _method(estimates.values())
    if not slots:
        notice = f"the dispatch rules name no units for incident type {scene.incident_type}"
    return Recommendation(
        incident_id=scene.incident_id,
        incident_type=scene.incident_type,
        location=Location(scene.location.lat, scene.location.lon),
        computed_at=now,
        travel_method=method,
        notice=notice,
        coverage_minutes=coverage.minutes if coverage else None,
        slots=ranked,
    )


def _method(estimates: Iterable[Estimate]) -> tuple[str, str | None]:
    methods = {e.method for e in estimates}
    if not methods:
        return "none", None
    if methods == {Method.FALLBACK}:
        return Method.FALLBACK.value, FALLBACK_NOTICE.format(which="")
    if Method.FALLBACK in methods:
        return "mixed", FALLBACK_NOTICE.format(which=" for some units")
    return Method.NETWORK.value, None


def replacement_for(recommendation: Recommendation, kind: UnitKind) -> Candidate | None:
    """The best chosen candidate for a slot this kind of unit serves (for a unit that did not
    acknowledge), else the best chosen candidate of any slot."""
    fitting = [s for s in recommendation.slots if kind in s.kinds] + list(recommendation.slots)
    for slot in fitting:
        for candidate in slot.candidates:
            if candidate.chosen:
                return candidate
    return None
