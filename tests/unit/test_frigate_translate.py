"""Frigate over MQTT: detections become alarms by label and zone, identity never gets through."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.config import parse_config
from commonwatch.ingest.bridge.outputs import Context, Evidence, Native, Output, StateSnapshot
from commonwatch.ingest.frigate.parse import ParseError
from commonwatch.ingest.frigate.translate import FrigateTranslator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frigate"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CONFIG = parse_config(
    """
[frigate]
base_url = "http://nvr.local:5000/"
community = "c-riverside"
[frigate.cameras.gate_cam]
device = "cam-gate"
[frigate.cameras.gate_cam.zones.bike_store]
device = "cam-gate-bikes"
restricted = true
[frigate.cameras.roof]
restricted = true
"""
).frigate


class Frigate:
    """The translator with the bridge's state cache around it."""

    def __init__(self, config: object = CONFIG) -> None:
        self.translator = FrigateTranslator(config)  # type: ignore[arg-type]
        self.states: dict[str, StateSnapshot] = {}

    def send(self, topic: str, payload: bytes | str) -> list[Output]:
        body = payload.encode() if isinstance(payload, str) else payload
        out = self.translator.translate(topic, body, Context(NOW), self.states.get)
        self.states.update({o.key: o for o in out if isinstance(o, StateSnapshot)})
        return out


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def natives(out: list[Output]) -> list[Native]:
    return [o for o in out if isinstance(o, Native)]


def test_it_reads_the_0_12_shape_and_makes_an_ordinary_person_one_info_event() -> None:
    out = natives(Frigate().send("frigate/events", fixture("event_new_0_12.json")))
    assert [(n.type, n.state, n.device) for n in out] == [
        ("camera_person", EventState.INFO, "frigate:front_door")
    ]
    assert out[0].id == "frigate:1607123955.475377-mxklsc:info"


def test_it_raises_an_intrusion_on_the_zone_device_when_a_person_enters_a_restricted_zone() -> None:
    out = Frigate().send("frigate/events", fixture("event_update_current.json"))
    (alarm,) = natives(out)
    assert (alarm.type, alarm.state, alarm.device) == (
        "intrusion",
        EventState.ALARM,
        "cam-gate-bikes",
    )
    assert alarm.community == "c-riverside"
    assert alarm.id == "frigate:1718987129.308396-fqk5ka:intrusion"


def test_it_links_snapshot_and_clip_urls_as_evidence_of_the_alarm() -> None:
    out = Frigate().send("frigate/events", fixture("event_update_current.json"))
    links = {(e.kind, e.url) for e in out if isinstance(e, Evidence)}
    assert links == {
        ("snapshot", "http://nvr.local:5000/api/events/1718987129.308396-fqk5ka/snapshot.jpg"),
        ("clip", "http://nvr.local:5000/api/events/1718987129.308396-fqk5ka/clip.mp4"),
    }
    assert {e.event_id for e in out if isinstance(e, Evidence)} == {natives(out)[0].id}


def test_it_never_carries_names_or_plates_into_anything_it_hands_on() -> None:
    frigate = Frigate(parse_config('[frigate]\nalarms_from = "reviews"').frigate)
    outputs = [
        *frigate.send("frigate/events", fixture("event_update_current.json")),
        *frigate.send("frigate/reviews", fixture("review_alert.json")),
        *frigate.send("frigate/tracked_object_update", fixture("tracked_object_update_lpr.json")),
    ]
    text = repr(outputs)
    assert "Alice Example" not in text
    assert "AB123CD" not in text


@pytest.mark.parametrize(
    "name", ["tracked_object_update_face.json", "tracked_object_update_lpr.json",
             "tracked_object_update_description.json"],
)  # fmt: skip
def test_it_drops_tracked_object_updates_entirely(name: str) -> None:
    assert Frigate().send("frigate/tracked_object_update", fixture(name)) == []


def test_it_never_turns_a_false_positive_into_an_event() -> None:
    assert Frigate().send("frigate/events", fixture("event_false_positive.json")) == []


def test_it_raises_a_camera_fire_for_smoke_anywhere_and_restores_it_when_the_object_ends() -> None:
    out = natives(Frigate().send("frigate/events", fixture("event_end_fire.json")))
    assert [(n.type, n.state) for n in out] == [
        ("camera_fire", EventState.ALARM),
        ("camera_fire", EventState.RESTORE),
    ]
    assert out[1].ts == datetime.fromtimestamp(1718990060.0, UTC)


def test_it_treats_a_whole_camera_marked_restricted_as_a_restricted_zone() -> None:
    body = json.loads(fixture("event_new_0_12.json"))
    body["after"]["camera"] = "roof"
    (alarm,) = natives(Frigate().send("frigate/events", json.dumps(body)))
    assert (alarm.type, alarm.device) == ("intrusion", "frigate:roof")


def test_it_takes_alarms_from_reviews_only_when_configured_and_links_the_first_detection() -> None:
    assert Frigate().send("frigate/reviews", fixture("review_alert.json")) == []
    config = parse_config(
        '[frigate]\nalarms_from = "reviews"\nbase_url = "http://nvr"\n'
        "[frigate.cameras.gate_cam.zones.bike_store]\nrestricted = true\n"
    ).frigate
    out = Frigate(config).send("frigate/reviews", fixture("review_alert.json"))
    assert [(n.type, n.id) for n in natives(out)] == [
        ("intrusion", "frigate-review:1718987129.308396-rv0001:intrusion")
    ]
    urls = [e.url for e in out if isinstance(e, Evidence)]
    assert "http://nvr/api/events/1718987129.308396-fqk5ka/snapshot.jpg" in urls


def test_it_reports_the_server_offline_once_and_back_online_once() -> None:
    frigate = Frigate()
    first = natives(frigate.send("frigate/available", "offline"))
    again = frigate.send("frigate/available", "offline")
    stopped = frigate.send("frigate/available", "stopped")
    back = natives(frigate.send("frigate/available", "online"))
    assert [(n.type, n.state, n.device) for n in first] == [
        ("device_offline", EventState.ALARM, "frigate")
    ]
    assert again == stopped == []
    assert [n.state for n in back] == [EventState.RESTORE]


def test_it_reports_a_camera_offline_while_any_role_is_offline_and_ignores_disabled() -> None:
    frigate = Frigate()
    down = natives(frigate.send("frigate/gate_cam/status/detect", "offline"))
    other = frigate.send("frigate/gate_cam/status/record", "disabled")
    up = natives(frigate.send("frigate/gate_cam/status/detect", "online"))
    assert [(n.device, n.state) for n in down] == [("cam-gate", EventState.ALARM)]
    assert natives(other) == []
    assert [n.state for n in up] == [EventState.RESTORE]


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("frigate/gate_cam/motion", "ON"),
        ("frigate/gate_cam/review_status", "ALERT"),
        ("frigate/gate_cam/person", "1"),
        ("frigate/gate_cam/person/snapshot", "\xff\xd8 jpeg"),
        ("frigate/stats", "{}"),
        ("frigate/gate_cam/detect/state", "ON"),
    ],
)
def test_it_ignores_motion_review_status_counts_images_and_settings(
    topic: str, payload: str
) -> None:
    assert Frigate().send(topic, payload) == []


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("frigate/events", "{{", "malformed"),
        ("frigate/events", '{"type": "new", "after": {"camera": "x", "label": "person"}}', "`id`"),
        ("frigate/events", '{"type": "Alice Example", "after": {}}', "$.type"),
        ("frigate/available", "maybe", "online, offline or stopped"),
        ("frigate/gate_cam/status/detect", "broken", "online, offline or disabled"),
    ],
)
def test_it_refuses_malformed_messages_with_a_reason_that_quotes_no_value(
    topic: str, payload: str, reason: str
) -> None:
    with pytest.raises(ParseError) as caught:
        Frigate().send(topic, payload)
    assert reason in caught.value.reason
    assert "Alice" not in caught.value.reason
