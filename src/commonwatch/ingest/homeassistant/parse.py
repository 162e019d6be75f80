"""Home Assistant alarm panel state topics: a plain state word (JSON-quoted from
mqtt_statestream). Discovery configs and every other topic are not ours to read."""

from __future__ import annotations

import re

from commonwatch.ingest.bridge.decoding import ParseError, text_payload
from commonwatch.ingest.homeassistant import mapping

__all__ = ["ParseError"]

_OBJECT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def statestream_object_id(topic: str, prefix: str) -> str | None:
    """<object_id> of `<prefix>/alarm_control_panel/<object_id>/state`, else None."""
    levels = topic.split("/")
    if len(levels) != 4 or levels[0] != prefix or levels[1] != "alarm_control_panel":
        return None
    if levels[3] != "state" or not _OBJECT_ID.match(levels[2]):
        return None
    return levels[2]


def parse_state(payload: bytes) -> str:
    state = text_payload(payload, "alarm panel state").lower()
    if state not in mapping.STATES:
        raise ParseError("alarm panel state: expected one of " + ", ".join(sorted(mapping.STATES)))
    return state
