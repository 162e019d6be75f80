"""Use case: keep what a message left after translation - positions, states, evidence links -
in one transaction. Native events go to JetStream first (publish.py), so a crash in between
replays the same ids rather than losing an alarm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from commonwatch.ingest.bridge.outputs import (
    Evidence,
    Native,
    Output,
    Position,
    StateSnapshot,
    UnitGone,
)
from commonwatch.storage import sources
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


async def store(conn: Conn, batch: Sorted) -> None:
    if not batch.stored:
        return
    async with conn.transaction():
        await sources.add_evidence(conn, batch.evidence)
        await sources.save_positions(conn, batch.positions)
        await sources.mark_gone(conn, batch.gone)
        await sources.save_states(conn, batch.states)
