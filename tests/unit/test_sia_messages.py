"""SIA DC-09 message content: the data block, extended data, timestamps, SIA-DCS and Contact ID."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commonwatch.ingest.sia.parse import (
    ContactId,
    ContentError,
    SiaEvent,
    format_timestamp,
    location,
    parse_cid,
    parse_dcs,
    parse_rest,
    parse_timestamp,
)

STAMP = datetime(2019, 9, 25, 14, 12, 4, tzinfo=UTC)


def test_it_splits_data_xdata_and_timestamp() -> None:
    rest = parse_rest("#1234|Nri1/FA01][X12.3456][Y-45.5][MAC0026B9]_14:12:04,09-25-2019")
    assert rest.data == "#1234|Nri1/FA01"
    assert rest.xdata == (("X", "12.3456"), ("Y", "-45.5"), ("M", "AC0026B9"))
    assert rest.timestamp == STAMP


def test_it_keeps_only_the_location_of_extended_data() -> None:
    assert location((("X", "E12.5"), ("Y", "S33.25"), ("I", "text"))) == (12.5, -33.25)
    assert location((("X", "999"), ("Y", "north"))) == (None, None)


def test_it_accepts_a_message_without_timestamp() -> None:
    assert parse_rest("]").timestamp is None


@pytest.mark.parametrize(
    "rest",
    [
        "#1234|Nri1/FA01",  # no ]
        "#1234[|Nri1/FA01]",  # [ inside the data block
        "Nri1/FA01]junk",
        "Nri1/FA01]_14:12:04,13-25-2019",  # month 13
        "Nri1/FA01]_14:12:04,09-25-19",
        "Nri1/FA01][",
        "Nri1/FA01]" + "[X1]" * 17,
    ],
)
def test_it_refuses_content_it_does_not_understand(rest: str) -> None:
    with pytest.raises(ContentError):
        parse_rest(rest)


def test_it_writes_timestamps_as_dc09_wants_them_in_utc() -> None:
    assert format_timestamp(STAMP) == "_14:12:04,09-25-2019"
    assert parse_timestamp(format_timestamp(STAMP)) == STAMP


@pytest.mark.parametrize(
    ("data", "events"),
    [
        ("#1234|Nri1/FA01", [SiaEvent("FA", "01", "1")]),
        ("Nri1/FA01", [SiaEvent("FA", "01", "1")]),
        ("|Nri1/CL501", [SiaEvent("CL", "501", "1")]),
        ("Nri1CL0^VX FRONTE ^", [SiaEvent("CL", "0", "1")]),
        ("NRP0000", [SiaEvent("RP", "0000", None)]),
        ("Nti12:30/id07/ri2/BA003", [SiaEvent("BA", "003", "2")]),
        ("Nri1/BA03/ri2/BA04", [SiaEvent("BA", "03", "1"), SiaEvent("BA", "04", "2")]),
    ],
)
def test_it_reads_sia_dcs_events(data: str, events: list[SiaEvent]) -> None:
    assert list(parse_dcs(data)) == events


@pytest.mark.parametrize("data", ["", "N", "#1234", "Nri1/", "Nri1/fa01", "N!!"])
def test_it_refuses_sia_dcs_without_an_event(data: str) -> None:
    with pytest.raises(ContentError):
        parse_dcs(data)


@pytest.mark.parametrize(
    ("data", "cid"),
    [
        ("#1234|1110 01 015", ContactId("1", "110", "01", "015")),
        ("3401 02 007", ContactId("3", "401", "02", "007")),
        ("6130 00 001", ContactId("6", "130", "00", "001")),
        ("111000015", ContactId("1", "110", "00", "015")),
    ],
)
def test_it_reads_contact_id(data: str, cid: ContactId) -> None:
    assert parse_cid(data) == cid


@pytest.mark.parametrize("data", ["", "2110 01 015", "1110 01 01", "1110-01-015", "#1234"])
def test_it_refuses_what_is_not_contact_id(data: str) -> None:
    with pytest.raises(ContentError):
        parse_cid(data)
