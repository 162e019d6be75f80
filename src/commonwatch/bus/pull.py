"""What a JetStream pull consumer hands on: one delivered message and its ack metadata.

The consumer itself is `bus.wire.WireConsumer`.
"""

from __future__ import annotations

import msgspec


class Delivery(msgspec.Struct, frozen=True):
    """One per message on the hot path, hence a Struct (a frozen dataclass costs 4x more)."""

    subject: str
    data: bytes
    reply: str
    stream_seq: int
    delivered: int
    stored_ns: int
    mqtt: bool = False


class Batch(msgspec.Struct, frozen=True):
    """What one pull brought: our deliveries, and the reply subject to acknowledge once they
    are committed. With AckPolicy.ALL that ack covers every message the pull fetched, those of
    other partitions included."""

    deliveries: list[Delivery]
    ack: str | None
    connection: int = 0  # which connection of the consumer brought it (see WireConsumer)


def parse_ack_subject(reply: str) -> tuple[int, int, int]:
    """(stream sequence, delivery count, stored timestamp ns) from a $JS.ACK reply subject."""
    tokens = reply.split(".")
    # v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    # v2 adds <domain>.<account hash> after ACK and a trailing random token.
    offset = 2 if len(tokens) >= 12 else 0
    delivered = int(tokens[4 + offset])
    sseq = int(tokens[5 + offset])
    stored = int(tokens[7 + offset])
    return sseq, delivered, stored


def ack_consumer(reply: str) -> str:
    """The consumer's name in a $JS.ACK reply subject."""
    tokens = reply.split(".")
    return tokens[3 + (2 if len(tokens) >= 12 else 0)]
