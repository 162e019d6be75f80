"""The consumer's NATS protocol reader, fed bytes the way a socket delivers them."""

from __future__ import annotations

import pytest

from commonwatch.bus.pull import Delivery
from commonwatch.bus.wire import WireProtocol, ack_frames, connect_line, parse_url

REPLY = "$JS.ACK.CW_EVENTS.ingest.1.42.7.1700000000123456789.3"


class Sink:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: list[bytes] = []


def reader() -> tuple[WireProtocol, Sink]:
    sink = Sink()
    return WireProtocol(sink.deliveries.append, sink.statuses.append), sink


def hmsg(subject: str, reply: str, header: bytes, data: bytes) -> bytes:
    head = f"HMSG {subject} 1 {reply} {len(header)} {len(header) + len(data)}\r\n".encode()
    return head + header + data + b"\r\n"


async def test_reads_mqtt_messages_split_at_every_byte() -> None:
    proto, sink = reader()
    header = b"NATS/1.0\r\nNmqtt-Pub: 1\r\n\r\n"
    wire = hmsg("commonwatch.events.c1.d1", REPLY, header, b'{"type":"smoke"}') * 2
    for i in range(len(wire)):
        proto.data_received(wire[i : i + 1])
    assert [d.data for d in sink.deliveries] == [b'{"type":"smoke"}'] * 2
    first = sink.deliveries[0]
    assert (first.subject, first.stream_seq, first.delivered, first.mqtt) == (
        "commonwatch.events.c1.d1",
        42,
        1,
        True,
    )
    assert first.stored_ns == 1700000000123456789


async def test_plain_messages_are_not_mqtt_and_keep_crlf_inside_the_payload() -> None:
    proto, sink = reader()
    data = b"line one\r\nline two"
    proto.data_received(f"MSG a.b 1 {REPLY} {len(data)}\r\n".encode() + data + b"\r\n")
    assert sink.deliveries[0].data == data
    assert not sink.deliveries[0].mqtt


async def test_a_status_without_reply_ends_the_request() -> None:
    proto, sink = reader()
    proto.data_received(b"HMSG _INBOX.x 1 28 28\r\nNATS/1.0 404 No Messages\r\n\r\n\r\n")
    assert sink.statuses == [b"NATS/1.0 404 No Messages\r\n\r\n"]
    assert sink.deliveries == []


async def test_server_error_is_kept_for_the_caller() -> None:
    proto, _ = reader()
    proto.data_received(b"-ERR 'Authorization Violation'\r\n")
    assert proto.error == "Authorization Violation"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nats://127.0.0.1:4333", ("127.0.0.1", 4333, None, None, None, False)),
        ("nats://s3cr3t@nats.example:4222", ("nats.example", 4222, None, None, "s3cr3t", False)),
        ("tls://ops:p%40ss@nats.example", ("nats.example", 4222, "ops", "p@ss", None, True)),
        ("localhost:5000", ("localhost", 5000, None, None, None, False)),
    ],
)
def test_parse_url(url: str, expected: tuple[object, ...]) -> None:
    a = parse_url(url)
    assert (a.host, a.port, a.user, a.password, a.token, a.tls) == expected


def test_parse_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="scheme"):
        parse_url("http://127.0.0.1:4222")


def test_connect_line_carries_credentials_and_asks_for_headers() -> None:
    line = connect_line(parse_url("nats://ops:pw@h:1"), "ingest")
    assert line.startswith(b"CONNECT {") and line.endswith(b"}\r\nPING\r\n")
    assert b'"headers": true' in line and b'"user": "ops"' in line and b'"pass": "pw"' in line


def test_ack_frames_publish_plus_ack_to_each_reply() -> None:
    assert ack_frames(["r.1", "r.2"]) == b"PUB r.1 4\r\n+ACK\r\nPUB r.2 4\r\n+ACK\r\n"
