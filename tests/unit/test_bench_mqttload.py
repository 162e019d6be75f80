"""The bench's hand-written MQTT 3.1.1 publisher encodes packets as the specification says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commonwatch.bench.mqttload import (
    PubackReader,
    Publisher,
    PublisherSpec,
    connect_packet,
    publish_packet,
    remaining_length,
)
from commonwatch.bench.watch import BenchError


def decode_remaining_length(data: bytes) -> tuple[int, int]:
    value, shift = 0, 0
    for i, byte in enumerate(data):
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i + 1
        shift += 7
    raise AssertionError("unterminated")


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
    ],
)
def test_remaining_length_matches_the_examples_of_mqtt_3_1_1(n: int, encoded: bytes) -> None:
    assert remaining_length(n) == encoded


@given(st.integers(min_value=0, max_value=268_435_455))
def test_remaining_length_round_trips(n: int) -> None:
    encoded = remaining_length(n)
    assert decode_remaining_length(encoded) == (n, len(encoded))


def test_publish_packet_is_qos1_with_topic_id_and_payload() -> None:
    topic = b"commonwatch/events/c01/d1"
    packet = publish_packet(len(topic).to_bytes(2, "big") + topic, 513, b'{"id":"x"}')
    assert packet[0] == 0x32  # PUBLISH, QoS 1
    size, used = decode_remaining_length(packet[1:])
    rest = packet[1 + used :]
    assert size == len(rest)
    assert rest[2 : 2 + len(topic)] == topic
    assert rest[2 + len(topic) : 4 + len(topic)] == b"\x02\x01"
    assert rest[4 + len(topic) :] == b'{"id":"x"}'


def test_connect_packet_asks_for_mqtt_3_1_1_and_names_the_client() -> None:
    packet = connect_packet("bench-a", keepalive_s=60)
    assert packet[0] == 0x10
    assert packet[2:10] == b"\x00\x04MQTT\x04\x02"
    assert packet[10:12] == (60).to_bytes(2, "big")
    assert packet.endswith(b"\x00\x07bench-a")


def test_puback_reader_counts_acks_split_across_reads() -> None:
    reader = PubackReader()
    stream = b"\x40\x02\x00\x01" * 3 + b"\xd0\x00" + b"\x40\x02\x00\x04"
    reader.feed(stream[:5])
    reader.feed(stream[5:13])
    reader.feed(stream[13:])
    assert reader.acked == 4


def test_puback_reader_refuses_packets_it_cannot_expect() -> None:
    with pytest.raises(BenchError, match="unexpected"):
        PubackReader().feed(b"\x30\x80\x01")


def test_publisher_window_must_fit_packet_identifiers() -> None:
    with pytest.raises(ValueError, match="window"):
        Publisher(PublisherSpec(0, 1883, "t", "p", 10, window=70_000))
