"""Rules as data: SIA and Contact ID codes -> Commonwatch event type and state.

Emergencies use the event types rules/default.toml correlates into incidents (smoke, heat,
panic, duress, gas, carbon_monoxide, water_leak, intrusion); device troubles (tamper,
low_battery, ac_loss, communication_failure) are the types handlers/health.py turns into
maintenance tickets. Openings, closings and tests are `info`. A code not in the tables is kept,
as `sia_<cc>` or `cid_<eee>`, so an alarm is never dropped for want of a table row. The raw code
always goes to sia_messages.

Openings and closings carry a user number, not a zone: it is dropped here (we track places,
never people), and the event is the panel's.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from commonwatch.domain.model import EventState
from commonwatch.ingest.sia.parse import ContactId, SiaEvent

ALARM, RESTORE, INFO = EventState.ALARM, EventState.RESTORE, EventState.INFO

UNKNOWN_ACCOUNT = "unknown_account"
COMMUNICATION_FAILURE = "communication_failure"


@dataclass(frozen=True, slots=True)
class Meaning:
    type: str
    state: EventState | None = None  # None: the Contact ID qualifier decides
    user: bool = False  # the address is a user number: dropped


SIA_CODES: dict[str, Meaning] = {
    "FA": Meaning("smoke", ALARM),
    "FH": Meaning("smoke", RESTORE),
    "FR": Meaning("smoke", RESTORE),
    "BA": Meaning("intrusion", ALARM),
    "BH": Meaning("intrusion", RESTORE),
    "BR": Meaning("intrusion", RESTORE),
    "PA": Meaning("panic", ALARM),
    "PH": Meaning("panic", RESTORE),
    "PR": Meaning("panic", RESTORE),
    "HA": Meaning("duress", ALARM),
    "HH": Meaning("duress", RESTORE),
    "HR": Meaning("duress", RESTORE),
    "TA": Meaning("tamper", ALARM),
    "TR": Meaning("tamper", RESTORE),
    "OP": Meaning("opening", INFO, user=True),
    "CL": Meaning("closing", INFO, user=True),
    "RP": Meaning("test_report", INFO),
    "RX": Meaning("test_report", INFO),
    "YT": Meaning("low_battery", ALARM),
    "YR": Meaning("low_battery", RESTORE),
    "AT": Meaning("ac_loss", ALARM),
    "AR": Meaning("ac_loss", RESTORE),
    "WA": Meaning("water_leak", ALARM),
    "WH": Meaning("water_leak", RESTORE),
    "WR": Meaning("water_leak", RESTORE),
    "GA": Meaning("gas", ALARM),
    "GH": Meaning("gas", RESTORE),
    "GR": Meaning("gas", RESTORE),
    "KA": Meaning("heat", ALARM),
    "KH": Meaning("heat", RESTORE),
    "KR": Meaning("heat", RESTORE),
}

# SIA's naming convention, for codes outside the table: xA alarm, xT trouble, xH/xR/xJ restore.
SIA_SUFFIX_STATE: dict[str, EventState] = {
    "A": ALARM,
    "T": ALARM,
    "H": RESTORE,
    "R": RESTORE,
    "J": RESTORE,
}

# Contact ID qualifier: 1 new event or opening, 3 restore or closing, 6 previously reported
# (a status report of a condition already sent, so it opens nothing new).
CID_QUALIFIER: dict[str, EventState] = {"1": ALARM, "3": RESTORE, "6": INFO}

_BURGLARY = {str(code): Meaning("intrusion") for code in range(130, 140)}

CID_CODES: dict[str, Meaning] = {
    "110": Meaning("smoke"),
    "111": Meaning("smoke"),
    "113": Meaning("water_leak"),
    "114": Meaning("heat"),
    "120": Meaning("panic"),
    "121": Meaning("duress"),
    "122": Meaning("panic"),
    "123": Meaning("panic"),
    **_BURGLARY,
    "137": Meaning("tamper"),
    "144": Meaning("tamper"),
    "145": Meaning("tamper"),
    "383": Meaning("tamper"),
    "151": Meaning("gas"),
    "162": Meaning("carbon_monoxide"),
    "301": Meaning("ac_loss"),
    "302": Meaning("low_battery"),
    "384": Meaning("low_battery"),
    "601": Meaning("test_report", INFO),
    "602": Meaning("test_report", INFO),
}

# Codes whose type depends on the qualifier: 401-409 are openings (1) and closings (3).
CID_QUALIFIED: dict[tuple[str, str], Meaning] = {
    (str(code), qualifier): Meaning(kind, INFO, user=True)
    for code in range(401, 410)
    for qualifier, kind in (("1", "opening"), ("3", "closing"), ("6", "opening"))
}


class Signal(msgspec.Struct, frozen=True):
    """What one SIA or Contact ID event means to Commonwatch, with its raw code kept."""

    type: str
    state: EventState
    code: str
    zone: str | None  # None: the panel itself (no zone, zone 0, or a user number)
    area: str | None


def zone_of(address: str, meaning: Meaning | None) -> str | None:
    if meaning is not None and meaning.user:
        return None
    digits = address.lstrip("0")
    return digits or None


def from_sia(event: SiaEvent) -> Signal:
    meaning = SIA_CODES.get(event.code)
    if meaning is None:
        state = SIA_SUFFIX_STATE.get(event.code[1], INFO)
        kind = f"sia_{event.code.lower()}"
    else:
        state, kind = meaning.state or ALARM, meaning.type
    return Signal(kind, state, event.code, zone_of(event.address, meaning), event.area)


def from_cid(cid: ContactId) -> Signal:
    meaning = CID_QUALIFIED.get((cid.event, cid.qualifier)) or CID_CODES.get(cid.event)
    qualified = CID_QUALIFIER[cid.qualifier]
    kind = meaning.type if meaning else f"cid_{cid.event.lower()}"
    state = (meaning.state if meaning else None) or qualified
    code = f"{cid.qualifier}{cid.event}"
    return Signal(kind, state, code, zone_of(cid.address, meaning), cid.partition)
