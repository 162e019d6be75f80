"""OwnTracks JSON (MQTT and HTTP mode) into typed messages, by `_type`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from commonwatch.ingest.bridge.decoding import ParseError, decode
from commonwatch.ingest.owntracks import mapping

__all__ = ["ParseError"]

Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Epoch = Annotated[float, msgspec.Meta(ge=946_684_800, le=4_102_444_800)]


class _Kind(msgspec.Struct, frozen=True):
    type: str = msgspec.field(name="_type")


class Location(msgspec.Struct, frozen=True):
    lat: Lat
    lon: Lon
    tst: Epoch
    acc: float | None = None
    vel: float | None = None
    batt: float | None = None


class Transition(msgspec.Struct, frozen=True):
    event: Literal["enter", "leave"]
    lat: Lat
    lon: Lon
    tst: Epoch
    acc: float | None = None


class Lwt(msgspec.Struct, frozen=True):
    tst: Epoch | None = None


@dataclass(frozen=True, slots=True)
class Declined:
    why: str


Message = Location | Transition | Lwt | Declined | None

_kind = msgspec.json.Decoder(_Kind)
_location = msgspec.json.Decoder(Location)
_transition = msgspec.json.Decoder(Transition)
_lwt = msgspec.json.Decoder(Lwt)


def parse(payload: bytes) -> Message:
    """The message, or None for a type we do not keep (cards, waypoints, status...)."""
    kind = decode(_kind, payload).type
    keep = mapping.TYPES.get(kind, mapping.Keep.IGNORE)
    if keep is mapping.Keep.DECLINE:
        return Declined("encrypted payloads are not decrypted: clear the app's encryption key")
    if keep is mapping.Keep.GONE:
        return decode(_lwt, payload)
    if keep is mapping.Keep.IGNORE:
        return None
    return decode(_location, payload) if kind == "location" else decode(_transition, payload)


@dataclass(frozen=True, slots=True)
class Topic:
    user: str
    device: str
    read: bool


def classify(topic: str, prefix: str) -> Topic | None:
    """owntracks/<user>/<device>[/<subtopic>]; None for anything else."""
    levels = topic.split("/")
    if len(levels) not in (3, 4) or levels[0] != prefix or not levels[1] or not levels[2]:
        return None
    sub = levels[3] if len(levels) == 4 else ""
    return Topic(levels[1], levels[2], sub in mapping.READ_SUBTOPICS)
