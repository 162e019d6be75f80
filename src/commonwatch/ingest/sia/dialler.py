"""A DC-09 client, as a panel speaks: builds frames, sends them, reads the receiver's answers.
For tests, the bench and trying a receiver out; never used by the receiver itself."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from datetime import datetime

from commonwatch.ingest.sia.crypto import decrypt, encrypt
from commonwatch.ingest.sia.parse import (
    MAX_FRAME,
    ParseError,
    crc16,
    format_timestamp,
    frame,
    parse_rest,
)


@dataclass(frozen=True, slots=True)
class Dial:
    """How a panel frames its messages: receiver and line fields, clock, key."""

    receiver: str | None = "1"
    line: str | None = "0"
    timestamp: datetime | None = None
    key: bytes | None = None
    xdata: tuple[str, ...] = ()
    pad: str | None = None


CLEAR = Dial()


def message(kind: str, seq: int, account: str, data: str, dial: Dial = CLEAR) -> bytes:
    """A complete frame; with a key, encrypted (DC-09 then requires a timestamp)."""
    rest = f"{data}]" + "".join(f"[{x}]" for x in dial.xdata)
    rest += format_timestamp(dial.timestamp) if dial.timestamp else ""
    head = f"{seq % 10_000:04d}"
    head += f"R{dial.receiver}" if dial.receiver is not None else ""
    head += f"L{dial.line}" if dial.line is not None else ""
    if dial.key is None:
        return frame(f'"{kind}"{head}#{account}[{rest}')
    return frame(f'"*{kind}"{head}#{account}[{encrypt(dial.key, rest, pad=dial.pad)}')


def sia_dcs(account: str, seq: int, block: str, dial: Dial = CLEAR) -> bytes:
    """`block` as after N, e.g. "ri1/FA01". Encrypted, the pad stands where `#acct|` was."""
    data = f"N{block}" if dial.key else f"#{account}|N{block}"
    return message("SIA-DCS", seq, account, data, dial)


def adm_cid(account: str, seq: int, cid: str, dial: Dial = CLEAR) -> bytes:
    """`cid` as QEEE GG ZZZ, e.g. "1110 01 015"."""
    data = cid if dial.key else f"#{account}|{cid}"
    return message("ADM-CID", seq, account, data, dial)


def null(account: str, seq: int, dial: Dial = CLEAR) -> bytes:
    return message("NULL", seq, account, "", dial)


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str  # ACK, NAK or DUH
    encrypted: bool
    seq: str
    receiver: str | None
    line: str | None
    account: str | None
    timestamp: datetime | None


_ANSWER = re.compile(
    r'"(?P<star>\*?)(?P<kind>ACK|NAK|DUH)"(?P<seq>\d{4})(?:R(?P<rcvr>[0-9A-F]+))?'
    r"(?:L(?P<line>[0-9A-F]+?))?(?:#(?P<acct>[0-9A-F]+)|A0)?\[(?P<rest>.*)",
    re.IGNORECASE,
)


def read_answer(raw: bytes, key: bytes | None = None) -> Answer:
    """An answer frame (with or without LF and CR), its CRC and length checked."""
    inner = raw.strip(b"\n\r")
    body = inner[8:]
    if int(inner[4:8], 16) != len(body) or int(inner[:4], 16) != crc16(body):
        raise ParseError("answer with a wrong CRC or length")
    found = _ANSWER.fullmatch(body.decode("ascii"))
    if found is None:
        raise ParseError(f"not an ACK, NAK or DUH: {body[:40]!r}")
    rest = found["rest"]
    if found["star"]:
        if key is None:
            raise ParseError("an encrypted answer and no key to read it")
        rest = decrypt((key,), rest)[1]
    return Answer(
        kind=found["kind"], encrypted=bool(found["star"]), seq=found["seq"],
        receiver=found["rcvr"], line=found["line"], account=found["acct"],
        timestamp=parse_rest(rest).timestamp if rest else None,
    )  # fmt: skip


class TcpDialler:
    """One TCP connection to a receiver; `exchange` sends a frame and waits for the answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host: str, port: int) -> TcpDialler:
        reader, writer = await asyncio.open_connection(host, port, limit=MAX_FRAME + 16)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self, timeout_s: float = 5.0) -> bytes:
        """The next answer frame, LF to CR, or TimeoutError."""
        async with asyncio.timeout(timeout_s):
            await self.reader.readuntil(b"\n")
            return b"\n" + await self.reader.readuntil(b"\r")

    async def exchange(self, data: bytes, timeout_s: float = 5.0) -> bytes:
        await self.send(data)
        return await self.answer(timeout_s)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.answers.put_nowait(data)


async def udp_exchange(host: str, port: int, data: bytes, timeout_s: float = 5.0) -> bytes:
    """Send one datagram and wait for the answer (TimeoutError when none comes)."""
    loop = asyncio.get_running_loop()
    sock, proto = await loop.create_datagram_endpoint(_Udp, remote_addr=(host, port))
    try:
        sock.sendto(data)
        async with asyncio.timeout(timeout_s):
            return await proto.answers.get()
    finally:
        sock.close()
