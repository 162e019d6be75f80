"""Subject names on the bus, and the metadata JetStream packs into an ack reply subject."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonwatch.bus.pull import parse_ack_subject
from commonwatch.bus.subjects import (
    change_subject,
    deadletter_subject,
    event_subject,
    parse_event_subject,
    token,
    untoken,
)

# The native format's identifier pattern (ingest/native/parse.py `Ident`).
IDENT = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,30}", fullmatch=True)


def test_it_names_the_events_subject_after_community_and_device() -> None:
    assert event_subject("riverside", "smoke-1") == "commonwatch.events.riverside.smoke-1"


def test_it_writes_a_dot_inside_an_id_as_a_double_slash_like_the_mqtt_gateway() -> None:
    assert event_subject("city.riverside", "cam.01") == "commonwatch.events.city//riverside.cam//01"


def test_it_reads_community_and_device_back_with_their_dots() -> None:
    subject = "commonwatch.events.city//riverside.cam//01"
    assert parse_event_subject(subject) == ("city.riverside", "cam.01")


@settings(max_examples=300, deadline=None)
@given(community=IDENT, device=IDENT)
def test_it_round_trips_any_identifier_through_a_subject(community: str, device: str) -> None:
    subject = event_subject(community, device)
    assert len(subject.split(".")) == 4
    assert parse_event_subject(subject) == (community, device)


@pytest.mark.parametrize("value", ["a", "a.b", "a..b", "a.", ".a", "no-dots:here"])
def test_it_untokens_what_it_tokens(value: str) -> None:
    assert untoken(token(value)) == value


@pytest.mark.parametrize(
    "subject",
    [
        "commonwatch.events.riverside",
        "commonwatch.events.riverside.smoke-1.extra",
        "commonwatch.changes.riverside.smoke-1",
        "other.events.riverside.smoke-1",
        "commonwatch.events..smoke-1",
        "commonwatch.events.riverside.",
        "",
    ],
)
def test_it_refuses_subjects_of_another_shape(subject: str) -> None:
    assert parse_event_subject(subject) is None


def test_it_names_dead_letter_and_change_subjects_with_the_same_tokens() -> None:
    assert deadletter_subject("mqtt") == "commonwatch.deadletter.mqtt"
    assert change_subject("incident", "inc-1") == "commonwatch.changes.incident.inc-1"
    assert change_subject("device", "cam.01") == "commonwatch.changes.device.cam//01"


def test_it_reads_a_v1_ack_subject() -> None:
    # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    reply = "$JS.ACK.CW_EVENTS.ingest.1.42.40.1740830400000000000.7"
    assert parse_ack_subject(reply) == (42, 1, 1_740_830_400_000_000_000)


def test_it_reads_a_v2_ack_subject_with_domain_account_and_random_token() -> None:
    # $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<rnd>
    reply = "$JS.ACK._.ACCOUNTHASH.CW_EVENTS.ingest.3.43.41.1740830400000000001.0.Xk2P9"
    assert parse_ack_subject(reply) == (43, 3, 1_740_830_400_000_000_001)


def test_it_counts_redeliveries_from_the_ack_subject() -> None:
    first = parse_ack_subject("$JS.ACK.CW_EVENTS.ingest.1.9.9.1740830400000000000.0")
    again = parse_ack_subject("$JS.ACK.CW_EVENTS.ingest.2.9.10.1740830401000000000.0")
    assert (first[0], first[1]) == (9, 1)
    assert (again[0], again[1]) == (9, 2)
