"""Stations, units, their shifts and the unit status machine; what each incident type needs of
them (the dispatch rules); and the domain events of units and assignments. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from commonwatch.domain.events import DomainEvent
from commonwatch.domain.intervals import Interval, Target, check_targets
from commonwatch.domain.model import IllegalTransition
from commonwatch.domain.travel import Point, Profile, haversine_m


class StationKind(StrEnum):
    STREET_POLICE_POST = "street_police_post"
    FIRE_STATION = "fire_station"
    PROPERTY_SECURITY_OFFICE = "property_security_office"
    VOLUNTEER_BASE = "volunteer_base"


class UnitKind(StrEnum):
    PATROL_CAR = "patrol_car"
    FOOT_PATROL = "foot_patrol"
    EBIKE_PATROL = "ebike_patrol"
    FIRE_ENGINE = "fire_engine"
    AMBULANCE = "ambulance"
    SECURITY_GUARD = "security_guard"
    VOLUNTEER_TEAM = "volunteer_team"


# How each kind of unit moves, for travel times.
PROFILE_OF: dict[UnitKind, Profile] = {
    UnitKind.PATROL_CAR: Profile.DRIVING,
    UnitKind.FIRE_ENGINE: Profile.DRIVING,
    UnitKind.AMBULANCE: Profile.DRIVING,
    UnitKind.EBIKE_PATROL: Profile.CYCLING,
    UnitKind.FOOT_PATROL: Profile.WALKING,
    UnitKind.SECURITY_GUARD: Profile.WALKING,
    UnitKind.VOLUNTEER_TEAM: Profile.WALKING,
}


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    BUSY = "busy"
    RETURNING = "returning"
    OUT_OF_SERVICE = "out_of_service"


S = UnitStatus

# The status machine as data: from a status, the statuses a unit (or the dispatcher) may move
# it to. A dispatched unit may report on scene without en route (arrival seen by position), and
# a returning unit may be sent straight on to the next incident.
UNIT_TRANSITIONS: dict[UnitStatus, frozenset[UnitStatus]] = {
    S.AVAILABLE: frozenset({S.DISPATCHED, S.BUSY, S.OUT_OF_SERVICE}),
    S.DISPATCHED: frozenset({S.EN_ROUTE, S.ON_SCENE, S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.ON_SCENE: frozenset({S.BUSY, S.RETURNING, S.AVAILABLE}),
    S.BUSY: frozenset({S.RETURNING, S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.RETURNING: frozenset({S.AVAILABLE, S.DISPATCHED, S.OUT_OF_SERVICE}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE}),
}

# Statuses in which a unit may be sent to a new incident.
DISPATCHABLE: frozenset[UnitStatus] = frozenset({S.AVAILABLE, S.RETURNING})

# What a status change means for the unit's current assignment: the assignment column it stamps.
ASSIGNMENT_STAMP: dict[UnitStatus, str] = {
    S.EN_ROUTE: "en_route_at",
    S.ON_SCENE: "on_scene_at",
    S.RETURNING: "cleared_at",
    S.AVAILABLE: "cleared_at",
    S.OUT_OF_SERVICE: "cleared_at",
}


class IllegalUnitTransition(IllegalTransition):
    """A unit status change the machine does not allow; the message says why."""


def check_unit_transition(unit_id: str, current: UnitStatus, target: UnitStatus) -> None:
    if target not in UNIT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(UNIT_TRANSITIONS[current])) or "nothing"
        raise IllegalUnitTransition(
            f"unit {unit_id} is {current} and can move to {allowed}, not {target}"
        )


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    name: str
    kind: StationKind
    lat: float
    lon: float
    jpath: str

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class Shift:
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit on duty when it stands on duty permanently or one of its shifts covers the time."""

    id: str
    name: str
    kind: UnitKind
    station_id: str
    jpath: str
    capabilities: frozenset[str] = frozenset()
    status: UnitStatus = UnitStatus.AVAILABLE
    status_since: datetime | None = None
    always_on_duty: bool = True
    shifts: tuple[Shift, ...] = ()

    @property
    def profile(self) -> Profile:
        return PROFILE_OF[self.kind]

    def is_on_duty(self, at: datetime) -> bool:
        return self.always_on_duty or any(s.covers(at) for s in self.shifts)


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    at: datetime
    accuracy_m: float | None = None

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.at).total_seconds())

    def is_stale(self, now: datetime, max_age_s: float) -> bool:
        return self.age_s(now) > max_age_s


def arrival_distance(position: Position, scene: Point, radius_m: float) -> float | None:
    """The distance to the scene when the position is within `radius_m` of it, else None."""
    distance = haversine_m(position.point, scene)
    return distance if distance <= radius_m else None


Positive = Annotated[float, msgspec.Meta(gt=0)]
Share = Annotated[float, msgspec.Meta(ge=0, lt=1)]
Count = Annotated[int, msgspec.Meta(ge=0)]

# --- rules as data (rules/dispatch.toml) ----------------------------------------------------


class Slot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`count` units of any of `kinds` that have every capability in `capabilities`."""

    role: str
    kinds: list[UnitKind]
    count: Annotated[int, msgspec.Meta(ge=1, le=50)] = 1
    capabilities: list[str] = msgspec.field(default_factory=list)

    def misfit(self, unit: Unit) -> str | None:
        if unit.kind not in self.kinds:
            return f"wrong capability: a {unit.kind} does not serve as {self.role}"
        missing = sorted(set(self.capabilities) - unit.capabilities)
        return f"wrong capability: lacks {', '.join(missing)}" if missing else None


class DispatchSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ack_timeout_s: Positive = 60.0
    arrival_radius_m: Positive = 75.0
    stale_position_s: Positive = 120.0
    coverage_minutes: Positive = 8.0
    busy_probability: Share = 0.3
    coverage_penalty_s: Annotated[float, msgspec.Meta(ge=0)] = 600.0
    search_levels: Count = 1
    candidates_per_slot: Annotated[int, msgspec.Meta(ge=1)] = 5
    excluded_per_slot: Count = 20


class UnitMapping(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: UnitKind
    capabilities: list[str] = msgspec.field(default_factory=list)


class CadFormat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How one CAD export maps onto our incident types and unit kinds."""

    timezone: str
    default_incident_type: str
    root: str = "cad"  # jurisdiction path imported calls go under
    # Unit ids that name their home station (e.g. E39 lives at station 39): replay places them
    # at their station area's centre. One group: the station number.
    station_unit_pattern: str = ""
    call_types: dict[str, str] = msgspec.field(default_factory=dict)
    unit_types: dict[str, UnitMapping] = msgspec.field(default_factory=dict)

    def incident_type_of(self, call_type: str) -> str:
        return self.call_types.get(call_type, self.default_incident_type)


class DispatchRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    requirements: dict[str, list[Slot]]
    intervals: dict[Interval, Target]
    settings: DispatchSettings = msgspec.field(default_factory=DispatchSettings)
    cad: dict[str, CadFormat] = msgspec.field(default_factory=dict)

    def slots_for(self, incident_type: str) -> list[Slot]:
        return self.requirements.get(incident_type, [])


class DispatchRulesError(ValueError):
    """A dispatch rules file that cannot be used; the message names the problem."""


def parse_dispatch_rules(text: bytes | str, *, incident_types: Iterable[str] = ()) -> DispatchRules:
    """Decode and check; `incident_types` (from the correlation rules) must all have slots."""
    try:
        rules = msgspec.toml.decode(text, type=DispatchRules)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DispatchRulesError(f"invalid dispatch rules: {exc}") from exc
    missing = sorted(set(incident_types) - set(rules.requirements))
    problems = [f"no requirements for incident type {t}" for t in missing]
    problems += [f"no target for interval {i}" for i in check_targets(rules.intervals)]
    problems += [f"incident type {t} has no slots" for t, s in rules.requirements.items() if not s]
    for name, fmt in sorted(rules.cad.items()):
        named = {fmt.default_incident_type, *fmt.call_types.values()}
        problems += [
            f"cad.{name} maps to unknown type {t}"
            for t in sorted(named)
            if t not in rules.requirements
        ]
    if problems:
        raise DispatchRulesError("; ".join(problems))
    return rules


# --- what happened ----------------------------------------------------------------------------


class UnitDispatched(DomainEvent, frozen=True, tag=True):
    incident_id: str
    unit_id: str
    assignment_id: int
    by: str
    ack_due_at: datetime
    eta_s: float | None = None


class UnitStatusChanged(DomainEvent, frozen=True, tag=True):
    unit_id: str
    from_status: str
    to_status: str
    by: str
    incident_id: str | None = None


class UnitPositionReported(DomainEvent, frozen=True, tag=True):
    """An on-duty unit's position: what the console's map moves the unit with."""

    unit_id: str
    lat: float
    lon: float


class UnitArrived(DomainEvent, frozen=True, tag=True):
    incident_id: str
    unit_id: str
    detected: str  # 'position' or 'manual'
    distance_m: float | None = None


class AssignmentUnacknowledged(DomainEvent, frozen=True, tag=True):
    incident_id: str
    unit_id: str
    assignment_id: int
    waited_s: float
    reason: str
    suggested_unit_id: str | None = None
    suggested_eta_s: float | None = None


DISPATCH_EVENTS = (UnitDispatched, UnitStatusChanged, UnitArrived, AssignmentUnacknowledged)
ACK_TIMER = "assignment_ack"
