"""Emissions as the native MQTT messages a real device would send."""

from __future__ import annotations

import msgspec

from commonwatch.bus.subjects import MQTT_EVENTS_TOPIC
from commonwatch.domain.model import EventState
from commonwatch.domain.places import Device
from commonwatch.sim.scenarios import Emission


class NativeEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """The native JSON body (see ingest/native/parse.py): type, state, ts and, if any, value."""

    type: str
    state: EventState
    ts: float
    # The event id makes a QoS 1 redelivery harmless: storage keeps one row per id.
    id: str | None = None
    value: float | None = None


_encoder = msgspec.json.Encoder()


def topic(device: Device) -> str:
    return MQTT_EVENTS_TOPIC.format(community=device.community_id, device=device.id)


def payload(emission: Emission, *, ts: float, event_id: str | None = None) -> bytes:
    body = NativeEvent(emission.type, emission.state, round(ts, 3), event_id, emission.value)
    return _encoder.encode(body)
