"""Zigbee2MQTT messages to Commonwatch events: one event per attribute CHANGE.

Every state message repeats all cached attributes, so the last state of each device is kept
(and persisted by the bridge); the same state sent again is not a new event.
"""

from __future__ import annotations

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.changes import Target, change_events, flag_changes, merge
from commonwatch.ingest.bridge.decoding import bounded_id
from commonwatch.ingest.bridge.outputs import Context, Native, Output, Scalar, StateLookup
from commonwatch.ingest.zigbee2mqtt import mapping, parse
from commonwatch.ingest.zigbee2mqtt.config import Zigbee2MqttConfig
from commonwatch.ingest.zigbee2mqtt.parse import Kind, Reading

SOURCE = "zigbee2mqtt"
PREFIX = "z2m"


class Zigbee2MqttTranslator:
    source = SOURCE

    def __init__(self, config: Zigbee2MqttConfig) -> None:
        self.config = config
        self.base = config.base_topic.strip("/")

    def claims(self, topic: str) -> bool:
        return topic.startswith(self.base + "/")

    def translate(
        self, topic: str, payload: bytes, ctx: Context, states: StateLookup
    ) -> list[Output]:
        where = parse.classify(topic, self.base)
        if where.kind is Kind.STATE:
            return self._state(where.name, parse.parse_state(payload), ctx, states)
        if where.kind is Kind.AVAILABILITY:
            offline = not parse.parse_availability(payload)
            return self._changes(where.name, {mapping.OFFLINE: offline}, {}, ctx, states)
        if where.kind is Kind.BRIDGE_STATE:
            offline = not parse.parse_availability(payload)
            target = Target(SOURCE, PREFIX, self.config.bridge_device, self._community(None, ctx))
            return self._apply(target, "bridge", {mapping.OFFLINE: offline}, {}, ctx, states)
        return []

    def _state(
        self, name: str, reading: Reading, ctx: Context, states: StateLookup
    ) -> list[Output]:
        flags = self.flags(reading)
        extra: dict[str, Scalar] = {}
        if reading.battery is not None:
            extra["battery"] = float(round(reading.battery))
        out = self._changes(name, flags, extra, ctx, states)
        if reading.action is not None:
            out.append(self._press(name, mapping.ACTIONS[reading.action], ctx))
        return out

    def flags(self, reading: Reading) -> dict[str, bool]:
        flags = dict(reading.flags)
        if mapping.BATTERY_LOW not in flags and reading.battery is not None:
            flags[mapping.BATTERY_LOW] = reading.battery < self.config.battery_low_percent
        if reading.temperature is not None:
            hot = reading.temperature >= self.config.heat_alarm_c
            flags[mapping.HEAT] = flags.get(mapping.HEAT, False) or hot
        return flags

    def _changes(
        self, name: str, flags: dict[str, bool], extra: dict[str, Scalar], ctx: Context,
        states: StateLookup,
    ) -> list[Output]:  # fmt: skip
        target = Target(SOURCE, PREFIX, self.config.device_of(name), self._community(name, ctx))
        return self._apply(target, f"device:{name}", flags, extra, ctx, states)

    def _apply(
        self, target: Target, key: str, flags: dict[str, bool], extra: dict[str, Scalar],
        ctx: Context, states: StateLookup,
    ) -> list[Output]:  # fmt: skip
        prev = states(key)
        snapshot = merge(SOURCE, key, prev, {**extra, **flags})
        if snapshot is None:
            return []
        return change_events(target, snapshot, flag_changes(prev, snapshot, flags), ctx.received)

    def _press(self, name: str, event_type: str, ctx: Context) -> Native:
        """A button press is momentary: no state, one alarm per press."""
        device = self.config.device_of(name)
        stamp = int(ctx.received.timestamp() * 1000)
        return Native(
            id=bounded_id(PREFIX, device, "press", stamp),
            device=device,
            community=self._community(name, ctx),
            type=event_type,
            state=EventState.ALARM,
            ts=ctx.received,
            source=SOURCE,
        )

    def _community(self, name: str | None, ctx: Context) -> str | None:
        if name is None:
            return self.config.community or ctx.community
        return self.config.community_of(name, ctx.community)
