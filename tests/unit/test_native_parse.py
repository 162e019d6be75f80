"""The native JSON event format: what a device may send, and what becomes of it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.ingest.native.mapping import ALIASES, event_type
from commonwatch.ingest.native.parse import (
    MAX_BATCH,
    EventIn,
    ParseError,
    decode_many,
    decode_one,
    to_event,
)
from tests.unit.factories import T0

SMOKE = b'{"type":"smoke","device":"smoke-kitchen","community":"riverside","id":"ev-1"}'


def event_from(body: Mapping[str, object], **kwargs: str) -> DeviceEvent:
    item = decode_one(json.dumps(body).encode())
    return to_event(item, fallback_id="fb-1", received=T0, **kwargs)


def parse_all(body: object, **kwargs: str) -> list[DeviceEvent]:
    items = decode_many(json.dumps(body).encode())
    return [to_event(item, fallback_id="fb-1", received=T0, **kwargs) for item in items]


def reason_for(body: object, **kwargs: str) -> str:
    with pytest.raises(ParseError) as caught:
        parse_all(body, **kwargs)
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


def test_it_reads_one_event() -> None:
    item = decode_one(SMOKE)
    assert (item.type, item.state, item.device, item.id) == (
        "smoke",
        EventState.ALARM,
        "smoke-kitchen",
        "ev-1",
    )


def test_it_reads_a_single_object_or_an_array_as_a_batch() -> None:
    assert decode_many(SMOKE) == [decode_one(SMOKE)]
    assert decode_many(b"[" + SMOKE + b"," + SMOKE + b"]") == [decode_one(SMOKE)] * 2


def test_it_refuses_an_array_where_one_event_is_expected() -> None:
    with pytest.raises(ParseError, match="Expected `object`, got `array`"):
        decode_one(b"[" + SMOKE + b"]")


def test_it_refuses_an_empty_batch() -> None:
    with pytest.raises(ParseError, match="at least one event"):
        decode_many(b"[]")


def test_it_refuses_a_batch_above_the_limit() -> None:
    body = b"[" + b",".join([b'{"type":"heartbeat"}'] * (MAX_BATCH + 1)) + b"]"
    with pytest.raises(ParseError, match=f"at most {MAX_BATCH} events per request, got 1001"):
        decode_many(body)


def test_it_builds_a_device_event_from_a_full_body() -> None:
    event = event_from(
        {
            "type": "water_leak",
            "state": "restore",
            "id": "ev-9",
            "device": "leak-1",
            "community": "riverside",
            "ts": "2025-03-01T11:59:58Z",
            "value": 0.25,
        }
    )
    assert event == DeviceEvent(
        id="ev-9",
        device_id="leak-1",
        community_id="riverside",
        type="water_leak",
        state=EventState.RESTORE,
        device_ts=datetime(2025, 3, 1, 11, 59, 58, tzinfo=UTC),
        received_ts=T0,
        value=0.25,
        source="http",
    )


def test_it_fills_in_what_a_minimal_body_leaves_out() -> None:
    event = event_from({"type": "smoke"}, device="smoke-kitchen")
    assert (event.id, event.community_id, event.state) == ("fb-1", "", EventState.ALARM)
    assert (event.device_ts, event.received_ts, event.value) == (T0, T0, None)


@pytest.mark.parametrize(("alias", "canonical"), sorted(ALIASES.items()))
def test_it_maps_common_device_names_to_event_types(alias: str, canonical: str) -> None:
    assert event_from({"type": alias, "device": "d1"}).type == canonical


def test_it_keeps_event_types_it_has_no_alias_for() -> None:
    assert event_type("ebike_overheat") == "ebike_overheat"
    assert event_from({"type": "heartbeat", "device": "d1"}).type == "heartbeat"


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2025-03-01T13:00:00+01:00", datetime(2025, 3, 1, 12, 0, tzinfo=UTC)),
        ("2025-03-01T12:00:00Z", T0),
        ("2025-03-01T12:00:00", T0),  # naive means UTC
        (1740830400, T0),
        (1740830400.5, T0 + timedelta(milliseconds=500)),
    ],
)
def test_it_reads_ts_as_iso_8601_or_epoch_seconds(ts: object, expected: datetime) -> None:
    device_ts = event_from({"type": "smoke", "device": "d1", "ts": ts}).device_ts
    assert device_ts == expected
    assert device_ts.tzinfo is not None


def test_it_keeps_the_offset_the_device_sent() -> None:
    device_ts = event_from({"type": "smoke", "device": "d1", "ts": "2025-03-01T13:00:00+01:00"})
    assert device_ts.device_ts.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("ts", [0, 946_684_799, 4_102_444_801, 1740830400000, -1])
def test_it_refuses_epoch_seconds_outside_2000_to_2100_and_names_ts(ts: int) -> None:
    reason = reason_for({"type": "smoke", "device": "d1", "ts": ts})
    assert "`ts` must be epoch seconds between 2000 and 2100" in reason
    assert reason.endswith("at `$.ts`")


@pytest.mark.parametrize(
    "ts", ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-02:00"]
)
def test_it_refuses_iso_times_outside_2000_to_2100_and_names_ts(ts: str) -> None:
    # Years near 1 or 9999 would overflow the database driver's UTC conversion later.
    assert "`ts` must be between 2000 and 2100" in reason_for(
        {"type": "smoke", "device": "d", "ts": ts}
    )


def test_it_refuses_a_ts_that_is_neither_a_time_nor_a_number() -> None:
    assert reason_for({"type": "smoke", "device": "d1", "ts": "yesterday"}).endswith("`$.ts`")
    assert reason_for({"type": "smoke", "device": "d1", "ts": True}).endswith("`$.ts`")


def test_it_takes_the_receive_time_the_platform_stamped_in_the_body() -> None:
    event = event_from({"type": "smoke", "device": "d1", "received": "2025-03-01T12:00:05Z"})
    assert event.received_ts == T0 + timedelta(seconds=5)


def test_it_reads_a_naive_receive_time_as_utc() -> None:
    # Naive and aware times cannot be compared: correlation would crash on its window check.
    event = event_from({"type": "smoke", "device": "d1", "received": "2025-03-01T12:00:05"})
    assert event.received_ts == T0 + timedelta(seconds=5)
    assert event.received_ts.tzinfo is not None


def test_it_refuses_a_receive_time_outside_2000_to_2100_and_names_it() -> None:
    reason = reason_for({"type": "smoke", "device": "d1", "received": "0001-01-01T00:00:00Z"})
    assert reason.startswith("`received` must be between 2000 and 2100")


def test_it_refuses_an_event_without_a_device_and_says_so() -> None:
    assert reason_for({"type": "smoke"}) == "Object missing required field `device` - at `$`"


def test_it_refuses_an_event_without_a_type() -> None:
    assert reason_for({"device": "d1"}) == "Object missing required field `type`"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"type": "Smoke", "device": "d1"}, "$.type"),
        ({"type": "smoke alarm", "device": "d1"}, "$.type"),
        ({"type": "smoke", "device": "d1", "state": "burning"}, "$.state"),
        ({"type": "smoke", "device": "has space"}, "$.device"),
        ({"type": "smoke", "device": "-leading-dash"}, "$.device"),
        ({"type": "smoke", "device": "d1", "community": "a/b"}, "$.community"),
        ({"type": "smoke", "device": "d1", "id": ""}, "$.id"),
        ({"type": "smoke", "device": "d1", "id": "has space"}, "$.id"),
        ({"type": "smoke", "device": "d1", "value": "hot"}, "$.value"),
        ({"type": "smoke", "device": "d1", "source": "x" * 33}, "$.source"),
        ([{"type": "smoke", "device": "d1"}, {"type": 7}], "$[1].type"),
    ],
)
def test_it_names_the_field_that_is_wrong(body: object, where: str) -> None:
    assert reason_for(body).endswith(f"at `{where}`")


@pytest.mark.parametrize("raw", [b"", b"{", b"null", b"42", b'"smoke"', b"\xff\xfe", b"{}{}"])
def test_it_refuses_what_is_not_an_event_object(raw: bytes) -> None:
    with pytest.raises(ParseError):
        decode_many(raw)


def test_it_refuses_deeply_nested_json_without_crashing() -> None:
    # msgspec skips unknown fields recursively; 100k brackets must not raise RecursionError.
    deep = b'{"type":"smoke","junk":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ParseError, match="nested too deeply"):
        decode_one(deep)
    with pytest.raises(ParseError, match="nested too deeply"):
        decode_many(b"[" + deep + b"]")


def test_it_lets_the_topic_device_and_community_win_over_the_body() -> None:
    body = {"type": "smoke", "device": "claimed", "community": "elsewhere"}
    event = event_from(body, device="smoke-kitchen", community="riverside")
    assert (event.device_id, event.community_id) == ("smoke-kitchen", "riverside")


def test_it_falls_back_to_the_body_when_the_topic_has_no_community() -> None:
    event = event_from({"type": "smoke", "community": "riverside"}, device="smoke-kitchen")
    assert event.community_id == "riverside"


def test_it_keeps_the_event_id_a_device_sent_and_otherwise_uses_the_fallback() -> None:
    assert event_from({"type": "smoke", "device": "d1", "id": "dev-42"}).id == "dev-42"
    assert event_from({"type": "smoke", "device": "d1"}).id == "fb-1"


def test_it_records_the_source_it_was_given_unless_the_body_names_one() -> None:
    item = decode_one(b'{"type":"smoke","device":"d1"}')
    assert to_event(item, fallback_id="f", received=T0, source="mqtt").source == "mqtt"
    assert event_from({"type": "smoke", "device": "d1", "source": "panel"}).source == "panel"


# --- privacy: the allowlist ----------------------------------------------------------------

IDENTITY = {
    "sub_label": ["Alice Example", 0.93],
    "plate": "AB123CD",
    "face": "Bob Example",
    "recognized_license_plate": ["XY987ZT", 0.88],
    "name": "Carol Example",
    "path_data": [[[0.1, 0.2], 1740830400]],
    "metadata": {"person": "Dave Example"},
}
SECRETS = ["Alice", "AB123CD", "Bob", "XY987ZT", "Carol", "Dave", "0.93", "0.88"]


def test_it_declares_exactly_the_allowlisted_fields() -> None:
    # Adding a field here is a privacy decision: this test makes it a conscious one.
    assert EventIn.__struct_fields__ == (
        "type",
        "state",
        "id",
        "device",
        "community",
        "ts",
        "value",
        "received",
        "source",
    )


def test_it_drops_identity_fields_a_device_sends() -> None:
    body = {"type": "camera_fire", "device": "cam-stairs", "id": "ev-1", **IDENTITY}
    item = decode_one(json.dumps(body).encode())
    event = to_event(item, fallback_id="fb-1", received=T0)

    for name in IDENTITY:
        assert not hasattr(item, name)
        assert not hasattr(event, name)
    everything = repr(item) + repr(event) + msgspec.json.encode(item).decode()
    for secret in SECRETS:
        assert secret not in everything


def test_it_drops_identity_fields_in_every_event_of_a_batch() -> None:
    body = [{"type": "smoke", "device": f"d{n}", **IDENTITY} for n in range(3)]
    events = parse_all(body)
    assert len(events) == 3
    for secret in SECRETS:
        assert secret not in repr(events)


def test_it_keeps_the_offset_of_a_local_time_as_sent() -> None:
    local = timezone(timedelta(hours=-4))
    event = event_from({"type": "smoke", "device": "d1", "ts": "2025-03-01T08:00:00-04:00"})
    assert event.device_ts == datetime(2025, 3, 1, 8, 0, tzinfo=local) == T0
