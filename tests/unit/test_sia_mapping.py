"""SIA and Contact ID codes mean Commonwatch event types; openings, closings and tests are info."""

from __future__ import annotations

import pytest

from commonwatch.domain.model import EventState
from commonwatch.domain.rules import Rules
from commonwatch.handlers.health import ISSUES
from commonwatch.ingest.sia.mapping import (
    CID_CODES,
    COMMUNICATION_FAILURE,
    SIA_CODES,
    Signal,
    from_cid,
    from_sia,
)
from commonwatch.ingest.sia.parse import ContactId, SiaEvent

A, R, INFO = EventState.ALARM, EventState.RESTORE, EventState.INFO


@pytest.mark.parametrize(
    ("cid", "kind", "state", "zone"),
    [
        ("1110 01 003", "smoke", A, "3"),
        ("1111 01 003", "smoke", A, "3"),
        ("1113 01 004", "water_leak", A, "4"),
        ("1114 01 005", "heat", A, "5"),
        ("1120 01 000", "panic", A, None),
        ("1121 01 002", "duress", A, "2"),
        ("1122 01 002", "panic", A, "2"),
        ("1130 01 010", "intrusion", A, "10"),
        ("3134 01 010", "intrusion", R, "10"),
        ("1137 01 000", "tamper", A, None),
        ("1144 01 011", "tamper", A, "11"),
        ("1151 01 012", "gas", A, "12"),
        ("1162 01 013", "carbon_monoxide", A, "13"),
        ("1301 00 000", "ac_loss", A, None),
        ("3301 00 000", "ac_loss", R, None),
        ("1302 00 000", "low_battery", A, None),
        ("1384 01 021", "low_battery", A, "21"),
        ("1401 01 005", "opening", INFO, None),
        ("3401 01 005", "closing", INFO, None),
        ("3409 02 001", "closing", INFO, None),
        ("1602 00 000", "test_report", INFO, None),
        ("6110 01 003", "smoke", INFO, "3"),
        ("1100 01 001", "cid_100", A, "1"),
    ],
)
def test_it_maps_contact_id(cid: str, kind: str, state: EventState, zone: str | None) -> None:
    q, event, partition, address = cid[0], cid[1:4], cid[5:7], cid[8:]
    signal = from_cid(ContactId(q, event, partition, address))
    assert signal == Signal(kind, state, q + event, zone, partition)


@pytest.mark.parametrize(
    ("code", "kind", "state"),
    [
        ("FA", "smoke", A), ("FH", "smoke", R), ("BA", "intrusion", A), ("BH", "intrusion", R),
        ("PA", "panic", A), ("HA", "duress", A), ("TA", "tamper", A), ("TR", "tamper", R),
        ("OP", "opening", INFO), ("CL", "closing", INFO), ("RP", "test_report", INFO),
        ("RX", "test_report", INFO), ("YT", "low_battery", A), ("YR", "low_battery", R),
        ("AT", "ac_loss", A), ("AR", "ac_loss", R), ("WA", "water_leak", A), ("GA", "gas", A),
        ("KA", "heat", A),
        ("ZA", "sia_za", A), ("ZT", "sia_zt", A), ("ZR", "sia_zr", R), ("ZQ", "sia_zq", INFO),
    ],
)  # fmt: skip
def test_it_maps_sia_codes(code: str, kind: str, state: EventState) -> None:
    signal = from_sia(SiaEvent(code, "07", "1"))
    assert (signal.type, signal.state, signal.code) == (kind, state, code)


def test_it_drops_the_user_number_of_openings_and_closings() -> None:
    assert from_sia(SiaEvent("OP", "012", "1")).zone is None
    assert from_cid(ContactId("1", "401", "01", "012")).zone is None
    assert from_sia(SiaEvent("BA", "012", "1")).zone == "12"


def test_it_opens_incidents_only_for_alarms_the_rules_know(default_rules: Rules) -> None:
    opening = {"smoke", "heat", "panic", "duress", "gas", "carbon_monoxide", "water_leak",
               "intrusion"}  # fmt: skip
    alarm_types = {m.type for m in [*SIA_CODES.values(), *CID_CODES.values()] if m.state != INFO}
    assert opening <= alarm_types
    for kind in opening:
        assert default_rules.mapping_for(kind) is not None, kind
    info_types = {m.type for m in SIA_CODES.values() if m.state == INFO}
    assert all(default_rules.mapping_for(kind) is None for kind in info_types)


def test_it_reports_device_troubles_as_device_health() -> None:
    troubles = {"tamper", "low_battery", "ac_loss", COMMUNICATION_FAILURE}
    assert troubles <= set(ISSUES)
    alarm_types = {m.type for m in [*SIA_CODES.values(), *CID_CODES.values()] if m.state != INFO}
    assert troubles - {COMMUNICATION_FAILURE} <= alarm_types
