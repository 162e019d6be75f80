"""Parse the native JSON event format. Bad input raises ParseError with a field-level reason.

Stored events are built from an allowlist: only the fields declared on EventIn survive; anything
else a device sends (names, plates, free text) is dropped here and never reaches storage or logs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import msgspec
import msgspec.structs

from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.ingest.native.mapping import event_type

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]
EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
TypeName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]

MIN_EPOCH = 946_684_800.0  # 2000-01-01
MAX_EPOCH = 4_102_444_800.0  # 2100-01-01
MIN_TIME = datetime.fromtimestamp(MIN_EPOCH, UTC)
MAX_TIME = datetime.fromtimestamp(MAX_EPOCH, UTC)
MAX_BATCH = 1000

T = TypeVar("T")


class EventIn(msgspec.Struct, kw_only=True, frozen=True):
    type: TypeName
    state: EventState = EventState.ALARM
    id: EventId | None = None
    device: Ident | None = None
    community: Ident | None = None
    ts: datetime | float | None = None
    value: float | None = None
    # Set only by the platform's own HTTP ingest, so that the receive time survives the bus.
    received: datetime | None = None
    source: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class ParseError(ValueError):
    """Input that is not a valid event; `reason` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_one = msgspec.json.Decoder(EventIn)
_many = msgspec.json.Decoder(EventIn | list[EventIn])


def _decode(decoder: msgspec.json.Decoder[T], data: bytes) -> T:
    try:
        return decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ParseError(str(exc)) from None
    except RecursionError:
        # msgspec recurses into the unknown fields it skips: ~1000 nested brackets in a 2 KB body
        # would otherwise escape as RecursionError and stall the worker on one poison message.
        raise ParseError("JSON nested too deeply") from None


def decode_one(data: bytes) -> EventIn:
    return _decode(_one, data)


def decode_many(data: bytes) -> list[EventIn]:
    decoded = _decode(_many, data)
    items = decoded if isinstance(decoded, list) else [decoded]
    if not items:
        raise ParseError("expected at least one event, got an empty array")
    if len(items) > MAX_BATCH:
        raise ParseError(f"at most {MAX_BATCH} events per request, got {len(items)}")
    return items


def device_time(ts: datetime | float | None, received: datetime) -> datetime:
    if ts is None:
        return received
    if isinstance(ts, datetime):
        return checked_time(ts, "ts")
    if not MIN_EPOCH <= ts <= MAX_EPOCH:
        raise ParseError(
            f"`ts` must be epoch seconds between 2000 and 2100, got {ts!r} - at `$.ts`"
        )
    return datetime.fromtimestamp(ts, UTC)


def checked_time(value: datetime, name: str) -> datetime:
    """Naive means UTC. The same 2000-2100 window as epoch seconds: mixing naive and aware
    datetimes breaks correlation, and years near 1 or 9999 overflow the database driver."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not MIN_TIME <= aware <= MAX_TIME:
        raise ParseError(
            f"`{name}` must be between 2000 and 2100, got {value.isoformat()} - at `$.{name}`"
        )
    return aware


_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


def check_ident(value: str, name: str) -> str:
    """Ids from a topic or path get the same check as ids in the body."""
    if not _IDENT.match(value):
        raise ParseError(f"`{name}` {value[:140]!r} must match {_IDENT.pattern}")
    return value


def untrusted(item: EventIn) -> EventIn:
    """Devices may not set the fields only the platform's own HTTP ingest stamps."""
    if item.received is None and item.source is None:
        return item
    return msgspec.structs.replace(item, received=None, source=None)


def to_event(
    item: EventIn,
    *,
    fallback_id: str,
    received: datetime,
    device: str | None = None,
    community: str | None = None,
    source: str = "http",
) -> DeviceEvent:
    """A DeviceEvent; topic/path values (device, community) win over the body's."""
    device_id = device or item.device
    if not device_id:
        raise ParseError("Object missing required field `device` - at `$`")
    return DeviceEvent(
        id=item.id or fallback_id,
        device_id=device_id,
        community_id=community or item.community or "",
        type=event_type(item.type),
        state=item.state,
        device_ts=device_time(item.ts, received),
        received_ts=checked_time(item.received, "received") if item.received else received,
        value=item.value,
        source=item.source or source,
    )
