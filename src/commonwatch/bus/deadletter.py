"""The dead-letter stream: input that could not be used, with the reason, never lost silently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from commonwatch.bus import subjects

MAX_BODY = 16 * 1024
REASON = "Cw-Reason"
ORIGIN = "Cw-Origin-Subject"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    source: str
    reason: str
    origin_subject: str
    # Never the raw body: it may carry identity fields. See summarise().
    body: bytes | None


class DeadLetterView(msgspec.Struct, frozen=True):
    seq: int
    at: datetime
    source: str
    reason: str
    origin_subject: str
    body: str | None


def summarise(raw: bytes) -> bytes:
    """What an operator needs to fix the sender, without values that could identify a person:
    the size, and for a JSON object its top-level key names."""
    summary: dict[str, object] = {"bytes": len(raw)}
    try:
        decoded = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        summary["json"] = False
    else:
        summary["json"] = True
        summary["shape"] = type(decoded).__name__
        if isinstance(decoded, dict):
            summary["keys"] = sorted(str(k)[:64] for k in decoded)[:50]
    return msgspec.json.encode(summary)


async def publish(js: JetStreamContext, letters: list[DeadLetter]) -> None:
    """Durably store each letter (JetStream acknowledges) before the original is acknowledged."""
    for letter in letters:
        headers = {REASON: letter.reason[:1000], ORIGIN: letter.origin_subject[:500]}
        body = (letter.body or b"")[:MAX_BODY]
        await js.publish(subjects.deadletter_subject(letter.source), body, headers=headers)


async def recent(js: JetStreamContext, limit: int = 50) -> list[DeadLetterView]:
    try:
        info = await js.stream_info(subjects.DEADLETTER_STREAM)
    except NotFoundError:
        return []
    first, last = info.state.first_seq, info.state.last_seq
    out: list[DeadLetterView] = []
    seq = last
    while seq >= first and seq > 0 and len(out) < limit:
        try:
            raw = await js.get_msg(subjects.DEADLETTER_STREAM, seq)
        except NotFoundError:
            seq -= 1
            continue
        out.append(_view(seq, raw))
        seq -= 1
    return out


def _view(seq: int, raw: object) -> DeadLetterView:
    headers: dict[str, str] = getattr(raw, "headers", None) or {}
    data: bytes = getattr(raw, "data", b"") or b""
    subject: str = getattr(raw, "subject", "")
    at = getattr(raw, "time", None)
    return DeadLetterView(
        seq=seq,
        at=at if isinstance(at, datetime) else datetime.now(UTC),
        source=subjects.untoken(subject.rsplit(".", 1)[-1]),
        reason=headers.get(REASON, ""),
        origin_subject=headers.get(ORIGIN, ""),
        body=data.decode("utf-8", "replace") if data else None,
    )
