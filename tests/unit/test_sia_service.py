"""The receiver's use case: a frame in, an answer out, and an ACK only after the bus stored it.

An in-memory bus stands in for JetStream here; tests/integration/test_sia_receiver.py does the
same over real sockets with real servers.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from commonwatch.ingest.native.parse import EventIn
from commonwatch.ingest.sia import dialler
from commonwatch.ingest.sia.config import Account, Book, account, merge
from commonwatch.ingest.sia.dialler import Dial, read_answer
from commonwatch.ingest.sia.publish import Outgoing
from commonwatch.ingest.sia.service import SiaService
from commonwatch.ingest.sia.supervision import Supervisor

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
KEY = "0123456789abcdef"
FIXTURES = tomllib.loads((Path(__file__).parents[1] / "fixtures/sia/frames.toml").read_text())


@dataclass
class Bus:
    """JetStream as the receiver sees it: stores once per Nats-Msg-Id, or is down."""

    up: bool = True
    stored: dict[str, Outgoing] = field(default_factory=dict)

    async def publish(self, items: Sequence[Outgoing]) -> bool:
        if not self.up:
            return False
        for item in items:
            self.stored.setdefault(item.msg_id, item)
        return True

    def events(self) -> list[tuple[str, EventIn]]:
        decode = msgspec.json.Decoder(EventIn).decode
        return [(o.subject, decode(o.payload)) for o in self.stored.values()]


@dataclass
class Sinks:
    letters: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple[object, ...]] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)

    def dead(self, reason: str, via: str, raw: bytes | None) -> None:
        self.letters.append((reason, via))

    def log(self, rows: list[tuple[object, ...]]) -> None:
        self.rows += rows

    async def place(self, devices: list[tuple[str, Account]]) -> None:
        self.placed += [d for d, _ in devices]


@dataclass
class Station:
    """A receiving centre with a frozen clock."""

    book: Book
    now: datetime = NOW
    bus: Bus = field(default_factory=Bus)
    sinks: Sinks = field(default_factory=Sinks)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.now, grace_s=0)
        self.supervisor.track(self.book, self.now)
        self.service = SiaService(
            publisher=self.bus, accounts=lambda: self.book, supervisor=self.supervisor,
            sinks=self.sinks, clock=lambda: self.now,
        )  # fmt: skip

    async def send(self, frame: bytes) -> bytes | None:
        return await self.service.handle(frame.strip(b"\n\r"), "tcp")


ACCOUNTS = merge(
    [
        account("1234", community="c-riverside"),
        account("AAAB", key="AAAAAAAAAAAAAAAA"),
        account("5EC0", key=KEY, community="c-riverside"),
    ]
)
CLEAR_NOW = Dial(timestamp=NOW)
SEALED_NOW = Dial(timestamp=NOW, key=KEY.encode())


@pytest.mark.parametrize("case", FIXTURES["frames"], ids=lambda c: c["name"])
async def test_it_answers_every_recorded_frame(case: dict[str, object]) -> None:
    station = Station(ACCOUNTS, now=case.get("now", NOW))  # type: ignore[arg-type]
    answer = await station.send(str(case["frame"]).encode())
    if case["answer"] == "none":
        assert answer is None and station.bus.stored == {}
        return
    key = str(case["key"]).encode() if "key" in case else None
    assert answer is not None and read_answer(answer, key).kind == case["answer"]
    mapped = [e for _, e in station.bus.events() if e.type != "unknown_account"]
    assert [e.type for e in mapped] == case["types"]
    assert [e.state.value for e in mapped] == case["states"]
    zones = [e.device.split("-z")[1] if e.device and "-z" in e.device else "" for e in mapped]
    assert zones == case["zones"]


async def test_it_publishes_an_allowlisted_native_event_before_acking() -> None:
    station = Station(ACCOUNTS)
    answer = await station.send(dialler.sia_dcs("1234", 7, "ri1/FA03", CLEAR_NOW))
    assert answer is not None and read_answer(answer).kind == "ACK"
    ((subject, event),) = station.bus.events()
    assert subject == "commonwatch.events.c-riverside.sia-1234-z3"
    assert (event.type, event.state, event.device, event.community) == (
        "smoke", "alarm", "sia-1234-z3", "c-riverside",
    )  # fmt: skip
    assert (event.ts, event.received, event.source) == (NOW, NOW, "sia")
    assert station.sinks.placed == ["sia-1234-z3"]
    (row,) = station.sinks.rows
    assert row[:8] == ("1234", "0007", "SIA-DCS", "FA", "3", "1", "smoke", "alarm")


async def test_it_sends_nothing_when_the_bus_cannot_store() -> None:
    station = Station(ACCOUNTS, bus=Bus(up=False))
    assert await station.send(dialler.sia_dcs("1234", 7, "ri1/FA03", CLEAR_NOW)) is None
    assert station.sinks.rows == []


async def test_it_stores_a_panel_retry_once_even_re_encrypted() -> None:
    station = Station(ACCOUNTS)
    first = dialler.sia_dcs("5EC0", 9, "ri1/BA02", Dial(timestamp=NOW, key=KEY.encode(), pad="a"))
    retry = dialler.sia_dcs("5EC0", 9, "ri1/BA02", Dial(timestamp=NOW, key=KEY.encode(), pad="b"))
    assert first != retry
    await station.send(first)
    await station.send(retry)
    assert len(station.bus.stored) == 1


async def test_it_acks_an_encrypted_message_with_an_encrypted_ack() -> None:
    station = Station(ACCOUNTS)
    answer = await station.send(dialler.adm_cid("5EC0", 3, "1120 01 000", SEALED_NOW))
    assert answer is not None
    reply = read_answer(answer, KEY.encode())
    assert (reply.kind, reply.encrypted, reply.seq, reply.timestamp) == ("ACK", True, "0003", NOW)
    assert [e.type for _, e in station.bus.events()] == ["panic"]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (dialler.sia_dcs("FFFF", 1, "ri1/FA01", SEALED_NOW), "no key"),
        (dialler.sia_dcs("5EC0", 1, "ri1/FA01", CLEAR_NOW), "has a key"),
        (dialler.sia_dcs("5EC0", 1, "ri1/FA01", Dial(key=KEY.encode())), "timestamp"),
        (dialler.sia_dcs("5EC0", 1, "ri1/FA01", Dial(timestamp=NOW, key=b"X" * 16)), "decrypts"),
        (dialler.sia_dcs("1234", 1, "ri1/FA01", Dial(timestamp=NOW - timedelta(seconds=41))),
         "window"),
        (dialler.sia_dcs("1234", 1, "ri1/FA01", Dial(timestamp=NOW + timedelta(seconds=21))),
         "window"),
    ],
)  # fmt: skip
async def test_it_naks_what_it_cannot_decrypt_or_is_out_of_time(frame: bytes, reason: str) -> None:
    station = Station(ACCOUNTS)
    answer = await station.send(frame)
    assert answer is not None
    nak = read_answer(answer)
    assert (nak.kind, nak.encrypted, nak.timestamp) == ("NAK", False, NOW)
    assert station.bus.stored == {}
    assert reason in station.sinks.letters[0][0]


async def test_it_gives_no_answer_to_a_corrupted_frame_and_dead_letters_it() -> None:
    station = Station(ACCOUNTS)
    good = dialler.sia_dcs("1234", 1, "ri1/FA01", CLEAR_NOW)
    assert await station.send(good.replace(b"FA01", b"FA07")) is None
    assert station.bus.stored == {} and station.sinks.letters == [("CRC mismatch", "tcp")]


async def test_it_says_duh_to_content_it_does_not_understand() -> None:
    station = Station(ACCOUNTS)
    answer = await station.send(dialler.message("ADM-CID", 4, "1234", "#1234|hello", CLEAR_NOW))
    assert answer is not None and read_answer(answer).kind == "DUH"
    assert station.bus.stored == {}


async def test_it_acks_an_unknown_account_and_says_so() -> None:
    station = Station(ACCOUNTS)
    answer = await station.send(dialler.adm_cid("BEEF", 1, "1110 01 004", CLEAR_NOW))
    assert answer is not None and read_answer(answer).kind == "ACK"
    events = {(s, e.type, e.state.value) for s, e in station.bus.events()}
    assert events == {
        ("commonwatch.events._.sia-BEEF-z4", "smoke", "alarm"),
        ("commonwatch.events._.sia-BEEF", "unknown_account", "alarm"),
    }
    assert station.sinks.placed == []


async def test_it_says_an_unknown_panel_links_in_only_once_an_hour() -> None:
    station = Station(ACCOUNTS)
    for seq in range(3):
        await station.send(dialler.null("BEEF", seq, CLEAR_NOW))
    station.now += timedelta(hours=1)
    await station.send(dialler.null("BEEF", 9, Dial(timestamp=station.now)))
    assert [e.type for _, e in station.bus.events()] == ["unknown_account"] * 2


async def test_it_raises_and_restores_communication_failure() -> None:
    book = merge([account("1234", supervision_s=60)])
    station = Station(book)
    station.now += timedelta(seconds=61)
    assert await station.service.sweep() == 1
    assert await station.service.sweep() == 0
    answer = await station.send(dialler.null("1234", 5, Dial(timestamp=station.now)))
    assert answer is not None and read_answer(answer).kind == "ACK"
    assert [(e.type, e.state.value, e.device) for _, e in station.bus.events()] == [
        ("communication_failure", "alarm", "sia-1234"),
        ("communication_failure", "restore", "sia-1234"),
    ]
    assert station.sinks.rows == []  # link tests are not logged


async def test_it_keeps_a_panel_supervised_while_it_sends_link_tests() -> None:
    station = Station(merge([account("1234", supervision_s=60)]))
    for _ in range(5):
        station.now += timedelta(seconds=50)
        await station.send(dialler.null("1234", 1, Dial(timestamp=station.now)))
        assert await station.service.sweep() == 0
    assert station.bus.stored == {}
