"""Shared decoding for the source parsers: one error type, reasons that never echo values.

A reason ends up in dead letters and logs. msgspec quotes offending values in some messages
("Invalid enum value 'Alice'"), so quoted text is cut out: the field path and the expected
type are what a sender needs to fix a payload.
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeVar

import msgspec

from commonwatch.ingest.native.parse import ParseError

T = TypeVar("T")

__all__ = ["ParseError", "bounded_id", "decode", "device_id", "reason_of", "text_payload"]

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]+")
MAX_TEXT = 64
MAX_ID = 128


def reason_of(exc: Exception) -> str:
    return _QUOTED.sub("'…'", str(exc))[:300]


def decode(decoder: msgspec.json.Decoder[T], data: bytes) -> T:
    try:
        return decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ParseError(reason_of(exc)) from None
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None


def text_payload(data: bytes, what: str) -> str:
    """A short plain-text payload (ON, online, triggered...), optionally JSON-quoted."""
    if len(data) > MAX_TEXT:
        raise ParseError(f"{what}: expected a short text value, got {len(data)} bytes")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ParseError(f"{what}: not UTF-8 text") from None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


def device_id(prefix: str, *parts: str) -> str:
    """A device id from names a source chose (camera, friendly name, user): only the characters
    an id may hold, '/' kept as '.', at most 128 characters."""
    joined = ":".join(_UNSAFE.sub("_", p.replace("/", ".")).strip("_.") or "x" for p in parts)
    ident = f"{prefix}:{joined}"
    return ident[:128]


def bounded_id(*parts: object) -> str:
    """An event id from its parts, at most 128 characters: a long one keeps its head and ends
    in a digest of the whole, so it stays deterministic and unique."""
    joined = ":".join(str(p) for p in parts)
    if len(joined) <= MAX_ID:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:40]
    return f"{joined[: MAX_ID - 41]}~{digest}"
