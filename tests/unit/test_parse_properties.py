"""Properties: no payload a device can send crashes ingest. Bad input is a ParseError (or, in the
worker, a dead letter), never another exception; every accepted event is well formed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonwatch.bus.pull import Delivery
from commonwatch.domain.model import DeviceEvent
from commonwatch.ingest.native.parse import EventIn, ParseError, decode_many, decode_one, to_event
from commonwatch.runtime.worker import parse_batch
from tests.unit.factories import T0

T = TypeVar("T")

# Modest on purpose: the unit suite stays fast; CI runs many times a day.
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)

# Mostly valid field values with their edges (naive times, far years, odd offsets), so that
# most event-shaped examples get through decoding and exercise to_event; json_values adds junk.
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
datetimes = st.datetimes(datetime(1990, 1, 1), datetime(2110, 1, 1)) | st.datetimes()
iso_times = st.builds(
    lambda d, tz: d.replace(tzinfo=tz).isoformat(), datetimes, st.none() | offsets
)
epochs = st.floats(allow_nan=False) | st.integers(0, 5_000_000_000)
VALID_IDS = ["smoke-kitchen", "cam.01", "x:y-z_1", "A9", "ev-" + "9" * 100]
idents = st.sampled_from([*VALID_IDS, "-bad"])  # mostly valid: the refusals are tested elsewhere
types = st.sampled_from(["smoke", "fire", "co", "heartbeat", "tamper", "water_leak", "Smoke"])

event_objects = st.fixed_dictionaries(
    {"type": types},
    optional={
        "state": st.sampled_from(["alarm", "restore", "info"]),
        "id": idents,
        "device": idents,
        "community": idents,
        "ts": iso_times | epochs,
        "received": iso_times,
        "value": st.floats(allow_nan=False) | st.none(),
        "source": st.sampled_from(["http", "panel"]),
        "sub_label": json_values,
        "plate": json_values,
        "face": json_values,
    },
)
bodies = event_objects | st.lists(event_objects, max_size=3) | json_values


def encoded(value: object) -> bytes:
    return json.dumps(value).encode()


EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def assert_well_formed(event: DeviceEvent) -> None:
    assert event.id
    assert event.device_id
    # Aware, so that correlation can compare them; in range, so that storage can encode them.
    assert EARLIEST <= event.device_ts <= LATEST
    assert EARLIEST <= event.received_ts <= LATEST


def attempt(step: Callable[[], T]) -> T | ParseError:
    """The step's result, or the ParseError it refused with; anything else propagates and fails."""
    try:
        return step()
    except ParseError as exc:
        return exc


def accepted(items: list[EventIn], device: str | None) -> list[DeviceEvent]:
    convert = partial(to_event, fallback_id="fb-1", received=T0, device=device)
    results = [attempt(partial(convert, item)) for item in items]
    assert all(r.reason for r in results if isinstance(r, ParseError))
    return [r for r in results if isinstance(r, DeviceEvent)]


@PROPERTY
@given(raw=st.binary(max_size=300))
def test_it_raises_only_parse_errors_for_arbitrary_bytes(raw: bytes) -> None:
    for result in (attempt(lambda: decode_one(raw)), attempt(lambda: decode_many(raw))):
        assert not isinstance(result, ParseError) or result.reason


@PROPERTY
@given(value=json_values)
def test_it_raises_only_parse_errors_for_arbitrary_json(value: object) -> None:
    attempt(lambda: decode_one(encoded(value)))
    items = attempt(lambda: decode_many(encoded(value)))
    if isinstance(items, list):
        for event in accepted(items, device=None):
            assert_well_formed(event)


@PROPERTY
@given(body=bodies, topic_device=st.none() | st.just("smoke-kitchen"))
def test_it_accepts_only_well_formed_events_from_event_shaped_json(
    body: object, topic_device: str | None
) -> None:
    items = attempt(lambda: decode_many(encoded(body)))
    if isinstance(items, ParseError):
        return
    assert 1 <= len(items) <= 1000
    for event in accepted(items, device=topic_device):
        assert_well_formed(event)
        assert not hasattr(event, "sub_label")
        assert not hasattr(event, "plate")


subjects = st.sampled_from(
    [
        "commonwatch.events.riverside.smoke-kitchen",
        "commonwatch.events._.cam//01",
        "commonwatch.events.riverside",
        "commonwatch.events..x",
        "elsewhere",
    ]
) | st.text(max_size=30)
payloads = st.binary(max_size=100) | event_objects.map(encoded) | json_values.map(encoded)
stored_ns = st.integers(1_577_836_800 * 10**9, 1_893_456_000 * 10**9)  # JetStream: 2020-2030

deliveries = st.builds(
    Delivery,
    subject=subjects,
    data=payloads,
    reply=st.just("$JS.ACK.CW_EVENTS.ingest.1.1.1.0.0"),
    stream_seq=st.integers(1, 2**63),
    delivered=st.integers(1, 10),
    stored_ns=stored_ns,
    mqtt=st.booleans(),
)


@PROPERTY
@given(batch=st.lists(deliveries, max_size=3))
def test_it_never_raises_in_the_worker_and_accounts_for_every_delivery(
    batch: list[Delivery],
) -> None:
    parsed = parse_batch(batch)
    assert len(parsed.events) + len(parsed.dead) == len(batch)
    assert len(parsed.seqs) == len(parsed.events)
    for event in parsed.events:
        assert_well_formed(event)
    for letter in parsed.dead:
        assert letter.reason
