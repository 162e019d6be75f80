"""Every subject and stream name, in one place."""

from __future__ import annotations

EVENTS_STREAM = "CW_EVENTS"
EVENTS_PREFIX = "commonwatch.events"
DEADLETTER_STREAM = "CW_DEADLETTER"
DEADLETTER_PREFIX = "commonwatch.deadletter"
CHANGES_STREAM = "CW_CHANGES"
CHANGES_PREFIX = "commonwatch.changes"

INGEST_CONSUMER = "ingest"  # before partitions: one consumer; moved over by ensure_streams

# CW_EVENTS stores `commonwatch.events.<community>.<device>` as
# `commonwatch.ingest.<partition>.<community>.<device>` (a stream subject transform): the
# partition is a hash of community and device, so each device's events stay in order within one
# partition, and one worker process consumes each partition. Other shapes stay as published and
# go to partition 0's consumer, which dead-letters them.
INGEST_PARTITIONS = 2
STORED_EVENTS_PREFIX = "commonwatch.ingest"
PARTITION_TRANSFORM = (
    f"{EVENTS_PREFIX}.*.*",
    f"{STORED_EVENTS_PREFIX}.{{{{partition({INGEST_PARTITIONS},1,2)}}}}"
    ".{{wildcard(1)}}.{{wildcard(2)}}",
)


def ingest_consumer(partition: int) -> str:
    return f"{INGEST_CONSUMER}-{partition}"


def partition_filters(partition: int) -> list[str]:
    """What partition `partition`'s consumer takes; partition 0 also takes every other shape."""
    own = f"{STORED_EVENTS_PREFIX}.{partition}.>"
    return [own, f"{EVENTS_PREFIX}.>"] if partition == 0 else [own]


def as_published(subject: str) -> str:
    """`commonwatch.ingest.<p>.<c>.<d>` back to `commonwatch.events.<c>.<d>`; others unchanged."""
    parts = subject.split(".")
    if len(parts) == 5 and f"{parts[0]}.{parts[1]}" == STORED_EVENTS_PREFIX:
        return f"{EVENTS_PREFIX}.{parts[3]}.{parts[4]}"
    return subject


def stored_filter(published: str) -> str:
    """A filter matching what was published on `commonwatch.events.<c>.<d>` (wildcards too) as
    the stream stores it, in any partition."""
    head = f"{EVENTS_PREFIX}."
    if not published.startswith(head):
        raise ValueError(f"{published!r} is not an events subject")
    return f"{STORED_EVENTS_PREFIX}.*.{published[len(head) :]}"


def stored_event_subject(community: str, device: str) -> str:
    """A filter matching this device's events as the stream stores them, in any partition."""
    return stored_filter(event_subject(community, device))


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
    """(community, device) from an events subject as published or as stored, or None when it
    has another shape."""
    parts = subject.split(".")
    prefix = f"{parts[0]}.{parts[1]}" if len(parts) > 2 else ""
    if len(parts) == 5 and prefix == STORED_EVENTS_PREFIX and parts[2].isdigit():
        parts = parts[1:]
    elif len(parts) != 4 or prefix != EVENTS_PREFIX:
        return None
    community, device = untoken(parts[2]), untoken(parts[3])
    if not community or not device:
        return None
    return community, device


def deadletter_subject(source: str) -> str:
    return f"{DEADLETTER_PREFIX}.{token(source)}"


def change_subject(kind: str, ref: str) -> str:
    return f"{CHANGES_PREFIX}.{token(kind)}.{token(ref)}"
