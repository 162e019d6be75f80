"""Use cases of dispatch: recommend, assign, unit status and positions, the acknowledgement
timeout, and the interval report. Each owns its transaction.

Locks are taken in one order everywhere, unit -> incident -> assignment, so two use cases never
wait for each other in a cycle.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import cast

from commonwatch.domain import dispatch as ranking
from commonwatch.domain import units
from commonwatch.domain.dispatch import CoverageSpec, Recommendation, Scene, recommend
from commonwatch.domain.events import DomainEvent
from commonwatch.domain.intervals import IntervalReport, build_report
from commonwatch.domain.model import IllegalTransition, Incident, IncidentStatus, check_transition
from commonwatch.domain.travel import StraightLine, TravelTimes
from commonwatch.domain.units import (
    DispatchRules,
    Position,
    Shift,
    Station,
    Unit,
    UnitPositionReported,
    UnitStatus,
)
from commonwatch.handlers.accounts import in_scope
from commonwatch.handlers.incidents import IncidentNotFound
from commonwatch.storage import dispatch as store
from commonwatch.storage import incidents, outbox
from commonwatch.storage.accounts import Principal
from commonwatch.storage.dispatch import AssignmentView
from commonwatch.storage.incidents import Conn

log = logging.getLogger(__name__)

ENV_DISPATCH_RULES = "COMMONWATCH_DISPATCH_RULES"
TIMER_ACTOR = "rule:assignment_ack"
ASSIGNABLE_INCIDENT = frozenset({IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED})


class UnitNotFound(LookupError):
    """No unit with this id in the caller's jurisdiction."""


class Conflict(ValueError):
    """The thing to create exists already."""


class Rejected(ValueError):
    """The request cannot be carried out as asked; the message says why."""


class Refused(ValueError):
    """The current state does not allow it (e.g. the unit is off duty)."""


class OutOfScope(PermissionError):
    """The caller may not create things in that part of the tree."""


@dataclass(frozen=True, slots=True)
class Dispatch:
    """What the use cases need besides a connection."""

    rules: DispatchRules
    travel: TravelTimes


def load_dispatch_rules(
    path: Path | None = None, *, incident_types: Sequence[str] = ()
) -> DispatchRules:
    """The file named, else $COMMONWATCH_DISPATCH_RULES, else the shipped rules/dispatch.toml."""
    named = path or os.environ.get(ENV_DISPATCH_RULES)
    shipped = resources.files("commonwatch") / "rules" / "dispatch.toml"
    text = Path(named).read_text() if named else shipped.read_text()
    return units.parse_dispatch_rules(text, incident_types=incident_types)


def load_travel_times(data_dir: Path | None) -> TravelTimes:
    """The road network when commonwatch.routing has one for this data dir, else straight lines."""
    try:
        loader = getattr(importlib.import_module("commonwatch.routing"), "load_travel_times", None)
        if loader is not None and data_dir is not None:
            return cast(TravelTimes, loader(data_dir))
    except Exception as exc:  # no network imported or unreadable: every answer says 'fallback'
        log.warning("road network unavailable (%s); using straight-line travel times", exc)
    return StraightLine()


@functools.cache
def default_dispatch(data_dir: Path | None = None) -> Dispatch:
    """The shipped (or $COMMONWATCH_DISPATCH_RULES) rules and the data dir's travel times."""
    from commonwatch.runtime.config import default_data_dir

    return Dispatch(load_dispatch_rules(), load_travel_times(data_dir or default_data_dir()))


async def create_station(conn: Conn, station: Station, *, by: Principal) -> Station:
    if not in_scope(station.jpath, by.scope):
        raise OutOfScope(f"{station.jpath} lies outside your jurisdiction {by.scope}")
    async with conn.transaction():
        if not await store.insert_station(conn, station):
            raise Conflict(f"station {station.id!r} exists")
    return station


async def create_unit(conn: Conn, draft: Unit, *, by: Principal) -> Unit:
    """The unit belongs where its home station is."""
    async with conn.transaction():
        station = await store.get_station(conn, draft.station_id)
        if station is None or not in_scope(station.jpath, by.scope):
            raise Rejected(f"no station {draft.station_id!r}")
        unit = Unit(
            id=draft.id, name=draft.name, kind=draft.kind, station_id=station.id,
            jpath=station.jpath, capabilities=draft.capabilities, status=UnitStatus.AVAILABLE,
            status_since=datetime.now(UTC), always_on_duty=draft.always_on_duty,
        )  # fmt: skip
        if not await store.insert_unit(conn, unit):
            raise Conflict(f"unit {draft.id!r} exists")
    return unit


async def add_shift(conn: Conn, unit_id: str, shift: Shift, *, by: Principal) -> Unit:
    async with conn.transaction():
        await _unit(conn, unit_id, by, shift.starts_at, lock=True)
        await store.add_shift(conn, unit_id, shift)
        return await _unit(conn, unit_id, by, datetime.now(UTC))


async def _unit(
    conn: Conn, unit_id: str, by: Principal, at: datetime, *, lock: bool = False
) -> Unit:
    unit = await store.get_unit(conn, unit_id, at=at, lock=lock)
    if unit is None or not in_scope(unit.jpath, by.scope):
        raise UnitNotFound(f"no unit {unit_id!r}")
    return unit


async def recommendations(
    conn: Conn, incident_id: str, *, by: Principal, dispatch: Dispatch, coverage: bool = False,
    now: datetime | None = None,
) -> Recommendation:  # fmt: skip
    incident = await store.get_incident(conn, incident_id)
    if incident is None or not in_scope(incident.jpath, by.scope):
        raise IncidentNotFound(incident_id)
    return await _recommend(conn, incident, by.scope, dispatch, coverage, now or datetime.now(UTC))


def search_root(jpath: str, levels: int) -> str:
    """The subtree candidates come from: the first `levels` labels of the incident's path."""
    return ".".join(jpath.split(".")[:levels]) if levels else ""


async def _recommend(
    conn: Conn, incident: Incident, scope: str, dispatch: Dispatch, coverage: bool, now: datetime
) -> Recommendation:
    settings = dispatch.rules.settings
    location = await store.incident_location(conn, incident)
    if location is None:
        raise Rejected(
            f"incident {incident.id} has no location: give its building or community coordinates"
        )
    root = search_root(incident.jpath, settings.search_levels)
    fleet = await store.fleet(conn, scope=scope, within=root, at=now)
    active = {a.unit_id for a in await store.incident_assignments(conn, incident.id) if a.counts}
    scene = Scene(
        incident.id, incident.type, location, tuple(m.unit for m in fleet if m.unit.id in active)
    )
    spec = None
    if coverage:
        points = tuple(await store.demand_points(conn, within=root))
        minutes, q, penalty = (
            settings.coverage_minutes,
            settings.busy_probability,
            settings.coverage_penalty_s,
        )
        spec = CoverageSpec(points, minutes, q, penalty)
    slots = dispatch.rules.slots_for(incident.type)
    return recommend(scene, fleet, slots, dispatch.travel, settings, now=now, coverage=spec)


async def assign(
    conn: Conn, incident_id: str, unit_id: str, *, by: Principal, dispatch: Dispatch,
    now: datetime | None = None,
) -> AssignmentView:  # fmt: skip
    """Send a unit: unit dispatched, incident dispatched, assignment, timer, timeline, outbox."""
    when = now or datetime.now(UTC)
    async with conn.transaction():
        unit = await _unit(conn, unit_id, by, when, lock=True)
        incident = await incidents.get_for_update(conn, incident_id)
        if incident is None or not in_scope(incident.jpath, by.scope):
            raise IncidentNotFound(incident_id)
        _check_assignable(unit, incident, when)
        eta = await _eta(conn, unit, incident, dispatch)
        due = when + timedelta(seconds=dispatch.rules.settings.ack_timeout_s)
        assignment = await store.insert_assignment(
            conn, incident=incident, unit=unit, at=when, ack_due_at=due, by=by.account_id, eta_s=eta
        )
        if incident.status in ASSIGNABLE_INCIDENT:
            await incidents.set_status(conn, incident.id, IncidentStatus.DISPATCHED, at=when)
        await store.set_unit_status(
            conn, unit, UnitStatus.DISPATCHED, at=when, incident_id=incident.id, actor=by.account_id
        )
        dispatched = units.UnitDispatched(
            at=when, incident_id=incident.id, unit_id=unit.id, assignment_id=assignment.id,
            by=by.account_id, ack_due_at=due, eta_s=eta,
        )  # fmt: skip
        changed = _changed(unit, UnitStatus.DISPATCHED, when, by.account_id, incident.id)
        await _record(conn, incident, [dispatched, changed], by.account_id)
    return assignment


def _check_assignable(unit: Unit, incident: Incident, when: datetime) -> None:
    if not unit.is_on_duty(when):
        raise Refused(f"unit {unit.id} is off duty")
    units.check_unit_transition(unit.id, unit.status, UnitStatus.DISPATCHED)
    if incident.status in ASSIGNABLE_INCIDENT:
        check_transition(incident.status, IncidentStatus.DISPATCHED)
    elif not incident.is_open:
        raise IllegalTransition(f"incident {incident.id} is {incident.status}: it takes no units")


async def _eta(conn: Conn, unit: Unit, incident: Incident, dispatch: Dispatch) -> float | None:
    fix = (await store.positions(conn, [unit.id])).get(unit.id)
    location = await store.incident_location(conn, incident)
    if fix is None or location is None:
        return None
    [estimate] = dispatch.travel.many_to_one([fix.point], location, unit.profile)
    return round(estimate.seconds, 1) if estimate.reachable else None


def _changed(
    unit: Unit, target: UnitStatus, at: datetime, actor: str, incident_id: str | None
) -> units.UnitStatusChanged:
    return units.UnitStatusChanged(
        at=at, unit_id=unit.id, from_status=unit.status, to_status=target, by=actor,
        incident_id=incident_id,
    )  # fmt: skip


async def _record(
    conn: Conn, incident: Incident, events: Sequence[DomainEvent], actor: str
) -> None:
    await incidents.append_timeline(conn, events, actor=actor)
    await outbox.append(conn, events, {incident.id: incident.jpath}, default_jpath=incident.jpath)


async def change_unit_status(
    conn: Conn, unit_id: str, target: UnitStatus, *, by: Principal, now: datetime | None = None
) -> Unit:
    """What a unit reports: en route (its acknowledgement), on scene, busy, clear."""
    when = now or datetime.now(UTC)
    if target is UnitStatus.DISPATCHED:
        raise Rejected("a unit is dispatched by assigning it: POST /incidents/{id}/assign")
    async with conn.transaction():
        unit = await _unit(conn, unit_id, by, when, lock=True)
        units.check_unit_transition(unit.id, unit.status, target)
        assignment = await store.open_assignment(conn, unit.id)
        incident = await _incident_of(conn, assignment)
        await _move(conn, unit, target, assignment, incident, when, by.account_id)
        return await _unit(conn, unit_id, by, when)


async def _incident_of(conn: Conn, assignment: AssignmentView | None) -> Incident | None:
    return await incidents.get_for_update(conn, assignment.incident_id) if assignment else None


async def _move(
    conn: Conn, unit: Unit, target: UnitStatus, assignment: AssignmentView | None,
    incident: Incident | None, when: datetime, actor: str, *, detected: str = "manual",
    distance_m: float | None = None,
) -> None:  # fmt: skip
    incident_id = incident.id if incident else None
    await store.set_unit_status(conn, unit, target, at=when, incident_id=incident_id, actor=actor)
    events: list[DomainEvent] = [_changed(unit, target, when, actor, incident_id)]
    column = units.ASSIGNMENT_STAMP.get(target)
    if assignment is not None and column is not None:
        await store.stamp_assignment(conn, assignment.id, column, when)
    if incident is None:
        await store.append_unit_outbox(conn, events, unit.jpath)
        return
    if target is UnitStatus.ON_SCENE:
        if incident.status is IncidentStatus.DISPATCHED:
            await incidents.set_status(conn, incident.id, IncidentStatus.ON_SCENE, at=when)
        arrived = units.UnitArrived(
            at=when, incident_id=incident.id, unit_id=unit.id, detected=detected,
            distance_m=distance_m,
        )  # fmt: skip
        events.append(arrived)
    await _record(conn, incident, events, actor)


@dataclass(frozen=True, slots=True)
class PositionOutcome:
    unit_id: str
    stored: bool  # False: a newer position was stored already
    arrived_at: str | None = None  # the incident the unit was found to have reached
    distance_m: float | None = None


async def report_position(
    conn: Conn, unit_id: str, fix: Position, *, by: Principal, arrival_radius_m: float,
    speed_kmh: float | None = None,
) -> PositionOutcome:  # fmt: skip
    """Store a position; a dispatched unit this close to its incident is on scene."""
    async with conn.transaction():
        unit = await _unit(conn, unit_id, by, fix.at, lock=True)
        stored = await store.upsert_position(conn, unit, fix, speed_kmh=speed_kmh)
        if stored:
            moved = UnitPositionReported(at=fix.at, unit_id=unit.id, lat=fix.lat, lon=fix.lon)
            await outbox.append(conn, [moved], {}, default_jpath=unit.jpath)
        if not stored or unit.status not in (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE):
            return PositionOutcome(unit.id, stored)
        arrival = await _arrival(conn, unit, fix, arrival_radius_m)
        if arrival is None:
            return PositionOutcome(unit.id, stored)
        assignment, incident, distance = arrival
        await _move(
            conn, unit, UnitStatus.ON_SCENE, assignment, incident, fix.at, by.account_id,
            detected="position", distance_m=distance,
        )  # fmt: skip
        return PositionOutcome(unit.id, stored, incident.id, distance)


async def _arrival(
    conn: Conn, unit: Unit, fix: Position, radius_m: float
) -> tuple[AssignmentView, Incident, float] | None:
    """The unit's assignment, incident and distance when this fix puts it on scene."""
    assignment = await store.open_assignment(conn, unit.id)
    # A fix taken before the unit was sent says nothing about this response.
    if assignment is None or fix.at < assignment.dispatched_at:
        return None
    incident = await incidents.get_for_update(conn, assignment.incident_id)
    location = await store.incident_location(conn, incident) if incident else None
    if incident is None or location is None:
        return None
    distance = units.arrival_distance(fix, location, radius_m)
    return None if distance is None else (assignment, incident, round(distance, 1))


async def fire_assignment_timers(
    conn: Conn, *, now: datetime, dispatch: Dispatch | None = None, limit: int = 100
) -> int:
    """Escalate assignments whose unit did not acknowledge in time, suggesting the next unit.
    Claims timers of kind 'assignment_ack' with SKIP LOCKED, so many runners are safe."""
    chosen = dispatch or default_dispatch()
    async with conn.transaction():
        claimed = await store.claim_ack_timers(conn, now=now, limit=limit)
        for _, incident_id in claimed:
            await _escalate(conn, incident_id, chosen, now)
    return len(claimed)


async def _escalate(conn: Conn, incident_id: str, dispatch: Dispatch, now: datetime) -> None:
    incident = await incidents.get_for_update(conn, incident_id)
    overdue = await store.overdue_assignments(conn, incident_id, now) if incident else []
    if incident is None or not overdue:
        return
    for assignment in overdue:
        await store.stamp_assignment(conn, assignment.id, "unacknowledged_at", now)
    suggestion: Recommendation | None = None
    with contextlib.suppress(Rejected):  # no location: escalate all the same, suggesting nobody
        suggestion = await _recommend(conn, incident, "", dispatch, False, now)
    events = [await _unacknowledged(conn, a, suggestion, now) for a in overdue]
    await _record(conn, incident, events, TIMER_ACTOR)


async def _unacknowledged(
    conn: Conn, assignment: AssignmentView, suggestion: Recommendation | None, now: datetime
) -> units.AssignmentUnacknowledged:
    unit = await store.get_unit(conn, assignment.unit_id, at=now)
    best = ranking.replacement_for(suggestion, unit.kind) if suggestion and unit else None
    waited = (now - assignment.dispatched_at).total_seconds()
    return units.AssignmentUnacknowledged(
        at=now, incident_id=assignment.incident_id, unit_id=assignment.unit_id,
        assignment_id=assignment.id, waited_s=round(waited, 1),
        reason=f"unit {assignment.unit_id} did not acknowledge within {waited:.0f} s",
        suggested_unit_id=best.unit_id if best else None,
        suggested_eta_s=best.eta_s if best else None,
    )  # fmt: skip


async def interval_report(
    conn: Conn, *, scope: str, rules: DispatchRules, jurisdiction: str = "",
    since: datetime | None = None, until: datetime | None = None,
) -> IntervalReport:  # fmt: skip
    """Live and imported incidents alike, in the caller's scope and the chosen subtree."""
    times = await store.interval_times(
        conn, scope=scope, jurisdiction=jurisdiction, since=since, until=until
    )
    name = jurisdiction or scope
    return build_report(times, rules.intervals, jurisdiction=name, since=since, until=until)
