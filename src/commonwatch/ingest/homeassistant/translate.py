"""Alarm panel states to events: `triggered` is an intrusion alarm, leaving it restores, every
other state is an info event. Only a CHANGE of state is an event (states are retained)."""

from __future__ import annotations

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.changes import Target, change_events, flag_changes, merge
from commonwatch.ingest.bridge.decoding import bounded_id
from commonwatch.ingest.bridge.outputs import Context, Native, Output, Scalar, StateLookup
from commonwatch.ingest.homeassistant import mapping, parse
from commonwatch.ingest.homeassistant.config import HomeAssistantConfig

SOURCE = "homeassistant"
PREFIX = "ha"


class HomeAssistantTranslator:
    source = SOURCE

    def __init__(self, config: HomeAssistantConfig) -> None:
        self.config = config
        self.prefix = config.prefix.strip("/")

    def claims(self, topic: str) -> bool:
        return topic in self.config.panels or topic.startswith(self.prefix + "/")

    def translate(
        self, topic: str, payload: bytes, ctx: Context, states: StateLookup
    ) -> list[Output]:
        object_id = parse.statestream_object_id(topic, self.prefix)
        if object_id is None and topic not in self.config.panels:
            return []  # discovery configs, other entities
        state = parse.parse_state(payload)
        if state == mapping.UNKNOWN:
            return []
        device = self.config.panel_device(topic, object_id)
        target = Target(SOURCE, PREFIX, device, self.config.community_of(topic, ctx.community))
        key = f"panel:{device}"
        prev = states(key)
        flags = {mapping.OFFLINE: state == mapping.UNAVAILABLE}
        if state != mapping.UNAVAILABLE:
            flags[mapping.ALARM_TYPE] = state == mapping.TRIGGERED
        values: dict[str, Scalar] = {**flags, "state": state}
        snapshot = merge(SOURCE, key, prev, values)
        if snapshot is None:
            return []
        out = change_events(target, snapshot, flag_changes(prev, snapshot, flags), ctx.received)
        info = mapping.INFO.get(state)
        if info is not None:
            event_id = bounded_id(PREFIX, device, snapshot.seq, info)
            community = target.community
            out.insert(
                0, Native(event_id, device, community, info, EventState.INFO, ctx.received, SOURCE)
            )
        return out
