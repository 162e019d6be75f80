"""Every subject and stream name, in one place."""

from __future__ import annotations

import zlib

EVENTS_STREAM = "CW_EVENTS"
EVENTS_PREFIX = "commonwatch.events"
DEADLETTER_STREAM = "CW_DEADLETTER"
DEADLETTER_PREFIX = "commonwatch.deadletter"
CHANGES_STREAM = "CW_CHANGES"
CHANGES_PREFIX = "commonwatch.changes"

INGEST_CONSUMER = "ingest"  # before partitions: one consumer; handed over by ensure_streams

# The ingest work is split in partitions, one worker process each. Every partition's consumer
# receives the whole stream and its worker keeps the subjects that hash to it: a device's events
# (one subject) stay in order in one worker. Filtered consumers would spare the deliveries, but
# the server pays 50-300 µs per message to skip through an interleaved stream for them, against
# about 6 µs for an unfiltered one.
INGEST_PARTITIONS = 2


def ingest_consumer(partition: int) -> str:
    return f"{INGEST_CONSUMER}-{partition}"


def partition_of(subject: bytes, partitions: int = INGEST_PARTITIONS) -> int:
    """Which partition a subject belongs to (CRC-32: stable across processes and versions)."""
    return zlib.crc32(subject) % partitions


# MQTT topic commonwatch/events/<community>/<device> arrives as this subject. NATS's MQTT gateway
# turns a '.' inside a topic level into '//', so ids with dots survive the trip; we do the same.
MQTT_EVENTS_TOPIC = "commonwatch/events/{community}/{device}"


def token(value: str) -> str:
    return value.replace(".", "//")


def untoken(value: str) -> str:
    return value.replace("//", ".")


def event_subject(community: str, device: str) -> str:
    return f"{EVENTS_PREFIX}.{token(community)}.{token(device)}"


def parse_event_subject(subject: str) -> tuple[str, str] | None:
    """(community, device) from an events subject, or None when it has another shape."""
    parts = subject.split(".")
    if len(parts) != 4 or f"{parts[0]}.{parts[1]}" != EVENTS_PREFIX:
        return None
    community, device = untoken(parts[2]), untoken(parts[3])
    if not community or not device:
        return None
    return community, device


def deadletter_subject(source: str) -> str:
    return f"{DEADLETTER_PREFIX}.{token(source)}"


def change_subject(kind: str, ref: str) -> str:
    return f"{CHANGES_PREFIX}.{token(kind)}.{token(ref)}"
