"""Zigbee2MQTT topics and payloads into typed readings.

A state message is a JSON object of every cached attribute. Its values are kept as undecoded
msgspec.Raw, and only the allowlisted keys (mapping.py) are decoded: whatever else a device
reports is never turned into a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, TypeVar

import msgspec

from commonwatch.ingest.bridge.decoding import ParseError, decode, reason_of, text_payload
from commonwatch.ingest.zigbee2mqtt import mapping

__all__ = ["ParseError"]

T = TypeVar("T")


class Kind(StrEnum):
    STATE = "state"
    AVAILABILITY = "availability"
    BRIDGE_STATE = "bridge_state"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Topic:
    kind: Kind
    name: str = ""


_COMMANDS = ("/set", "/get")


def classify(topic: str, base: str) -> Topic:
    """Friendly names may contain '/': the name is everything between the base topic and a
    known suffix. Commands (/set, /get) and bridge topics other than bridge/state are ignored."""
    if not topic.startswith(base + "/"):
        return Topic(Kind.IGNORED)
    rest = topic[len(base) + 1 :]
    if rest == "bridge/state":
        return Topic(Kind.BRIDGE_STATE, "bridge")
    if rest.startswith("bridge/") or not rest:
        return Topic(Kind.IGNORED)
    if rest.endswith("/availability"):
        return Topic(Kind.AVAILABILITY, rest[: -len("/availability")])
    if any(rest.endswith(c) or f"{c}/" in rest for c in _COMMANDS):
        return Topic(Kind.IGNORED)
    return Topic(Kind.STATE, rest)


@dataclass(frozen=True, slots=True)
class Reading:
    """The allowlisted part of one state message."""

    flags: dict[str, bool] = field(default_factory=dict)
    battery: float | None = None
    temperature: float | None = None
    action: str | None = None


Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
Celsius = Annotated[float, msgspec.Meta(ge=-100, le=1000)]

_object = msgspec.json.Decoder(dict[str, msgspec.Raw])
_bool = msgspec.json.Decoder(bool | None)
_percent = msgspec.json.Decoder(Percent | None)
_celsius = msgspec.json.Decoder(Celsius | None)
_text = msgspec.json.Decoder(str | None)


def _value(decoder: msgspec.json.Decoder[T], raw: msgspec.Raw, key: str) -> T:
    try:
        return decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ParseError(f"{reason_of(exc)} - at `$.{key}`") from None


def parse_state(payload: bytes) -> Reading:
    fields = decode(_object, payload)
    flags: dict[str, bool] = {}
    for key, raw in fields.items():
        event_type = mapping.FLAGS.get(key) or mapping.alarm_key_type(key)
        inverted = mapping.INVERTED.get(key)
        if event_type is None and inverted is None:
            continue
        value = _value(_bool, raw, key)
        if value is None:
            continue
        if inverted:
            flags[inverted] = not value
        elif event_type:
            # _alarm_1 and _alarm_2 of one hazard: either raises it.
            flags[event_type] = flags.get(event_type, False) or value
    return Reading(
        flags=flags,
        battery=_number(_percent, fields, "battery"),
        temperature=_number(_celsius, fields, "temperature"),
        action=_action(fields),
    )


def _number(
    decoder: msgspec.json.Decoder[float | None], fields: dict[str, msgspec.Raw], key: str
) -> float | None:
    raw = fields.get(key)
    if raw is None:
        return None
    value = _value(decoder, raw, key)
    return None if value is None else float(value)


def _action(fields: dict[str, msgspec.Raw]) -> str | None:
    raw = fields.get("action")
    if raw is None:
        return None
    value = _value(_text, raw, "action")
    # Only actions we act on are kept: button names a resident chose are not our business.
    return value if value in mapping.ACTIONS else None


class _Availability(msgspec.Struct, frozen=True):
    state: str


_availability = msgspec.json.Decoder(_Availability)
_ONLINE = {"online": True, "offline": False}


def parse_availability(payload: bytes) -> bool:
    """True when online: `{"state": "online"}` (2.0+) or plain `online` (1.x)."""
    text = payload.strip()
    if text.startswith(b"{"):
        state = decode(_availability, text).state
    else:
        state = text_payload(payload, "availability")
    if state not in _ONLINE:
        raise ParseError("availability: expected online or offline - at `$.state`")
    return _ONLINE[state]
