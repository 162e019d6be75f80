"""Properties: no bytes a panel (or anyone) sends crash the receiver. The framer and parser raise
nothing but ParseError; a frame that gets no ACK leaves a dead letter saying why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonwatch.ingest.sia import dialler
from commonwatch.ingest.sia.config import account, merge
from commonwatch.ingest.sia.dialler import Dial, read_answer
from commonwatch.ingest.sia.parse import MAX_FRAME, Dropped, Framer, ParseError, frame, parse_frame
from tests.unit.test_sia_service import Station

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
BOOK = merge([account("1234"), account("5EC0", key="0123456789abcdef")])

# Pieces of real frames, so that random bodies often get past the header into the content.
fragments = st.sampled_from(
    ['"', "SIA-DCS", "ADM-CID", "NULL", "*", "0001", "R1", "L0", "#", "1234", "5EC0", "[", "]",
     "|", "N", "ri1", "/", "FA01", "BA", "^x^", "1110 01 015", "_10:00:00,11-29-2026", "[X1.5]",
     "00", "A0", "9"]
)  # fmt: skip
printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
bodies = st.lists(fragments | st.text(alphabet=printable, max_size=6), max_size=16)


@PROPERTY
@given(st.lists(st.binary(max_size=300), max_size=12))
def test_it_frames_any_byte_stream_without_failing(chunks: list[bytes]) -> None:
    framer = Framer()
    for chunk in chunks:
        for item in framer.feed(chunk):
            if isinstance(item, Dropped):
                assert item.reason and item.size > 0
            else:
                assert len(item) <= MAX_FRAME and b"\n" not in item and b"\r" not in item
        assert len(framer._buf) <= MAX_FRAME + 1


@PROPERTY
@given(st.binary(max_size=200))
def test_it_parses_any_bytes_or_raises_parse_error(raw: bytes) -> None:
    reason = "accepted"
    try:
        parse_frame(raw)
    except ParseError as exc:
        reason = exc.reason
    assert reason


@PROPERTY
@given(bodies)
def test_it_answers_any_sound_frame_or_dead_letters_it(pieces: list[str]) -> None:
    body = "".join(pieces)[:4000]
    station = Station(BOOK)
    answer = asyncio.run(station.send(frame(body)))
    if answer is None or read_answer(answer, b"0123456789abcdef").kind != "ACK":
        assert station.sinks.letters and all(reason for reason, _ in station.sinks.letters)
        assert station.bus.stored == {}


@PROPERTY
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_it_never_answers_a_frame_damaged_in_one_byte(position: int, value: int) -> None:
    good = dialler.sia_dcs("1234", 3, "ri1/FA01", Dial(timestamp=NOW))
    damaged = bytearray(good)
    index = 1 + position % (len(good) - 2)  # between LF and CR
    if damaged[index] == value or value in (0x0A, 0x0D):
        return
    damaged[index] = value
    station = Station(BOOK)
    assert asyncio.run(station.send(bytes(damaged))) is None
    assert station.bus.stored == {} and station.sinks.letters
