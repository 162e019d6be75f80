"""Use case: one frame in, at most one answer out. An ACK goes back only once JetStream has
stored every event the message carries; until then the panel's alarm is the panel's to resend.

- bad CRC, wrong length, unreadable header: no answer (DC-09 lets the panel's timeout retry;
  answering an unverified frame would also let a forged UDP source aim our replies elsewhere);
- cannot decrypt, or timestamp outside the account's window: NAK with our time;
- sound frame, content not understood: DUH;
- JetStream unavailable: no answer, the panel retries.
Every rejected frame becomes a dead letter with its reason, never with its bytes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import msgspec

from commonwatch.bus.subjects import event_subject
from commonwatch.domain.model import EventState
from commonwatch.ingest.native.parse import EventIn
from commonwatch.ingest.sia import respond
from commonwatch.ingest.sia.config import DEFAULT, Account, Book
from commonwatch.ingest.sia.crypto import Undecryptable, decrypt
from commonwatch.ingest.sia.mapping import (
    COMMUNICATION_FAILURE,
    UNKNOWN_ACCOUNT,
    Signal,
    from_cid,
    from_sia,
)
from commonwatch.ingest.sia.parse import (
    ContentError,
    Envelope,
    ParseError,
    Rest,
    format_timestamp,
    location,
    parse_cid,
    parse_dcs,
    parse_frame,
    parse_rest,
)
from commonwatch.ingest.sia.publish import Outgoing
from commonwatch.ingest.sia.supervision import Supervisor

SOURCE = "sia"
# Without a panel timestamp, retries are told apart from new messages by the 10-minute slot
# they arrive in: a retry across a slot boundary is stored twice, never lost.
UNSTAMPED_SLOT_S = 600
UNKNOWN_NULL_EVERY = timedelta(hours=1)
_encode = msgspec.json.Encoder().encode


class OutsideWindow(ParseError):
    """A timestamp outside the account's window (a replay, or a panel clock adrift): NAK."""


NAK_ERRORS = (Undecryptable, OutsideWindow)


class Publisher(Protocol):
    async def publish(self, items: Sequence[Outgoing]) -> bool: ...


class Sinks(Protocol):
    """Where the side effects go: all best effort, none may hold up or fail an alarm."""

    def dead(self, reason: str, via: str, raw: bytes | None) -> None: ...

    def log(self, rows: list[tuple[object, ...]]) -> None: ...

    async def place(self, devices: list[tuple[str, Account]]) -> None: ...


class Opened(msgspec.Struct, frozen=True):
    """A message read and understood: its account (None when unconfigured) and what it means."""

    env: Envelope
    account: Account | None
    key: bytes | None
    rest: Rest
    signals: tuple[Signal, ...]
    owner: Account  # the account, or a bare one for a panel nobody configured


# A panel sends the same few data blocks (its codes and zones) all day: each is read once.
@functools.lru_cache(maxsize=65_536)
def _dcs(data: str) -> tuple[Signal, ...]:
    events = parse_dcs(data)
    return (from_sia(events[0]),) if len(events) == 1 else tuple(map(from_sia, events))


@functools.lru_cache(maxsize=65_536)
def _cid(data: str) -> tuple[Signal, ...]:
    return (from_cid(parse_cid(data)),)


DECODERS: dict[str, Callable[[str], tuple[Signal, ...]]] = {
    "SIA-DCS": _dcs,
    "ADM-CID": _cid,
    "NULL": lambda data: (),
}


def open_message(env: Envelope, account: Account | None, now: datetime) -> Opened:
    decoder = DECODERS.get(env.id)
    if decoder is None:
        raise ContentError(f"message id {env.id[:32]!r} is not SIA-DCS, ADM-CID or NULL")
    key, rest = _reveal(env, account)
    stamp = rest.timestamp
    if stamp is not None and not (account or DEFAULT).in_window(stamp, now):
        raise OutsideWindow(f"timestamp {format_timestamp(stamp)} is outside the window")
    owner = account or Account(env.number)
    return Opened(env, account, key, rest, decoder(rest.data), owner)


def _reveal(env: Envelope, account: Account | None) -> tuple[bytes | None, Rest]:
    if not env.encrypted:
        if account is not None and account.keys:
            raise Undecryptable("the account has a key but the message is not encrypted")
        return None, parse_rest(env.rest)
    if account is None or not account.keys:
        raise Undecryptable("encrypted message from an account with no key configured")
    key, text = decrypt(account.keys, env.rest)
    rest = parse_rest(text)
    if rest.timestamp is None:
        raise Undecryptable("an encrypted message must carry a timestamp")
    return key, rest


def digest(op: Opened, received: datetime) -> str:
    """The same for a panel's retry of a message (even re-encrypted with a new pad)."""
    slot = "" if op.rest.timestamp else f"~{int(received.timestamp()) // UNSTAMPED_SLOT_S}"
    text = f"{op.env.number}|{op.env.seq}|{op.env.id}|{op.rest.text}|{slot}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def native(
    owner: Account, device: str, kind: str, state: EventState, ident: str, ts: datetime | None,
    received: datetime,
) -> Outgoing:  # fmt: skip
    item = EventIn(
        type=kind, state=state, id=ident, device=device, community=owner.community, ts=ts,
        received=received, source=SOURCE,
    )  # fmt: skip
    return Outgoing(subject_for(owner.community or "_", device), _encode(item), ident)


@functools.lru_cache(maxsize=65_536)  # a panel's zones repeat all day
def subject_for(community: str, device: str) -> str:
    return event_subject(community, device)


def utcnow() -> datetime:
    return datetime.now(UTC)


class SiaService:
    def __init__(
        self,
        *,
        publisher: Publisher,
        accounts: Callable[[], Book],
        supervisor: Supervisor,
        sinks: Sinks,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.publisher, self.accounts, self.supervisor = publisher, accounts, supervisor
        self.sinks, self.clock = sinks, clock
        self._unknown_null: dict[str, datetime] = {}

    async def handle(self, raw: bytes, via: str) -> bytes | None:
        """The answer to one frame (the bytes between LF and CR), or None for silence."""
        now = self.clock()
        try:
            env = parse_frame(raw)
        except ParseError as exc:
            self.sinks.dead(exc.reason, via, raw)
            return None
        try:
            opened = open_message(env, self.accounts().accounts.get(env.number), now)
        except NAK_ERRORS as exc:
            self.sinks.dead(exc.reason, f"{via}/#{env.number}", raw)
            return respond.nak(now)
        except ContentError as exc:
            self.sinks.dead(exc.reason, f"{via}/#{env.number}", raw)
            return respond.duh(env)
        if not await self._deliver(opened, now):
            return None
        return respond.ack(env, key=opened.key, now=now)

    async def _deliver(self, op: Opened, now: datetime) -> bool:
        ident, owner, ts = digest(op, now), op.owner, op.rest.timestamp
        devices = [(owner.device_for(s.zone), owner) for s in op.signals]
        out = [
            native(owner, d, s.type, s.state, f"sia-{ident}-{i}", ts, now)
            for i, (s, (d, _)) in enumerate(zip(op.signals, devices, strict=True))
        ]
        out += self._extra(op, ident, now)
        if owner.community and op.account is not None and devices:
            await self.sinks.place(devices)
        if out and not await self.publisher.publish(out):
            return False
        self._accepted(op, [o.msg_id for o in out[: len(op.signals)]], now)
        return True

    def _extra(self, op: Opened, ident: str, now: datetime) -> list[Outgoing]:
        """unknown_account for an unconfigured panel; the restore of a communication failure."""
        owner, ts = op.owner, op.rest.timestamp
        if op.account is None and self._unknown_due(op, now):
            alarm = EventState.ALARM
            return [native(owner, owner.panel, UNKNOWN_ACCOUNT, alarm, f"sia-{ident}-u", ts, now)]
        if op.account is not None and self.supervisor.failed(op.env.number):
            restore = EventState.RESTORE
            kind = COMMUNICATION_FAILURE
            return [native(owner, owner.panel, kind, restore, f"sia-{ident}-r", ts, now)]
        return []

    def _unknown_due(self, op: Opened, now: datetime) -> bool:
        """Every alarm of an unknown panel says so; its link tests only once an hour."""
        if op.signals:
            return True
        last = self._unknown_null.get(op.env.number)
        if last is not None and now - last < UNKNOWN_NULL_EVERY:
            return False
        if len(self._unknown_null) > 10_000:
            self._unknown_null.clear()
        self._unknown_null[op.env.number] = now
        return True

    def _accepted(self, op: Opened, ids: list[str], now: datetime) -> None:
        self.supervisor.seen(op.env.number, now)
        if op.signals:
            self.sinks.log(message_rows(op, ids, now))

    async def sweep(self) -> int:
        """Raise communication_failure for each supervised account silent past its window."""
        now = self.clock()
        raised = 0
        for due in self.supervisor.overdue(self.accounts(), now):
            owner = due.account
            ident = f"sia-{owner.number}-cf-{int(due.last_seen.timestamp() * 1000)}"
            alarm = native(owner, owner.panel, COMMUNICATION_FAILURE, EventState.ALARM, ident,
                           None, now)  # fmt: skip
            if not await self.publisher.publish([alarm]):
                continue
            raised += 1
            if not self.supervisor.mark_failed(owner.number, now, due.last_seen):
                back = native(owner, owner.panel, COMMUNICATION_FAILURE, EventState.RESTORE,
                              f"{ident}-r", None, now)  # fmt: skip
                await self.publisher.publish([back])
        return raised


def message_rows(op: Opened, ids: list[str], now: datetime) -> list[tuple[object, ...]]:
    lon, lat = location(op.rest.xdata)
    owner = op.owner
    return [
        (owner.number, op.env.seq, op.env.id, s.code, s.zone, s.area, s.type, str(s.state),
         op.env.encrypted, ident, op.rest.timestamp, now, lon, lat, owner.jpath)
        for s, ident in zip(op.signals, ids, strict=True)
    ]  # fmt: skip
