"""Zigbee2MQTT: an event is an attribute CHANGE; the same cached state repeated is nothing new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.config import parse_config
from commonwatch.ingest.bridge.outputs import Context, Native, Output, StateSnapshot
from commonwatch.ingest.zigbee2mqtt.parse import Kind, ParseError, classify
from commonwatch.ingest.zigbee2mqtt.translate import Zigbee2MqttTranslator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "zigbee2mqtt"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CONFIG = parse_config(
    """
[zigbee2mqtt]
community = "c-riverside"
[zigbee2mqtt.devices."block-a/kitchen smoke"]
device = "smoke-a-kitchen"
"""
).zigbee2mqtt


class Z2M:
    def __init__(self) -> None:
        self.translator = Zigbee2MqttTranslator(CONFIG)
        self.states: dict[str, StateSnapshot] = {}
        self.clock = NOW

    def send(self, topic: str, payload: bytes | str) -> list[Native]:
        body = payload.encode() if isinstance(payload, str) else payload
        self.clock += timedelta(seconds=1)
        out: list[Output] = self.translator.translate(
            topic, body, Context(self.clock), self.states.get
        )
        self.states.update({o.key: o for o in out if isinstance(o, StateSnapshot)})
        return [o for o in out if isinstance(o, Native)]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def summary(events: list[Native]) -> list[tuple[str, EventState]]:
    return [(e.type, e.state) for e in events]


KITCHEN = "zigbee2mqtt/block-a/kitchen smoke"


def test_it_reports_nothing_for_a_device_first_heard_in_its_normal_state() -> None:
    assert Z2M().send(KITCHEN, fixture("smoke_clear.json")) == []


def test_it_raises_an_alarm_on_change_and_not_again_when_the_cached_state_repeats() -> None:
    z2m = Z2M()
    z2m.send(KITCHEN, fixture("smoke_clear.json"))
    raised = z2m.send(KITCHEN, fixture("smoke_detected.json"))
    repeated = z2m.send(KITCHEN, fixture("smoke_detected.json"))
    cleared = z2m.send(KITCHEN, fixture("smoke_clear.json"))
    assert summary(raised) == [("smoke", EventState.ALARM)]
    assert raised[0].device == "smoke-a-kitchen"
    assert raised[0].community == "c-riverside"
    assert repeated == []
    assert summary(cleared) == [("smoke", EventState.RESTORE)]


def test_it_does_not_fire_again_after_a_restart_with_the_persisted_state() -> None:
    before = Z2M()
    before.send(KITCHEN, fixture("smoke_detected.json"))
    after = Z2M()
    after.states = dict(before.states)  # what the bridge loads from source_states
    assert after.send(KITCHEN, fixture("smoke_detected.json")) == []


def test_it_gives_each_change_an_id_that_a_replay_would_repeat() -> None:
    first, second = Z2M(), Z2M()
    ids = [e.id for e in first.send(KITCHEN, fixture("smoke_detected.json"))]
    assert ids == [e.id for e in second.send(KITCHEN, fixture("smoke_detected.json"))]


def test_it_treats_contact_true_as_closed_so_false_is_a_door_open() -> None:
    z2m = Z2M()
    opened = z2m.send("zigbee2mqtt/front door", fixture("contact_open.json"))
    closed = z2m.send("zigbee2mqtt/front door", '{"contact": true}')
    assert summary(opened) == [("door_open", EventState.ALARM)]
    assert summary(closed) == [("door_open", EventState.RESTORE)]
    assert opened[0].device == "z2m:front_door"


def test_it_makes_every_emergency_press_a_panic_and_ignores_other_buttons() -> None:
    z2m = Z2M()
    presses = [*z2m.send("zigbee2mqtt/sos", fixture("sos_button.json")),
               *z2m.send("zigbee2mqtt/sos", fixture("sos_button.json"))]  # fmt: skip
    assert summary(presses) == [("panic", EventState.ALARM)] * 2
    assert presses[0].id != presses[1].id
    assert z2m.send("zigbee2mqtt/sos", fixture("button_single.json")) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("water_leak.json", [("water_leak", EventState.ALARM)]),
        ("motion.json", [("motion", EventState.ALARM)]),
        ("ias_gas_alarm.json", [("gas", EventState.ALARM)]),
        ("temperature_low_battery.json", [("battery_low", EventState.ALARM)]),
    ],
)
def test_it_maps_each_device_type_to_its_event_type(
    name: str, expected: list[tuple[str, EventState]]
) -> None:
    assert summary(Z2M().send("zigbee2mqtt/dev", fixture(name))) == expected


def test_it_raises_heat_at_the_configured_temperature() -> None:
    z2m = Z2M()
    z2m.send("zigbee2mqtt/t", '{"temperature": 21.5}')
    assert summary(z2m.send("zigbee2mqtt/t", '{"temperature": 61.0}')) == [
        ("heat", EventState.ALARM)
    ]


@pytest.mark.parametrize("name", ["availability_offline.json", "availability_legacy_offline.txt"])
def test_it_reads_availability_in_both_formats_as_device_offline(name: str) -> None:
    z2m = Z2M()
    down = z2m.send("zigbee2mqtt/block-a/kitchen smoke/availability", fixture(name))
    again = z2m.send("zigbee2mqtt/block-a/kitchen smoke/availability", fixture(name))
    up = z2m.send("zigbee2mqtt/block-a/kitchen smoke/availability", '{"state":"online"}')
    assert summary(down) == [("device_offline", EventState.ALARM)]
    assert down[0].device == "smoke-a-kitchen"
    assert again == []
    assert summary(up) == [("device_offline", EventState.RESTORE)]


def test_it_reports_the_bridge_itself_going_offline() -> None:
    z2m = Z2M()
    assert z2m.send("zigbee2mqtt/bridge/state", fixture("bridge_state_online.json")) == []
    down = z2m.send("zigbee2mqtt/bridge/state", "offline")
    assert [(e.device, e.type, e.state) for e in down] == [
        ("zigbee2mqtt", "device_offline", EventState.ALARM)
    ]


@pytest.mark.parametrize(
    ("topic", "kind", "name"),
    [
        ("zigbee2mqtt/a/b/c", Kind.STATE, "a/b/c"),
        ("zigbee2mqtt/a/b/availability", Kind.AVAILABILITY, "a/b"),
        ("zigbee2mqtt/a/set", Kind.IGNORED, ""),
        ("zigbee2mqtt/a/set/state", Kind.IGNORED, ""),
        ("zigbee2mqtt/a/get", Kind.IGNORED, ""),
        ("zigbee2mqtt/bridge/devices", Kind.IGNORED, ""),
        ("zigbee2mqtt/bridge/state", Kind.BRIDGE_STATE, "bridge"),
    ],
)
def test_it_finds_friendly_names_with_slashes_and_ignores_commands(
    topic: str, kind: Kind, name: str
) -> None:
    found = classify(topic, "zigbee2mqtt")
    assert (found.kind, found.name) == (kind, name)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("[1, 2]", "Expected `object`"),
        ('{"smoke": "Alice Example"}', "$.smoke"),
        ('{"battery": 250}', "$.battery"),
        ("not json", "malformed"),
    ],
)
def test_it_refuses_malformed_state_with_a_reason(payload: str, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        Z2M().send("zigbee2mqtt/x", payload)
    assert reason in caught.value.reason
    assert "Alice" not in caught.value.reason
