"""Rules as data: names devices commonly send, mapped to Commonwatch event types."""

from __future__ import annotations

ALIASES: dict[str, str] = {
    "fire": "smoke",
    "smoke_alarm": "smoke",
    "heat_alarm": "heat",
    "leak": "water_leak",
    "flood": "water_leak",
    "co": "carbon_monoxide",
    "sos": "panic",
    "emergency": "panic",
    "door": "door_open",
    "contact": "door_open",
    "battery_overheat": "ebike_overheat",
}


def event_type(raw: str) -> str:
    return ALIASES.get(raw, raw)
