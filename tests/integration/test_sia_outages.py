"""The SIA receiver when things go away: JetStream down means no ACK (the panel retries), and a
restart neither forgets a communication failure nor raises it twice."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import msgspec
import pytest
from nats.js import JetStreamContext

from commonwatch.bus import subjects
from commonwatch.bus.streams import ensure_streams
from commonwatch.ingest.native.parse import EventIn
from commonwatch.ingest.sia import dialler
from commonwatch.ingest.sia.config import account
from commonwatch.ingest.sia.dialler import TcpDialler, read_answer, udp_exchange
from commonwatch.ingest.sia.receiver import Receiver, ReceiverOptions
from commonwatch.runtime.embedded import EmbeddedNats, free_port
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db
from tests.conftest import Servers


@pytest.fixture
async def js(servers: Servers) -> AsyncIterator[JetStreamContext]:
    await db.migrate(servers.database_url)
    nc = await connect_nats(servers.nats_url, "sia-outage-tests")
    await ensure_streams(nc.jetstream())
    yield nc.jetstream()
    await nc.close()


async def stored(js: JetStreamContext, subject: str) -> list[EventIn]:
    sub = await js.pull_subscribe(subject, stream=subjects.EVENTS_STREAM)
    try:
        msgs = await sub.fetch(100, timeout=1.0)
    except TimeoutError:
        msgs = []
    finally:
        await sub.unsubscribe()
    return [msgspec.json.decode(m.data, type=EventIn) for m in msgs]


async def test_it_never_acks_while_jetstream_is_down(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats-outage"), port=free_port(),
                          mqtt_port=free_port())  # fmt: skip
    server.start()
    acct = secrets.token_hex(3).upper()
    rx = Receiver(ReceiverOptions(nats_url=server.url, port=0, publish_timeout_s=0.5))
    await rx.start()
    panel = await TcpDialler.connect("127.0.0.1", rx.port)
    try:
        up = await panel.exchange(dialler.sia_dcs(acct, 1, "ri1/FA01"))
        assert read_answer(up).kind == "ACK"
        await asyncio.to_thread(server.stop)
        await panel.send(dialler.sia_dcs(acct, 2, "ri1/FA02"))
        with pytest.raises(TimeoutError):
            await panel.answer(timeout_s=2.0)
    finally:
        await panel.close()
        await rx.stop()
        server.stop()


async def test_it_remembers_a_communication_failure_across_a_restart(
    servers: Servers, js: JetStreamContext
) -> None:
    acct = secrets.token_hex(3).upper()
    subject = f"commonwatch.events._.sia-{acct}"
    options = ReceiverOptions(
        nats_url=servers.nats_url, database_url=servers.database_url, port=0,
        static=(account(acct, supervision_s=0.5),), sweep_s=0.1, grace_s=0.0,
    )  # fmt: skip
    first = Receiver(options)
    await first.start()
    await asyncio.sleep(1.2)
    await first.stop()
    assert [e.state.value for e in await stored(js, subject)] == ["alarm"]

    second = Receiver(options)
    await second.start()
    try:
        await asyncio.sleep(1.2)  # twice the window: a receiver that forgot would raise it again
        assert [e.state.value for e in await stored(js, subject)] == ["alarm"]
        answer = await udp_exchange("127.0.0.1", second.port, dialler.null(acct, 1))
        assert read_answer(answer).kind == "ACK"
    finally:
        await second.stop()
    assert [e.state.value for e in await stored(js, subject)] == ["alarm", "restore"]


async def test_it_takes_alarms_while_the_database_is_away(
    servers: Servers, js: JetStreamContext
) -> None:
    acct = secrets.token_hex(3).upper()
    options = ReceiverOptions(
        nats_url=servers.nats_url,
        database_url="postgresql://nobody@127.0.0.1:1/none",
        port=0,
        static=(account(acct),),
    )
    rx = Receiver(options)
    await rx.start()
    try:
        frame = dialler.sia_dcs(acct, 1, "ri1/FA05")
        answer = await udp_exchange("127.0.0.1", rx.port, frame)
    finally:
        await rx.stop()
    assert read_answer(answer).kind == "ACK"
    (fire,) = await stored(js, f"commonwatch.events._.sia-{acct}-z5")
    assert fire.type == "smoke"
