"""The bridge's pure parts: change detection, subject and topic names, its configuration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commonwatch.ingest.bridge.changes import flag_changes, merge
from commonwatch.ingest.bridge.config import ConfigError, parse_config
from commonwatch.ingest.bridge.decoding import bounded_id, device_id
from commonwatch.ingest.bridge.embedded import (
    filters_for,
    overlaps,
    subject_to_topic,
    topic_to_subject,
)
from commonwatch.ingest.bridge.outputs import StateSnapshot
from commonwatch.ingest.bridge.publish import event_in
from commonwatch.ingest.bridge.router import Inbound, Router
from commonwatch.ingest.native.parse import decode_one

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_it_makes_a_snapshot_only_when_a_value_changes() -> None:
    first = merge("z", "k", None, {"smoke": False})
    assert first == StateSnapshot("z", "k", 1, {"smoke": False})
    assert merge("z", "k", first, {"smoke": False}) is None
    assert merge("z", "k", first, {"smoke": True}) == StateSnapshot("z", "k", 2, {"smoke": True})


def test_it_keeps_values_a_message_did_not_repeat() -> None:
    first = merge("z", "k", None, {"smoke": True, "battery": 90.0})
    second = merge("z", "k", first, {"tamper": False})
    assert second is not None
    assert second.values == {"smoke": True, "battery": 90.0, "tamper": False}


def test_it_reports_a_never_seen_flag_only_when_it_is_raised() -> None:
    new = StateSnapshot("z", "k", 1, {"smoke": False, "gas": True})
    assert flag_changes(None, new, {"smoke": False, "gas": True}) == [("gas", True)]


@pytest.mark.parametrize(
    ("topic", "subject"),
    [
        ("frigate/events", "frigate.events"),
        ("frigate/cam.1/status/detect", "frigate.cam//1.status.detect"),
        ("zigbee2mqtt/block a/kitchen", "zigbee2mqtt.block a.kitchen"),
    ],
)
def test_it_converts_topics_and_subjects_as_the_nats_mqtt_gateway_does(
    topic: str, subject: str
) -> None:
    assert topic_to_subject(topic) == subject
    assert subject_to_topic(subject) == topic


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("frigate.>", "frigate.>", True),
        ("frigate.events", "frigate.>", True),
        ("*.events", "frigate.>", True),
        (">", "owntracks.>", True),
        ("commonwatch.>", "frigate.>", False),
        ("$MQTT.msgs.>", "frigate.>", False),
        ("frigate", "frigate.>", False),
        ("frigate.events.x", "frigate.events", False),
    ],
)
def test_it_knows_when_a_stream_would_capture_the_bridges_subjects(
    a: str, b: str, expected: bool
) -> None:
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected


def test_it_subscribes_to_every_source_prefix_and_configured_panel_topic() -> None:
    config = parse_config('[homeassistant.panels."home/alarm.1/state"]\ndevice = "p1"\n')
    assert filters_for(config) == [
        "frigate.>", "home.alarm//1.state", "homeassistant.>", "owntracks.>", "zigbee2mqtt.>",
    ]  # fmt: skip


def test_it_reads_brokers_with_credentials_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EAST_PW", "s3cret")
    config = parse_config(
        '[[bridge.brokers]]\nname = "east"\nhost = "10.0.4.2"\nport = 8883\n'
        'source = "zigbee2mqtt"\ntopics = ["zigbee2mqtt/#"]\nusername = "cw"\n'
        'password_env = "EAST_PW"\ntls = { ca_certs = "/etc/ca.pem" }\n'
    )
    (broker,) = config.bridge.brokers
    assert broker.secret() == "s3cret"
    assert broker.url == "mqtts://10.0.4.2:8883"
    assert "s3cret" not in broker.url


@pytest.mark.parametrize(
    "text",
    [
        '[[bridge.brokers]]\nname = "a"\nhost = "h"\n[[bridge.brokers]]\nname = "a"\nhost = "h"\n',
        '[[bridge.brokers]]\nname = "embedded"\nhost = "h"\n',
        '[[bridge.brokers]]\nname = "a"\nhost = "h"\nsource = "ftp"\n',
        "[frigate]\nbase_ulr = 'typo'\n",
    ],
)
def test_it_refuses_a_configuration_it_cannot_use(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(text)


def test_it_routes_by_the_connections_source_type_or_by_topic_prefix() -> None:
    router = Router.from_config(parse_config(""))
    by_prefix = router.pick(Inbound("owntracks/u/d", b"", NOW))
    by_type = router.pick(Inbound("site/alarm", b"", NOW, source="homeassistant"))
    assert by_prefix is not None
    assert by_type is not None
    assert (by_prefix.source, by_type.source) == ("owntracks", "homeassistant")
    assert router.pick(Inbound("elsewhere/x", b"", NOW)) is None


def test_it_makes_device_ids_and_event_ids_that_the_ingest_worker_accepts() -> None:
    device = device_id("z2m", "Bloc A/Küche Rauch 1")
    event_id = bounded_id("z2m", device * 6, 7, "smoke")
    assert device == "z2m:Bloc_A.K_che_Rauch_1"
    assert len(event_id) == 128
    assert event_id == bounded_id("z2m", device * 6, 7, "smoke")


def test_it_publishes_events_in_the_native_format() -> None:
    from commonwatch.domain.model import EventState
    from commonwatch.ingest.bridge.outputs import Native

    native = Native(
        "frigate:1.2-x:intrusion", "cam-1", "c-1", "intrusion", EventState.ALARM, NOW, "frigate"
    )
    import msgspec

    decoded = decode_one(msgspec.json.encode(event_in(native, NOW)))
    assert (decoded.id, decoded.type, decoded.source, decoded.device) == (
        "frigate:1.2-x:intrusion", "intrusion", "frigate", "cam-1",
    )  # fmt: skip
