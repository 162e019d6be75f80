"""What a source's translator hands the bridge: typed, allowlisted values, never a raw payload."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from commonwatch.domain.model import EventState

Scalar = bool | float | str


@dataclass(frozen=True, slots=True)
class Native:
    """A Commonwatch event, published into CW_EVENTS for the ingest worker."""

    id: str
    device: str
    community: str | None
    type: str
    state: EventState
    ts: datetime
    source: str
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """A link to evidence the NVR keeps (a snapshot or a clip) for one of our events."""

    event_id: str
    kind: str
    url: str
    device: str
    community: str | None


@dataclass(frozen=True, slots=True)
class Position:
    unit_id: str
    community: str | None
    lat: float
    lon: float
    at: datetime
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class UnitGone:
    """The unit's app went away (its MQTT last will)."""

    unit_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """The last known state of one source device; `seq` counts its changes."""

    source: str
    key: str
    seq: int
    values: Mapping[str, Scalar] = field(default_factory=dict)


Output = Native | Evidence | Position | UnitGone | StateSnapshot

# The previous snapshot of a device of this source, by key (None: never seen).
StateLookup = Callable[[str], StateSnapshot | None]


@dataclass(frozen=True, slots=True)
class Context:
    """Where a message came from: its connection's default community and when it arrived."""

    received: datetime
    community: str | None = None
    connection: str = "embedded"


def no_state(_key: str) -> StateSnapshot | None:
    return None
