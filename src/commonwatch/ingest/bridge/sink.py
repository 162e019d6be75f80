"""Use case: keep what a message left after translation - positions, states, evidence links -
in one transaction. Native events go to JetStream first (publish.py), so a crash in between
replays the same ids rather than losing an alarm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from commonwatch.domain.units import Position as Fix
from commonwatch.handlers import dispatch
from commonwatch.ingest.bridge.outputs import (
    Evidence,
    Native,
    Output,
    Position,
    StateSnapshot,
    UnitGone,
)
from commonwatch.storage import dispatch as dispatch_store
from commonwatch.storage import sources
from commonwatch.storage.accounts import Principal, Role
from commonwatch.storage.incidents import Conn


@dataclass
class Sorted:
    natives: list[Native] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    gone: list[UnitGone] = field(default_factory=list)
    states: list[StateSnapshot] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return bool(self.evidence or self.positions or self.gone or self.states)


def sort_outputs(outputs: Sequence[Output]) -> Sorted:
    out = Sorted()
    for o in outputs:
        if isinstance(o, Native):
            out.natives.append(o)
        elif isinstance(o, Evidence):
            out.evidence.append(o)
        elif isinstance(o, Position):
            out.positions.append(o)
        elif isinstance(o, UnitGone):
            out.gone.append(o)
        else:
            out.states.append(o)
    return out


async def store(conn: Conn, batch: Sorted, *, arrival_radius_m: float) -> None:
    if not batch.stored:
        return
    async with conn.transaction():
        await sources.add_evidence(conn, batch.evidence)
        await sources.save_positions(conn, batch.positions)
        await sources.mark_gone(conn, batch.gone)
        await sources.save_states(conn, batch.states)
    if batch.positions:
        await report_to_dispatch(conn, batch.positions, arrival_radius_m=arrival_radius_m)


# OwnTracks fixes of units Commonwatch dispatches take the same path as the API's position
# endpoint: the console sees the unit move, and a dispatched unit near its incident is on scene.
SOURCE = Principal(account_id="source:owntracks", role=Role.INTEGRATION, scope="")


async def report_to_dispatch(
    conn: Conn, positions: Sequence[Position], *, arrival_radius_m: float
) -> list[dispatch.PositionOutcome]:
    """Each fix of a registered unit, oldest first, through dispatch (its own transaction)."""
    registered = await dispatch_store.registered_units(conn, {p.unit_id for p in positions})
    outcomes = []
    for p in sorted(positions, key=lambda p: p.at):
        if p.unit_id not in registered:
            continue
        fix = Fix(p.lat, p.lon, p.at, p.accuracy_m)
        radius = arrival_radius_m
        outcome = await dispatch.report_position(
            conn, p.unit_id, fix, by=SOURCE, arrival_radius_m=radius, speed_kmh=p.speed_kmh
        )
        outcomes.append(outcome)
    return outcomes
