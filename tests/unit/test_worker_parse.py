"""The worker's first step: JetStream deliveries in, device events and dead letters out."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from commonwatch.bus.pull import Delivery
from commonwatch.domain.model import EventState
from commonwatch.runtime.worker import parse_batch, parse_delivery
from tests.unit.factories import T0

STORED_NS = 1_740_830_400_000_000_000  # T0, as JetStream stamps it
SUBJECT = "commonwatch.events.riverside.smoke-kitchen"


def delivery(
    data: bytes, *, subject: str = SUBJECT, seq: int = 7, mqtt: bool = False, after_s: int = 0
) -> Delivery:
    reply = f"$JS.ACK.CW_EVENTS.ingest.1.{seq}.{seq}.{STORED_NS}.0"
    stored = STORED_NS + after_s * 1_000_000_000
    return Delivery(subject, data, reply, seq, 1, stored, mqtt)


def test_it_turns_a_good_delivery_into_an_event_placed_by_its_subject() -> None:
    event = parse_delivery(delivery(b'{"type":"smoke","ts":1740830398}', after_s=3))
    assert (event.device_id, event.community_id, event.type) == (
        "smoke-kitchen",
        "riverside",
        "smoke",
    )
    assert event.state is EventState.ALARM
    assert event.received_ts == T0 + timedelta(seconds=3)
    assert event.device_ts == T0 - timedelta(seconds=2)


def test_it_names_an_event_without_an_id_after_its_stream_sequence() -> None:
    assert parse_delivery(delivery(b'{"type":"smoke"}', seq=1234)).id == "js-1234"


def test_it_keeps_the_id_the_device_sent() -> None:
    assert parse_delivery(delivery(b'{"type":"smoke","id":"ev-9"}')).id == "ev-9"


def test_it_marks_where_the_event_came_from() -> None:
    assert parse_delivery(delivery(b'{"type":"smoke"}')).source == "bus"
    assert parse_delivery(delivery(b'{"type":"smoke"}', mqtt=True)).source == "mqtt"


def test_it_reads_the_community_placeholder_as_no_community() -> None:
    anywhere = "commonwatch.events._.smoke-kitchen"
    assert parse_delivery(delivery(b'{"type":"smoke"}', subject=anywhere)).community_id == ""
    body = b'{"type":"smoke","community":"riverside"}'
    assert parse_delivery(delivery(body, subject=anywhere)).community_id == "riverside"


def test_it_restores_dots_in_ids_from_the_subject() -> None:
    subject = "commonwatch.events.city//riverside.cam//01"
    event = parse_delivery(delivery(b'{"type":"camera_fire"}', subject=subject))
    assert (event.community_id, event.device_id) == ("city.riverside", "cam.01")


def test_it_lets_the_subject_win_over_the_device_the_body_claims() -> None:
    event = parse_delivery(delivery(b'{"type":"smoke","device":"someone-else"}'))
    assert event.device_id == "smoke-kitchen"


def test_it_parses_a_batch_keeping_events_and_sequences_in_order() -> None:
    batch = [delivery(b'{"type":"smoke"}', seq=s) for s in (10, 11, 12)]
    parsed = parse_batch(batch)
    assert [e.id for e in parsed.events] == ["js-10", "js-11", "js-12"]
    assert parsed.seqs == [10, 11, 12]
    assert parsed.dead == []


@pytest.mark.parametrize(
    ("data", "reason_part"),
    [
        (b"not json", "JSON"),
        (b'{"type":"Smoke"}', "$.type"),
        (b'{"type":"smoke","ts":12}', "`ts`"),
        (b"[]", "Expected `object`"),
    ],
)
def test_it_dead_letters_garbage_with_a_reason(data: bytes, reason_part: str) -> None:
    parsed = parse_batch([delivery(data, seq=5)])
    assert parsed.events == []
    assert parsed.seqs == []
    (letter,) = parsed.dead
    assert (letter.source, letter.origin_subject) == ("bus", SUBJECT)
    assert msgspec.json.decode(letter.body or b"{}")["bytes"] == len(data)
    assert reason_part in letter.reason


def test_it_dead_letters_mqtt_garbage_as_mqtt() -> None:
    (letter,) = parse_batch([delivery(b"{", mqtt=True)]).dead
    assert letter.source == "mqtt"


@pytest.mark.parametrize(
    "subject", ["commonwatch.events.riverside", "commonwatch.events.a.b.c", "elsewhere.x.y.z"]
)
def test_it_dead_letters_a_delivery_on_the_wrong_subject(subject: str) -> None:
    (letter,) = parse_batch([delivery(b'{"type":"smoke"}', subject=subject)]).dead
    assert letter.reason == (f"subject {subject!r} is not commonwatch.events.<community>.<device>")
    assert letter.origin_subject == subject


def test_it_keeps_good_events_around_a_bad_one() -> None:
    batch = [
        delivery(b'{"type":"smoke"}', seq=1),
        delivery(b"garbage", seq=2),
        delivery(b'{"type":"heat"}', seq=3),
    ]
    parsed = parse_batch(batch)
    assert [(e.id, e.type) for e in parsed.events] == [("js-1", "smoke"), ("js-3", "heat")]
    assert parsed.seqs == [1, 3]
    assert len(parsed.dead) == 1


def test_it_drops_identity_fields_from_events_it_accepts() -> None:
    body = b'{"type":"camera_fire","sub_label":["Alice Example",0.9],"plate":"AB123CD"}'
    (event,) = parse_batch([delivery(body)]).events
    assert "Alice" not in repr(event)
    assert "AB123CD" not in repr(event)


def test_it_keeps_identity_fields_out_of_dead_letters() -> None:
    body = b'{"type":"Not A Type","face":"Bob Example","plate":"AB123CD"}'
    (letter,) = parse_batch([delivery(body)]).dead
    assert b"Bob Example" not in (letter.body or b"")
    assert b"AB123CD" not in (letter.body or b"")
    assert msgspec.json.decode(letter.body or b"{}")["keys"] == ["face", "plate", "type"]


def test_it_ignores_receive_time_and_source_claimed_over_mqtt() -> None:
    body = b'{"type":"smoke","received":"2030-01-01T00:00:00Z","source":"http"}'
    event = parse_delivery(delivery(body, mqtt=True))
    assert event.source == "mqtt"
    assert event.received_ts.year != 2030


def test_it_dead_letters_a_topic_device_id_that_is_not_an_id() -> None:
    (letter,) = parse_batch(
        [delivery(b'{"type":"smoke"}', subject="commonwatch.events.c1.-x")]
    ).dead
    assert "`device`" in letter.reason
