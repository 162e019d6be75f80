"""Every subject and stream name, in one place."""

from __future__ import annotations

EVENTS_STREAM = "CW_EVENTS"
EVENTS_PREFIX = "commonwatch.events"
DEADLETTER_STREAM = "CW_DEADLETTER"
DEADLETTER_PREFIX = "commonwatch.deadletter"
CHANGES_STREAM = "CW_CHANGES"
CHANGES_PREFIX = "commonwatch.changes"

INGEST_CONSUMER = "ingest"

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
