"""alarm_control_panel states to Commonwatch event types, as data."""

from __future__ import annotations

TRIGGERED = "triggered"
ALARM_TYPE = "intrusion"

# Every other state is an info event of its own type.
INFO: dict[str, str] = {
    "disarmed": "panel_disarmed",
    "armed_home": "panel_armed_home",
    "armed_away": "panel_armed_away",
    "armed_night": "panel_armed_night",
    "armed_vacation": "panel_armed_vacation",
    "armed_custom_bypass": "panel_armed_custom_bypass",
    "pending": "panel_pending",
    "arming": "panel_arming",
    "disarming": "panel_disarming",
}

# Home Assistant's own placeholders: the panel is not reachable (health) or not known yet.
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"
OFFLINE = "device_offline"

STATES: frozenset[str] = frozenset({TRIGGERED, UNAVAILABLE, UNKNOWN, *INFO})
