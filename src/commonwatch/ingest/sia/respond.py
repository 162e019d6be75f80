"""The receiver's answers, each a valid frame: ACK (`*ACK` when the request was encrypted), NAK and
DUH. Only fields the request carried are echoed; pysiaalarm writes the text `None` into an ACK
when the request has no receiver field, which panels reject.
"""

from __future__ import annotations

from datetime import datetime

from commonwatch.ingest.sia.crypto import encrypt
from commonwatch.ingest.sia.parse import Envelope, format_timestamp, frame

# DC-09 fixes the NAK's fields: the receiver may not have been able to read the request's
# sequence or account (it could not decrypt it), and the panel only needs our clock from it.
NAK_HEAD = "0000R0L0A0"


def _head(env: Envelope) -> str:
    receiver = f"R{env.receiver}" if env.receiver is not None else ""
    line = f"L{env.line}" if env.line is not None else ""
    return f"{env.seq}{receiver}{line}#{env.account}"


def ack(env: Envelope, *, key: bytes | None, now: datetime, pad: str | None = None) -> bytes:
    """`"ACK"`, or for an encrypted request `"*ACK"` with the encrypted `pad|]_timestamp`."""
    if key is None:
        return frame(f'"ACK"{_head(env)}[]')
    sealed = encrypt(key, "]" + format_timestamp(now), pad=pad)
    return frame(f'"*ACK"{_head(env)}[{sealed}')


def duh(env: Envelope) -> bytes:
    """Well-formed but not understood: the panel should not retry it."""
    return frame(f'"DUH"{_head(env)}[]')


def nak(now: datetime) -> bytes:
    """Timestamp outside the window, or undecryptable: never encrypted, carries our time."""
    return frame(f'"NAK"{NAK_HEAD}[]{format_timestamp(now)}')
