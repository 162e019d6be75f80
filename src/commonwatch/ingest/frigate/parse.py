"""Frigate NVR over MQTT: topics and payloads into typed messages.

Every struct here is an ALLOWLIST. Frigate passes unknown keys through and attaches identity:
`sub_label` (face and known-plate names), `recognized_license_plate` (+ `_score`), review
`data.sub_labels` and `data.metadata`, `path_data` (a trajectory). None of them is declared, so
msgspec skips them while decoding and they never exist as values past this module.
`tracked_object_update` (face, lpr, description, classification) is not decoded at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

from commonwatch.ingest.bridge.decoding import ParseError, decode, text_payload

__all__ = ["ParseError"]

FrigateId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Epoch = Annotated[float, msgspec.Meta(ge=0, le=4_102_444_800)]


class TrackedObject(msgspec.Struct, frozen=True):
    """An object Frigate tracks, in the 0.11-0.12 shape (snapshot_time) or the current one
    (snapshot{...}, sub_label...): only the fields both share and we need are read."""

    id: FrigateId
    camera: Name
    label: Name
    false_positive: bool = False
    start_time: Epoch | None = None
    end_time: Epoch | None = None
    frame_time: Epoch | None = None
    current_zones: list[Name] = msgspec.field(default_factory=list)
    entered_zones: list[Name] = msgspec.field(default_factory=list)
    has_snapshot: bool | None = None
    has_clip: bool | None = None

    @property
    def zones(self) -> set[str]:
        return {*self.current_zones, *self.entered_zones}


Change = Literal["new", "update", "end"]


class EventMessage(msgspec.Struct, frozen=True):
    type: Change
    after: TrackedObject
    before: TrackedObject | None = None


class ReviewData(msgspec.Struct, frozen=True):
    detections: list[FrigateId] = msgspec.field(default_factory=list)
    objects: list[Name] = msgspec.field(default_factory=list)
    zones: list[Name] = msgspec.field(default_factory=list)
    audio: list[Name] = msgspec.field(default_factory=list)


class ReviewItem(msgspec.Struct, frozen=True):
    id: FrigateId
    camera: Name
    start_time: Epoch
    severity: Literal["alert", "detection"]
    end_time: Epoch | None = None
    data: ReviewData = msgspec.field(default_factory=ReviewData)


class ReviewMessage(msgspec.Struct, frozen=True):
    type: Change
    after: ReviewItem
    before: ReviewItem | None = None


class Kind(StrEnum):
    AVAILABLE = "available"
    EVENTS = "events"
    REVIEWS = "reviews"
    TRACKED_OBJECT_UPDATE = "tracked_object_update"
    CAMERA_STATUS = "camera_status"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Topic:
    kind: Kind
    camera: str | None = None
    role: str | None = None


_FIXED = {k.value: k for k in (Kind.AVAILABLE, Kind.EVENTS, Kind.REVIEWS)}
_FIXED[Kind.TRACKED_OBJECT_UPDATE.value] = Kind.TRACKED_OBJECT_UPDATE


def classify(topic: str, prefix: str) -> Topic:
    """What a topic under `prefix` carries. Motion, review_status, counts, snapshot images,
    stats and every */set, */state topic are IGNORED: none of them is an incident."""
    rest = topic[len(prefix) + 1 :] if topic.startswith(prefix + "/") else ""
    levels = rest.split("/")
    if len(levels) == 1 and rest in _FIXED:
        return Topic(_FIXED[rest])
    if len(levels) == 3 and levels[1] == "status" and levels[0] and levels[2]:
        return Topic(Kind.CAMERA_STATUS, camera=levels[0], role=levels[2])
    return Topic(Kind.IGNORED)


ServerState = Literal["online", "offline", "stopped"]
CameraState = Literal["online", "offline", "disabled"]
_SERVER: frozenset[str] = frozenset({"online", "offline", "stopped"})
_CAMERA: frozenset[str] = frozenset({"online", "offline", "disabled"})

_events = msgspec.json.Decoder(EventMessage)
_reviews = msgspec.json.Decoder(ReviewMessage)


def parse_event(payload: bytes) -> EventMessage:
    return decode(_events, payload)


def parse_review(payload: bytes) -> ReviewMessage:
    return decode(_reviews, payload)


def parse_available(payload: bytes) -> ServerState:
    text = text_payload(payload, "frigate/available")
    if text not in _SERVER:
        raise ParseError("frigate/available: expected online, offline or stopped")
    return text  # type: ignore[return-value]


def parse_camera_status(payload: bytes) -> CameraState:
    text = text_payload(payload, "camera status")
    if text not in _CAMERA:
        raise ParseError("camera status: expected online, offline or disabled")
    return text  # type: ignore[return-value]
