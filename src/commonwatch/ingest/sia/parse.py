"""SIA DC-09 framing and message parsing. Pure: bytes in, typed values or ParseError out.

A frame is LF + CRC (4 hex) + length `0LLL` (4 hex) + body + CR; CRC and length both cover the
body from its opening `"` to the last character before CR. TCP is a stream, so frames are cut on
LF...CR from a bounded buffer, never on read() boundaries (pysiaalarm reads by chunks, and never
checks the length field: both are bugs we avoid).
"""

from __future__ import annotations

import functools
import math
import re
import sys
from array import array
from datetime import UTC, datetime

import msgspec

LF, CR = 0x0A, 0x0D
MAX_BODY = 0xFFF  # the length field is `0LLL`: three hex digits
MAX_FRAME = 4 + 4 + MAX_BODY  # what lies between LF and CR
MAX_XDATA = 16
# Bytes panels put between frames (NUL fill, stray line ends): dropped without a dead letter.
_FILLER = frozenset(b"\x00\r\n\t ")

KNOWN_IDS = frozenset({"SIA-DCS", "ADM-CID", "NULL"})


class ParseError(ValueError):
    """Input that is not a usable frame; `reason` says what and why. Gets no response."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContentError(ParseError):
    """A sound frame (CRC and length right) whose content is not understood: answered `DUH`."""


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()
# Two bytes per step: crc ^ (b0 | b1 << 8) -> the CRC after both, a table of 65,536 built from
# the byte table. Halves the Python loop, which is the receiver's largest cost per frame. An array
# (128 KiB) and not a list: a list's 65,536 int objects (2.3 MiB) miss the cache on real traffic,
# 11 µs instead of 3 µs for a 62-byte body.
_PAIRS = array(
    "H",
    ((_TABLE[w & 0xFF] >> 8) ^ _TABLE[((w >> 8) ^ _TABLE[w & 0xFF]) & 0xFF] for w in range(65536)),
)
_BIG_ENDIAN = sys.byteorder == "big"


def crc16(data: bytes) -> int:
    """CRC-16/ARC: polynomial 0x8005 reflected (0xA001), initial value 0. b"123456789" -> 0xBB3D."""
    even = len(data) & ~1
    words = array("H", data[:even])
    if _BIG_ENDIAN:
        words.byteswap()
    crc = 0
    pairs = _PAIRS
    for word in words:
        crc = pairs[crc ^ word]
    if even != len(data):
        crc = (crc >> 8) ^ _TABLE[(crc ^ data[-1]) & 0xFF]
    return crc


def frame(body: str) -> bytes:
    """A complete frame around `body` (ASCII), with its CRC and length."""
    raw = body.encode("ascii")
    if len(raw) > MAX_BODY:
        raise ValueError(f"a DC-09 body holds at most {MAX_BODY} characters, got {len(raw)}")
    return b"\n%04X%04X%s\r" % (crc16(raw), len(raw), raw)


class Dropped(msgspec.Struct, frozen=True):
    """Bytes the framer threw away, and why."""

    reason: str
    size: int


class Framer:
    """Cuts LF...CR frames out of a byte stream; the buffer never holds more than one frame."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes | Dropped]:
        """Frames completed by `data` (the bytes between LF and CR), and what was dropped."""
        if not self._buf and _one_frame(data):
            return [data[1:-1]]  # the usual read: exactly one whole frame
        self._buf += data
        out: list[bytes | Dropped] = []
        while self._buf and self._next(out):
            pass
        return out

    def close(self) -> Dropped | None:
        """At the end of a datagram or connection: an unfinished frame is dropped."""
        left, self._buf = self._buf, bytearray()
        if left and not _filler(left):
            return Dropped("unfinished frame: no CR after LF", len(left))
        return None

    def _next(self, out: list[bytes | Dropped]) -> bool:
        """Consume one frame or one run of garbage; False when more input is needed."""
        buf = self._buf
        start = buf.find(LF)
        if start != 0:
            self._drop(len(buf) if start < 0 else start, "bytes outside a frame", out)
            return start > 0
        end = buf.find(CR, 1, MAX_FRAME + 2)
        restart = buf.find(LF, 1, end if end > 0 else MAX_FRAME + 2)
        if restart > 0:
            self._drop(restart, "frame interrupted by a new LF before its CR", out)
            return True
        if end < 0:
            if len(buf) <= MAX_FRAME + 1:
                return False
            # Too long to be a frame: drop it, up to where the next one may start.
            after = buf.find(LF, 1)
            self._drop(after if after > 0 else len(buf), f"no CR within {MAX_FRAME} bytes", out)
            return after > 0
        out.append(bytes(buf[1:end]))
        del buf[: end + 1]
        return True

    def _drop(self, size: int, reason: str, out: list[bytes | Dropped]) -> None:
        chunk = self._buf[:size]
        del self._buf[:size]
        if not _filler(chunk):
            out.append(Dropped(reason, size))


def _one_frame(data: bytes) -> bool:
    return (
        len(data) <= MAX_FRAME + 2
        and data[:1] == b"\n"
        and data[-1:] == b"\r"
        and data.count(b"\n") == 1
        and data.count(b"\r") == 1
    )


def _filler(chunk: bytes | bytearray) -> bool:
    return all(b in _FILLER for b in chunk)


class Envelope(msgspec.Struct, frozen=True):
    """The frame's header fields, checked; `rest` is everything after the data block's `[`."""

    id: str
    encrypted: bool
    seq: str
    receiver: str | None
    line: str | None
    account: str  # as sent, echoed in responses
    rest: str
    number: str  # the account as configured: hex, upper case


_FIELDS = re.compile(rb"[0-9A-Fa-f]{4}0[0-9A-Fa-f]{3}")  # CRC, then length 0LLL
_HEX_BYTES = re.compile(rb"[0-9A-Fa-f]{4}")
_HEADER = re.compile(
    r'"(?P<star>\*?)(?P<id>[ !#-~]{1,32})"(?P<seq>[0-9]{4})'
    r"(?:R(?P<rcvr>[0-9A-Fa-f]{1,6}))?(?:L(?P<line>[0-9A-Fa-f]{1,6}))?"
    r"#(?P<acct>[0-9A-Fa-f]{3,16})\[(?P<rest>[ -~]*)"
)
_PRINTABLE = re.compile(rb"[\x20-\x7e]*")


def parse_frame(raw: bytes) -> Envelope:
    """Check CRC and length of the bytes between LF and CR, then read the header."""
    if len(raw) < 9:
        raise ParseError(f"frame of {len(raw)} bytes is shorter than CRC + length + body")
    if _FIELDS.match(raw) is None:
        raise ParseError(_field_error(raw))
    body = raw[8:]
    declared = int(raw[4:8], 16)
    if declared != len(body):
        raise ParseError(f"length field says {declared} bytes, the body has {len(body)}")
    if int(raw[:4], 16) != crc16(body):
        raise ParseError("CRC mismatch")
    if not body.isascii():
        raise ParseError("body holds bytes outside printable ASCII")
    return parse_header(body.decode("ascii"))


def _field_error(raw: bytes) -> str:
    if _HEX_BYTES.fullmatch(raw[:4]) is None:
        return "CRC field is not 4 hex digits"
    return "length field is not 0LLL (4 hex digits)"


def parse_header(body: str) -> Envelope:
    found = _HEADER.fullmatch(body)  # printable characters only, by its character classes
    if found is None:
        if not _PRINTABLE.fullmatch(body.encode()):
            raise ParseError("body holds bytes outside printable ASCII")
        raise ParseError('body is not "ID"seq[Rrcvr][Lline]#account[...')
    return Envelope(
        id=found["id"],
        encrypted=bool(found["star"]),
        seq=found["seq"],
        receiver=found["rcvr"],
        line=found["line"],
        account=found["acct"],
        rest=found["rest"],
        number=found["acct"].upper(),
    )


class Rest(msgspec.Struct, frozen=True):
    """The data block's content, the extended data blocks and the timestamp, split apart."""

    data: str
    xdata: tuple[tuple[str, str], ...]
    timestamp: datetime | None
    text: str  # all of it, as read (after decryption): what a panel's retry repeats


_TIMESTAMP = re.compile(r"_(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})")


def parse_rest(rest: str) -> Rest:
    """`data]` + `[xdata]`... + optional `_HH:MM:SS,MM-DD-YYYY` (UTC), and nothing else."""
    end = rest.find("]")
    if end < 0 or "[" in rest[:end]:
        raise ContentError("data block is not closed by ]")
    data, tail = rest[:end], rest[end + 1 :]
    xdata: list[tuple[str, str]] = []
    while tail.startswith("["):
        close = tail.find("]")
        if close < 2 or len(xdata) >= MAX_XDATA:
            raise ContentError(f"malformed extended data (at most {MAX_XDATA} [..] blocks)")
        xdata.append((tail[1], tail[2:close]))
        tail = tail[close + 1 :]
    timestamp = parse_timestamp(tail) if tail else None
    return Rest(data, tuple(xdata), timestamp, rest)


@functools.lru_cache(maxsize=4096)  # panels stamp in whole seconds: many frames share one
def parse_timestamp(text: str) -> datetime:
    found = _TIMESTAMP.fullmatch(text)
    if found is None:
        raise ContentError("trailer is not a timestamp _HH:MM:SS,MM-DD-YYYY")
    hour, minute, second, month, day, year = (int(g) for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise ContentError(f"timestamp is not a valid date: {exc}") from None


def format_timestamp(moment: datetime) -> str:
    return _format_second(math.floor(moment.timestamp()))


@functools.lru_cache(maxsize=64)  # every answer in the same second carries the same text
def _format_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("_%H:%M:%S,%m-%d-%Y")


def location(xdata: tuple[tuple[str, str], ...]) -> tuple[float | None, float | None]:
    """(longitude, latitude) from [X...][Y...]; every other extended field is dropped here."""
    if not xdata:
        return None, None
    fields = dict(xdata)
    return _coordinate(fields.get("X"), 180.0), _coordinate(fields.get("Y"), 90.0)


def _coordinate(text: str | None, limit: float) -> float | None:
    if not text:
        return None
    sign = -1.0 if text[0] in "WSws" else 1.0
    digits = text[1:] if text[0] in "EWNSewns" else text
    try:
        value = sign * float(digits)
    except ValueError:
        return None
    return value if -limit <= value <= limit else None


class SiaEvent(msgspec.Struct, frozen=True):
    """One event of a SIA-DCS data block: the two-letter code and its address (zone or user)."""

    code: str
    address: str
    area: str | None


class ContactId(msgspec.Struct, frozen=True):
    """Contact ID `QEEE GG ZZZ`: qualifier, event code, partition, zone or user."""

    qualifier: str
    event: str
    partition: str
    address: str


# Modifiers (lowercase) set the area, time, user or peripheral of the events that follow;
# an event is an uppercase code, an optional numeric address and an optional ^text^ we drop.
_DCS_TOKEN = re.compile(
    r"(?:(?P<mod>ri|ti|id|pi)(?P<value>[0-9:]{0,8})"
    r"|(?P<code>[A-Z]{2})(?P<address>[0-9]{0,6})(?:\^[^^]{0,64}\^?)?)/?"
)
_CID = re.compile(r"([136])([0-9A-F]{3}) ?([0-9A-F]{2}) ?([0-9A-F]{3})", re.IGNORECASE)
MAX_DCS_EVENTS = 32


def without_account(data: str) -> str:
    """The data block may repeat the account as `#acct|` (or keep only the `|`); the header's
    account is the one that counts."""
    if data.startswith("|"):
        return data[1:]
    if data.startswith("#"):
        bar = data.find("|")
        if bar < 0:
            raise ContentError("data block starts with # but has no |")
        return data[bar + 1 :]
    return data


# The shape nearly every panel sends, one event: read at once, without the token loop.
_DCS_ONE = re.compile(r"(?:ri([0-9]{1,8})/?)?([A-Z]{2})([0-9]{0,6})")


def parse_dcs(data: str) -> tuple[SiaEvent, ...]:
    """`[#acct|]N[ri<area>/][ti..][id..]<CC><address>[/<CC><address>...]`."""
    text = without_account(data)
    text = text[1:] if text.startswith("N") else text
    one = _DCS_ONE.fullmatch(text)
    if one is not None:
        return (SiaEvent(one[2], one[3], one[1]),)
    events: list[SiaEvent] = []
    area: str | None = None
    pos = 0
    while pos < len(text):
        token = _DCS_TOKEN.match(text, pos)
        if token is None or token.end() == pos or len(events) >= MAX_DCS_EVENTS:
            raise ContentError(f"SIA-DCS data not understood at position {pos}")
        pos = token.end()
        if token["mod"] == "ri":
            area = token["value"] or None
        elif token["code"]:
            events.append(SiaEvent(token["code"], token["address"], area))
    if not events:
        raise ContentError("SIA-DCS data block holds no event code")
    return tuple(events)


def parse_cid(data: str) -> ContactId:
    found = _CID.fullmatch(without_account(data))
    if found is None:
        raise ContentError("ADM-CID data is not QEEE GG ZZZ")
    qualifier, event, partition, address = found.groups()
    return ContactId(qualifier, event.upper(), partition.upper(), address.upper())
