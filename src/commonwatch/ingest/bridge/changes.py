"""Change detection for sources that repeat their whole state in every message.

An event is a CHANGE of a value, not a message: the same cached state sent again is nothing new.
Pure functions over StateSnapshot; the bridge persists the snapshots so restarts do not re-fire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.decoding import bounded_id
from commonwatch.ingest.bridge.outputs import Native, Output, Scalar, StateSnapshot


def merge(
    source: str, key: str, prev: StateSnapshot | None, values: Mapping[str, Scalar]
) -> StateSnapshot | None:
    """The next snapshot with `values` laid over the previous ones; None when nothing changed."""
    before = dict(prev.values) if prev else {}
    after = {**before, **values}
    if prev is not None and after == before:
        return None
    return StateSnapshot(source, key, (prev.seq if prev else 0) + 1, after)


def flag_changes(
    prev: StateSnapshot | None, new: StateSnapshot, flags: Mapping[str, bool]
) -> list[tuple[str, bool]]:
    """(flag, raised?) for each flag whose value differs from before. A flag never seen before
    counts only when raised: a device first heard in its normal state has nothing to report."""
    before = prev.values if prev else {}
    changed = []
    for flag in flags:
        now, was = new.values.get(flag), before.get(flag)
        if now == was:
            continue
        if was is None and now is not True:
            continue
        changed.append((flag, now is True))
    return changed


@dataclass(frozen=True, slots=True)
class Target:
    """The device a change is about, and the source and id prefix of its events."""

    source: str
    prefix: str
    device: str
    community: str | None


def change_events(
    target: Target, snapshot: StateSnapshot, changes: list[tuple[str, bool]], at: datetime
) -> list[Output]:
    """One alarm or restore per changed flag (the flag is the event type), then the snapshot.
    Ids carry the change counter, so a replay after a crash publishes the very same ids."""
    out: list[Output] = [
        Native(
            id=bounded_id(target.prefix, target.device, snapshot.seq, flag),
            device=target.device,
            community=target.community,
            type=flag,
            state=EventState.ALARM if raised else EventState.RESTORE,
            ts=at,
            source=target.source,
        )
        for flag, raised in changes
    ]
    out.append(snapshot)
    return out
