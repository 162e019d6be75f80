"""The receiver's answers are valid DC-09 frames: CRC and length right, fields echoed as sent."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commonwatch.ingest.sia import respond
from commonwatch.ingest.sia.crypto import decrypt
from commonwatch.ingest.sia.dialler import read_answer
from commonwatch.ingest.sia.parse import Envelope

NOW = datetime(2026, 11, 29, 10, 0, 5, tzinfo=UTC)
KEY = b"0123456789abcdef"


def arc(data: bytes) -> int:
    """CRC-16/ARC, bit by bit: the answer's CRC is checked by our own hand, not the code's."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def body_of(raw: bytes) -> str:
    assert raw[:1] == b"\n" and raw[-1:] == b"\r"
    inner = raw[1:-1]
    body = inner[8:]
    assert inner[:4] == b"%04X" % arc(body), "CRC"
    assert inner[4:8] == b"%04X" % len(body), "length"
    assert inner[4:5] == b"0"
    return body.decode("ascii")


def env(receiver: str | None = "1", line: str | None = "0", encrypted: bool = False) -> Envelope:
    rest = "#12ab|Nri1/FA01]"
    return Envelope("SIA-DCS", encrypted, "0042", receiver, line, "12ab", rest, "12AB")


def test_it_acks_with_the_requests_sequence_receiver_line_and_account() -> None:
    assert body_of(respond.ack(env(), key=None, now=NOW)) == '"ACK"0042R1L0#12ab[]'


@pytest.mark.parametrize(
    ("receiver", "line", "expected"),
    [
        (None, "0", '"ACK"0042L0#12ab[]'),
        (None, None, '"ACK"0042#12ab[]'),
        ("579BDF", "789ABC", '"ACK"0042R579BDFL789ABC#12ab[]'),
    ],
)
def test_it_echoes_only_the_fields_the_request_had(
    receiver: str | None, line: str | None, expected: str
) -> None:
    answer = body_of(respond.ack(env(receiver, line), key=None, now=NOW))
    assert answer == expected
    assert "None" not in answer  # pysiaalarm writes "RNone" when there is no receiver field


def test_it_seals_the_ack_of_an_encrypted_request_with_pad_and_timestamp() -> None:
    answer = body_of(respond.ack(env(encrypted=True), key=KEY, now=NOW))
    found = re.fullmatch(r'"\*ACK"0042R1L0#12ab\[([0-9A-F]+)', answer)
    assert found is not None and len(found[1]) % 32 == 0
    assert decrypt((KEY,), found[1]) == (KEY, "]_10:00:05,11-29-2026")


def test_it_naks_in_clear_with_fixed_fields_and_its_clock() -> None:
    assert body_of(respond.nak(NOW)) == '"NAK"0000R0L0A0[]_10:00:05,11-29-2026'


def test_it_says_duh_in_clear_echoing_the_request() -> None:
    assert body_of(respond.duh(env(encrypted=True))) == '"DUH"0042R1L0#12ab[]'


def test_it_reads_a_nak_captured_from_a_real_receiver() -> None:
    fixtures = Path(__file__).parents[1] / "fixtures/sia/frames.toml"
    captured = tomllib.loads(fixtures.read_text())["answers"][0]
    answer = read_answer(captured["frame"].encode())
    assert body_of(captured["frame"].encode()).startswith('"NAK"0000R0L0A0[]')
    assert (answer.kind, answer.timestamp) == (captured["kind"], captured["timestamp"])
