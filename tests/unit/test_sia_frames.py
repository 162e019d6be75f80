"""SIA DC-09 framing: CRC-16/ARC, the length field, and cutting frames out of a TCP stream."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from commonwatch.ingest.sia.parse import (
    MAX_FRAME,
    Dropped,
    Framer,
    ParseError,
    crc16,
    frame,
    parse_frame,
)

FIXTURES = tomllib.loads((Path(__file__).parents[1] / "fixtures/sia/frames.toml").read_text())


def arc(data: bytes) -> int:
    """CRC-16/ARC written out bit by bit, independent of the table-driven one under test."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


BODY = '"SIA-DCS"0002R1L0#1234[#1234|Nri1/FA01]_14:12:04,09-25-2019'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", 0xBB3D),  # the CRC-16/ARC check value
        (b"", 0x0000),
        (b"A", 0x30C0),
        (b'"NAK"0000R0L0A0[]_10:10:18,07-30-2024', 0xE563),  # a NAK captured on the wire
    ],
)
def test_it_computes_crc16_arc_known_vectors(data: bytes, expected: int) -> None:
    assert crc16(data) == expected
    assert arc(data) == expected


def test_it_frames_a_body_with_its_crc_and_length() -> None:
    raw = frame(BODY).decode()
    assert raw[0] == "\n" and raw[-1] == "\r"
    assert raw[1:5] == f"{arc(BODY.encode()):04X}"
    assert raw[5:9] == f"{len(BODY):04X}" and raw[5] == "0"
    assert raw[9:-1] == BODY


def test_it_reads_the_header_of_a_sound_frame() -> None:
    env = parse_frame(frame(BODY)[1:-1])
    assert (env.id, env.encrypted, env.seq, env.receiver, env.line, env.account) == (
        "SIA-DCS", False, "0002", "1", "0", "1234",
    )  # fmt: skip
    assert env.rest == "#1234|Nri1/FA01]_14:12:04,09-25-2019"


def test_it_rejects_a_corrupted_crc() -> None:
    raw = bytearray(frame(BODY)[1:-1])
    raw[0:4] = b"0000" if raw[0:4] != b"0000" else b"FFFF"
    with pytest.raises(ParseError, match="CRC"):
        parse_frame(bytes(raw))


def test_it_rejects_a_body_changed_in_transit() -> None:
    raw = frame(BODY)[1:-1].replace(b"FA01", b"FA02")
    with pytest.raises(ParseError, match="CRC"):
        parse_frame(raw)


@pytest.mark.parametrize("declared", [len(BODY) - 1, len(BODY) + 1, len(BODY) + 0x100])
def test_it_rejects_a_wrong_length_field_even_with_a_good_crc(declared: int) -> None:
    raw = f"{arc(BODY.encode()):04X}{declared:04X}{BODY}".encode()
    with pytest.raises(ParseError, match="length"):
        parse_frame(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"12", "shorter"),
        (b"ZZZZ0004abcd", "CRC field"),
        (b"0000100A" + b"x" * 10, "0LLL"),
        (b"0000000", "shorter"),
    ],
)
def test_it_names_what_is_wrong_with_a_broken_header(raw: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_frame(raw)


def test_it_rejects_bytes_outside_printable_ascii() -> None:
    body = BODY.encode().replace(b"1234|", b"12\xff4|")
    raw = b"%04X%04X" % (arc(body), len(body)) + body
    with pytest.raises(ParseError, match="ASCII"):
        parse_frame(raw)


def test_it_joins_a_frame_split_across_reads() -> None:
    whole = frame(BODY)
    framer = Framer()
    got: list[bytes | Dropped] = []
    for i in range(len(whole)):
        got += framer.feed(whole[i : i + 1])
    assert got == [whole[1:-1]]


def test_it_splits_frames_coalesced_in_one_read() -> None:
    frames = [frame(BODY.replace("0002", f"{n:04d}")) for n in range(5)]
    got = Framer().feed(b"".join(frames))
    assert got == [f[1:-1] for f in frames]


def test_it_drops_garbage_between_frames_and_says_so() -> None:
    whole = frame(BODY)
    got = Framer().feed(b"GET / HTTP/1.1" + whole + b"\x00\x00" + whole)
    assert got == [Dropped("bytes outside a frame", 14), whole[1:-1], whole[1:-1]]


def test_it_restarts_on_a_new_lf_before_the_cr() -> None:
    whole = frame(BODY)
    got = Framer().feed(whole[:20] + whole)
    assert got[0] == Dropped("frame interrupted by a new LF before its CR", 20)
    assert got[1:] == [whole[1:-1]]


def test_it_never_buffers_more_than_one_frame_of_garbage() -> None:
    framer = Framer()
    dropped = framer.feed(b"\n" + b"A" * (MAX_FRAME * 3))
    assert [d.reason for d in dropped if isinstance(d, Dropped)] == [
        f"no CR within {MAX_FRAME} bytes"
    ]
    assert framer.feed(b"x" * 100_000) == [Dropped("bytes outside a frame", 100_000)]
    assert framer.feed(frame(BODY)) == [frame(BODY)[1:-1]]


def test_it_reports_an_unfinished_frame_at_the_end() -> None:
    framer = Framer()
    assert framer.feed(frame(BODY)[:30]) == []
    assert framer.close() == Dropped("unfinished frame: no CR after LF", 30)
    assert framer.close() is None


@pytest.mark.parametrize("case", FIXTURES["frames"], ids=lambda c: c["name"])
def test_it_reads_every_recorded_frame_with_a_sound_crc(case: dict[str, object]) -> None:
    raw = str(case["frame"]).encode()
    items = Framer().feed(raw)
    assert len(items) == 1 and isinstance(items[0], bytes)
    if case["answer"] == "none":
        with pytest.raises(ParseError):
            parse_frame(items[0])
    else:
        assert int(items[0][:4], 16) == arc(items[0][8:])
        assert parse_frame(items[0]).seq.isdigit()
