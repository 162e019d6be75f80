"""OwnTracks message types to what the platform keeps, as data.

Of a location only lat, lon, tst, acc, vel and batt are kept: no tracker id, regions, Wi-Fi
names, addresses or photos. Cards (`/info`), waypoints, commands and steps are not read.
"""

from __future__ import annotations

from enum import StrEnum


class Keep(StrEnum):
    POSITION = "position"  # the latest position and a track point
    GONE = "gone"  # the app's last will: the unit is not connected
    DECLINE = "decline"  # encrypted: said so in the log, nothing kept
    IGNORE = "ignore"


TYPES: dict[str, Keep] = {
    "location": Keep.POSITION,
    "transition": Keep.POSITION,  # enter/leave carries a position too; region names are dropped
    "lwt": Keep.GONE,
    "encrypted": Keep.DECLINE,
}

# Subtopics of owntracks/<user>/<device>: transitions arrive on /event; the rest is not ours.
READ_SUBTOPICS: frozenset[str] = frozenset({"", "event"})
