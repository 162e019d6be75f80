"""The SIA DC-09 receiver on real sockets, in front of real NATS JetStream and PostgreSQL.

A panel (the dialler) speaks TCP and UDP, clear and encrypted; every answer's CRC and length are
checked by the test's own CRC function. Each test uses account numbers of its own.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from commonwatch.bus import deadletter, subjects
from commonwatch.bus.streams import ensure_streams
from commonwatch.domain.places import Building, Community
from commonwatch.ingest.native.parse import EventIn
from commonwatch.ingest.sia import dialler
from commonwatch.ingest.sia.config import account
from commonwatch.ingest.sia.dialler import Dial, TcpDialler, read_answer, udp_exchange
from commonwatch.ingest.sia.receiver import Receiver, ReceiverOptions
from commonwatch.runtime.rules import load_rules
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db, registry
from tests.conftest import Servers
from tests.integration.workers import Workers

KEY = "0123456789abcdef0123456789abcdef"  # 32 characters: AES-256 as ASCII
COMMUNITY, BUILDING = "c-sia-test", "b-sia-test"
WATCH_S = 1.5  # a short supervision window, with room for a loaded machine
RULES = load_rules(None)


def arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def checked(raw: bytes) -> bytes:
    """The answer, after checking its CRC and length by our own hand."""
    assert raw[:1] == b"\n" and raw[-1:] == b"\r"
    body = raw[9:-1]
    assert raw[1:5] == b"%04X" % arc(body) and raw[5:9] == b"%04X" % len(body)
    return raw


def number() -> str:
    return secrets.token_hex(3).upper()


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
async def bus(servers: Servers) -> AsyncIterator[tuple[Client, JetStreamContext]]:
    await db.migrate(servers.database_url)
    nc = await connect_nats(servers.nats_url, "sia-tests")
    js = nc.jetstream()
    await ensure_streams(js)
    conn = await db.connect(servers.database_url)
    try:
        await registry.upsert_jurisdiction(conn, path="siatown", kind="city", name="Sia Town")
        community = Community(COMMUNITY, "Sia estate", f"siatown.{COMMUNITY.replace('-', '_')}")
        await registry.upsert_communities(conn, [community])
        building = Building(BUILDING, COMMUNITY, "Block 7", f"{community.jpath}.b7")
        await registry.upsert_buildings(conn, [building])
    finally:
        await conn.close()
    yield nc, js
    await nc.close()


@pytest.fixture(scope="module")
def accounts() -> dict[str, str]:
    return {"clear": number(), "sealed": number(), "placed": number(), "watched": number()}


@pytest.fixture(scope="module")
async def receiver(
    servers: Servers, bus: tuple[Client, JetStreamContext], accounts: dict[str, str]
) -> AsyncIterator[Receiver]:
    options = ReceiverOptions(
        nats_url=servers.nats_url,
        database_url=servers.database_url,
        port=0,
        static=(
            account(accounts["clear"]),
            account(accounts["sealed"], key=KEY),
            account(accounts["placed"], community=COMMUNITY, building=BUILDING),
            account(accounts["watched"], supervision_s=WATCH_S),
        ),
        sweep_s=0.1,
        grace_s=0.0,
        reload_s=0.5,
    )
    rx = Receiver(options)
    await rx.start()
    yield rx
    await rx.stop()


async def events_on(js: JetStreamContext, subject: str, expect: int = 1) -> list[EventIn]:
    """Every event stored on one subject, waiting up to 5 s for `expect` of them."""
    sub = await js.pull_subscribe(subject, stream=subjects.EVENTS_STREAM)
    found: list[EventIn] = []
    try:
        for _ in range(10):
            try:
                msgs = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                msgs = []
            found += [msgspec.json.decode(m.data, type=EventIn) for m in msgs]
            if len(found) >= expect:
                break
    finally:
        await sub.unsubscribe()
    return found


async def nothing_on(js: JetStreamContext, subject: str) -> bool:
    try:
        await js.get_last_msg(subjects.EVENTS_STREAM, subject)
    except NotFoundError:
        return True
    return False


async def tcp(rx: Receiver) -> TcpDialler:
    return await TcpDialler.connect("127.0.0.1", rx.port)


async def test_it_acks_clear_sia_dcs_and_contact_id_over_tcp_after_storing_them(
    receiver: Receiver, bus: tuple[Client, JetStreamContext], accounts: dict[str, str]
) -> None:
    acct = accounts["clear"]
    panel = await tcp(receiver)
    try:
        first = checked(
            await panel.exchange(dialler.sia_dcs(acct, 1, "ri1/BA04", Dial(timestamp=now())))
        )
        second = checked(
            await panel.exchange(dialler.adm_cid(acct, 2, "1111 01 005", Dial(receiver=None)))
        )
    finally:
        await panel.close()
    assert first.endswith(f'"ACK"0001R1L0#{acct}[]\r'.encode())
    assert second.endswith(f'"ACK"0002L0#{acct}[]\r'.encode())
    (burglary,) = await events_on(bus[1], f"commonwatch.events._.sia-{acct}-z4")
    (smoke,) = await events_on(bus[1], f"commonwatch.events._.sia-{acct}-z5")
    assert (burglary.type, burglary.state, burglary.source) == ("intrusion", "alarm", "sia")
    assert (smoke.type, smoke.state) == ("smoke", "alarm")


async def test_it_acks_over_udp_clear_and_encrypted(
    receiver: Receiver, bus: tuple[Client, JetStreamContext], accounts: dict[str, str]
) -> None:
    clear, sealed = accounts["clear"], accounts["sealed"]
    answer = checked(await udp_exchange("127.0.0.1", receiver.port, dialler.null(clear, 3)))
    assert read_answer(answer).kind == "ACK"
    frame = dialler.sia_dcs(sealed, 4, "ri2/PA01", Dial(timestamp=now(), key=KEY.encode()))
    reply = read_answer(
        checked(await udp_exchange("127.0.0.1", receiver.port, frame)), KEY.encode()
    )
    assert (reply.kind, reply.encrypted, reply.seq, reply.account) == ("ACK", True, "0004", sealed)
    (panic,) = await events_on(bus[1], f"commonwatch.events._.sia-{sealed}-z1")
    assert panic.type == "panic"


async def test_it_acks_encrypted_contact_id_over_tcp_with_an_encrypted_ack(
    receiver: Receiver, bus: tuple[Client, JetStreamContext], accounts: dict[str, str]
) -> None:
    sealed = accounts["sealed"]
    panel = await tcp(receiver)
    try:
        frame = dialler.adm_cid(sealed, 5, "1151 01 008", Dial(timestamp=now(), key=KEY.encode()))
        reply = read_answer(checked(await panel.exchange(frame)), KEY.encode())
    finally:
        await panel.close()
    assert (reply.kind, reply.encrypted) == ("ACK", True)
    assert reply.timestamp is not None and abs(reply.timestamp - now()) < timedelta(seconds=5)
    (gas,) = await events_on(bus[1], f"commonwatch.events._.sia-{sealed}-z8")
    assert gas.type == "gas"


MATRIX = [
    (via, kind, sealed)
    for via in ("tcp", "udp")
    for kind in ("SIA-DCS", "ADM-CID")
    for sealed in (False, True)
]


@pytest.mark.parametrize(("via", "kind", "sealed"), MATRIX)
async def test_it_acks_each_protocol_id_and_encryption_over_each_transport(
    receiver: Receiver,
    bus: tuple[Client, JetStreamContext],
    accounts: dict[str, str],
    via: str,
    kind: str,
    sealed: bool,
) -> None:
    acct = accounts["sealed" if sealed else "clear"]
    zone = 200 + MATRIX.index((via, kind, sealed))
    dial = Dial(timestamp=now(), key=KEY.encode() if sealed else None)
    if kind == "SIA-DCS":
        frame = dialler.sia_dcs(acct, zone, f"ri1/TA{zone}", dial)
    else:
        frame = dialler.adm_cid(acct, zone, f"1137 01 {zone}", dial)
    if via == "tcp":
        panel = await tcp(receiver)
        try:
            raw = await panel.exchange(frame)
        finally:
            await panel.close()
    else:
        raw = await udp_exchange("127.0.0.1", receiver.port, frame)
    answer = read_answer(checked(raw), KEY.encode())
    assert (answer.kind, answer.encrypted, answer.seq) == ("ACK", sealed, f"{zone:04d}")
    (tamper,) = await events_on(bus[1], f"commonwatch.events._.sia-{acct}-z{zone}")
    assert (tamper.type, tamper.state) == ("tamper", "alarm")


async def test_it_answers_frames_coalesced_or_split_in_order(
    receiver: Receiver, accounts: dict[str, str]
) -> None:
    acct = accounts["clear"]
    frames = [dialler.sia_dcs(acct, 100 + n, f"ri1/BA{n + 10}") for n in range(5)]
    panel = await tcp(receiver)
    try:
        await panel.send(b"".join(frames))
        coalesced = [read_answer(checked(await panel.answer())).seq for _ in frames]
        for piece in (frames[0][:7], frames[0][7:30], frames[0][30:]):
            await panel.send(piece)
            await asyncio.sleep(0.05)
        split = read_answer(checked(await panel.answer()))
    finally:
        await panel.close()
    assert coalesced == ["0100", "0101", "0102", "0103", "0104"]
    assert (split.kind, split.seq) == ("ACK", "0100")


async def test_it_gives_no_answer_and_no_event_for_a_corrupted_crc(
    receiver: Receiver, bus: tuple[Client, JetStreamContext], accounts: dict[str, str]
) -> None:
    acct = accounts["clear"]
    good = dialler.sia_dcs(acct, 7, "ri1/FA61", Dial(timestamp=now()))
    corrupted = good[:1] + (b"0000" if good[1:5] != b"0000" else b"FFFF") + good[5:]
    panel = await tcp(receiver)
    try:
        await panel.send(corrupted)
        with pytest.raises(TimeoutError):
            await panel.answer(timeout_s=1.0)
        assert read_answer(checked(await panel.exchange(dialler.null(acct, 8)))).seq == "0008"
    finally:
        await panel.close()
    assert await nothing_on(bus[1], f"commonwatch.events._.sia-{acct}-z61")
    letters = await deadletter.recent(bus[1], limit=20)
    assert any(d.source == "sia" and d.reason == "CRC mismatch" for d in letters)


async def test_it_naks_a_stale_timestamp_with_its_own_clock(
    receiver: Receiver, bus: tuple[Client, JetStreamContext], accounts: dict[str, str]
) -> None:
    acct = accounts["clear"]
    stale = dialler.sia_dcs(acct, 9, "ri1/FA62", Dial(timestamp=now() - timedelta(minutes=5)))
    panel = await tcp(receiver)
    try:
        nak = read_answer(checked(await panel.exchange(stale)))
    finally:
        await panel.close()
    assert (nak.kind, nak.seq, nak.encrypted) == ("NAK", "0000", False)
    assert nak.timestamp is not None and abs(nak.timestamp - now()) < timedelta(seconds=5)
    assert await nothing_on(bus[1], f"commonwatch.events._.sia-{acct}-z62")


async def test_it_acks_an_unknown_account_and_raises_unknown_account(
    receiver: Receiver, bus: tuple[Client, JetStreamContext]
) -> None:
    stranger = number()
    panel = await tcp(receiver)
    try:
        ack = read_answer(
            checked(await panel.exchange(dialler.adm_cid(stranger, 1, "1110 01 002")))
        )
        sealed = dialler.null(stranger, 2, Dial(timestamp=now(), key=KEY.encode()))
        nak = read_answer(checked(await panel.exchange(sealed)))
    finally:
        await panel.close()
    assert (ack.kind, nak.kind) == ("ACK", "NAK")
    (flag,) = await events_on(bus[1], f"commonwatch.events._.sia-{stranger}")
    (fire,) = await events_on(bus[1], f"commonwatch.events._.sia-{stranger}-z2")
    assert (flag.type, flag.state, fire.type) == ("unknown_account", "alarm", "smoke")


async def drain(worker: Workers) -> None:
    while await worker.step(expires_s=0.3):
        pass


async def test_it_turns_a_fire_alarm_into_a_fire_incident_in_its_building(
    servers: Servers, receiver: Receiver, bus: tuple[Client, JetStreamContext],
    accounts: dict[str, str],
) -> None:  # fmt: skip
    acct = accounts["placed"]
    panel = await tcp(receiver)
    try:
        frame = dialler.sia_dcs(acct, 11, "ri1/FA09", Dial(timestamp=now()))
        assert read_answer(checked(await panel.exchange(frame))).kind == "ACK"
    finally:
        await panel.close()
    conn = await db.connect(servers.database_url)
    try:
        worker = Workers(nc=bus[0], js=bus[1], conn=conn, rules=RULES)
        await worker.start()
        await drain(worker)
        device = f"sia-{acct}-z9"
        incident = await conn.fetchrow(
            "SELECT type, building_id, community_id, jpath::text AS jpath FROM incidents "
            "WHERE $1 = ANY(device_ids)",
            device,
        )
        logged = await _logged(conn, acct)
    finally:
        await conn.close()
    assert incident is not None
    assert (incident["type"], incident["building_id"], incident["community_id"]) == (
        "fire", BUILDING, COMMUNITY,
    )  # fmt: skip
    assert incident["jpath"].endswith(".b7")
    assert logged == [("FA", "9", "smoke", "alarm")]


async def _logged(conn: asyncpg.Connection, acct: str) -> list[tuple[str, str, str, str]]:
    """The raw-code log is written after the ACK, within a flush interval."""
    for _ in range(20):
        rows = await conn.fetch(
            "SELECT code, zone, event_type, state FROM sia_messages WHERE account = $1", acct
        )
        if rows:
            return [tuple(r) for r in rows]  # type: ignore[misc]
        await asyncio.sleep(0.1)
    return []


async def test_it_supervises_a_panel_by_its_link_tests(
    servers: Servers, receiver: Receiver, bus: tuple[Client, JetStreamContext],
    accounts: dict[str, str],
) -> None:  # fmt: skip
    acct = accounts["watched"]
    subject = f"commonwatch.events._.sia-{acct}"
    (silent,) = await events_on(bus[1], subject)  # nothing heard since the receiver started
    assert (silent.type, silent.state) == ("communication_failure", "alarm")
    for seq in range(10):  # 3 s of link tests, one every 0.3 s, against a 1.5 s window
        answer = await udp_exchange("127.0.0.1", receiver.port, dialler.null(acct, seq))
        assert read_answer(checked(answer)).kind == "ACK"
        await asyncio.sleep(0.3)
    states = [e.state.value for e in await events_on(bus[1], subject, expect=2)]
    assert states == ["alarm", "restore"]
    await asyncio.sleep(WATCH_S + 0.5)
    later = await events_on(bus[1], subject, expect=3)
    assert [(e.type, e.state.value) for e in later][2] == ("communication_failure", "alarm")
    conn = await db.connect(servers.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT last_seen, failed_since FROM sia_supervision WHERE account = $1", acct
        )
    finally:
        await conn.close()
    assert row is not None and row["failed_since"] is not None
