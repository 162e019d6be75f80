"""Home Assistant alarm panels: triggered is an intrusion, leaving it restores, the rest is info."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.config import parse_config
from commonwatch.ingest.bridge.outputs import Context, Native, StateSnapshot, no_state
from commonwatch.ingest.homeassistant.parse import ParseError
from commonwatch.ingest.homeassistant.translate import HomeAssistantTranslator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "homeassistant"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CONFIG = parse_config(
    '[homeassistant]\ncommunity = "c-riverside"\n'
    '[homeassistant.panels."home/alarm/block_b/state"]\ndevice = "panel-b"\n'
).homeassistant


class Panels:
    def __init__(self) -> None:
        self.translator = HomeAssistantTranslator(CONFIG)
        self.states: dict[str, StateSnapshot] = {}

    def send(self, topic: str, payload: str) -> list[tuple[str, EventState]]:
        out = self.translator.translate(topic, payload.encode(), Context(NOW), self.states.get)
        self.states.update({o.key: o for o in out if isinstance(o, StateSnapshot)})
        return [(o.type, o.state) for o in out if isinstance(o, Native)]


def test_it_follows_a_statestream_panel_through_a_break_in() -> None:
    panels = Panels()
    sequence = json.loads((FIXTURES / "statestream_sequence.json").read_text())
    seen = [panels.send(topic, payload) for topic, payload in sequence]
    assert seen == [
        [("panel_armed_away", EventState.INFO)],
        [],  # the retained state again
        [("panel_pending", EventState.INFO)],
        [("intrusion", EventState.ALARM)],
        [],
        [("panel_disarmed", EventState.INFO), ("intrusion", EventState.RESTORE)],
    ]


def test_it_maps_a_configured_state_topic_to_its_panel_device() -> None:
    translator = HomeAssistantTranslator(CONFIG)
    out = translator.translate("home/alarm/block_b/state", b"triggered", Context(NOW), no_state)
    (alarm,) = [o for o in out if isinstance(o, Native)]
    assert (alarm.device, alarm.community, alarm.type) == ("panel-b", "c-riverside", "intrusion")


def test_it_reports_an_unavailable_panel_as_device_health() -> None:
    panels = Panels()
    panels.send("home/alarm/block_b/state", "disarmed")
    assert panels.send("home/alarm/block_b/state", "unavailable") == [
        ("device_offline", EventState.ALARM)
    ]
    assert panels.send("home/alarm/block_b/state", "unknown") == []


def test_it_ignores_discovery_and_other_entities() -> None:
    panels = Panels()
    discovery = (FIXTURES / "discovery_alarm_panel.json").read_text()
    assert panels.send("homeassistant/alarm_control_panel/block_a/config", discovery) == []
    assert panels.send("homeassistant/sensor/hall_temp/state", "21.5") == []


@pytest.mark.parametrize("payload", ["Alice Example", "x" * 100, "\udcff"])
def test_it_refuses_unknown_states_without_quoting_them(payload: str) -> None:
    with pytest.raises(ParseError) as caught:
        HomeAssistantTranslator(CONFIG).translate(
            "home/alarm/block_b/state", payload.encode("utf-8", "surrogateescape"),
            Context(NOW), no_state,
        )  # fmt: skip
    assert "alarm panel state" in caught.value.reason
    assert "Alice" not in caught.value.reason
