"""Frigate labels to Commonwatch event types, as data.

A label is what the detector saw (person, car, fire...), never who: identity lives in sub_label,
which is never read. Labels not listed raise nothing: they become one info event per object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Where(StrEnum):
    ANYWHERE = "anywhere"  # in any part of the view
    RESTRICTED = "restricted"  # only in a zone (or camera) configured `restricted = true`


@dataclass(frozen=True, slots=True)
class LabelRule:
    event_type: str
    where: Where


LABELS: dict[str, LabelRule] = {
    # Frigate+ object labels
    "fire": LabelRule("camera_fire", Where.ANYWHERE),
    "smoke": LabelRule("camera_fire", Where.ANYWHERE),
    # audio labels (YAMNet) that Frigate's audio detection reports as events
    "fire_alarm": LabelRule("camera_fire", Where.ANYWHERE),
    "smoke_detector": LabelRule("camera_fire", Where.ANYWHERE),
    "smoke_alarm": LabelRule("camera_fire", Where.ANYWHERE),
    "person": LabelRule("intrusion", Where.RESTRICTED),
}

# Camera and server availability are device health: the same event type any source uses.
OFFLINE = "device_offline"
SERVER_OFFLINE: dict[str, bool] = {"online": False, "offline": True, "stopped": True}
CAMERA_OFFLINE: dict[str, bool | None] = {"online": False, "offline": True, "disabled": None}

INFO_DEFAULT = "camera_object"
_INFO_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def info_type(label: str) -> str:
    """camera_<label> for a plain label (camera_car, camera_dog), else camera_object."""
    return f"camera_{label}" if _INFO_LABEL.match(label) else INFO_DEFAULT
