"""Zigbee2MQTT exposes to Commonwatch event types, as data. Each is a flag: true raises the
event type's alarm, false restores it; `contact` is inverted (true means CLOSED)."""

from __future__ import annotations

import re

FLAGS: dict[str, str] = {
    "smoke": "smoke",
    "water_leak": "water_leak",
    "gas": "gas",
    "carbon_monoxide": "carbon_monoxide",
    "occupancy": "motion",
    "sos": "panic",
    "tamper": "tamper",
    "battery_low": "battery_low",
}

INVERTED: dict[str, str] = {
    "contact": "door_open",
}

# `<type>_alarm_1` / `<type>_alarm_2` (IAS zone devices): the prefix names the hazard.
ALARM_KEY = re.compile(r"^([a-z_]{1,32})_alarm_[12]$")
ALARM_PREFIXES: dict[str, str] = {
    "smoke": "smoke",
    "fire": "smoke",
    "heat": "heat",
    "water": "water_leak",
    "water_leak": "water_leak",
    "flood": "water_leak",
    "gas": "gas",
    "co": "carbon_monoxide",
    "carbon_monoxide": "carbon_monoxide",
    "panic": "panic",
    "sos": "panic",
    "emergency": "panic",
    "intruder": "intrusion",
    "burglar": "intrusion",
}

# `action` is momentary (Zigbee2MQTT never caches it): each of these is a new press.
ACTIONS: dict[str, str] = {
    "emergency": "panic",
    "sos": "panic",
    "panic": "panic",
}

OFFLINE = "device_offline"
BATTERY_LOW = "battery_low"
HEAT = "heat"


def alarm_key_type(key: str) -> str | None:
    match = ALARM_KEY.match(key)
    return ALARM_PREFIXES.get(match.group(1)) if match else None
