"""Which source's translator reads a message: by the connection's source type, or (auto) by
topic prefix. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from commonwatch.ingest.bridge.config import BridgeFile
from commonwatch.ingest.bridge.outputs import Context, Output, StateLookup
from commonwatch.ingest.frigate.translate import FrigateTranslator
from commonwatch.ingest.homeassistant.translate import HomeAssistantTranslator
from commonwatch.ingest.owntracks.translate import OwnTracksTranslator
from commonwatch.ingest.zigbee2mqtt.translate import Zigbee2MqttTranslator


class Translator(Protocol):
    source: str

    def claims(self, topic: str) -> bool: ...

    def translate(
        self, topic: str, payload: bytes, ctx: Context, states: StateLookup
    ) -> list[Output]: ...


@dataclass(frozen=True, slots=True)
class Inbound:
    """One MQTT message as the bridge received it. The payload lives only in memory."""

    topic: str
    payload: bytes
    received: datetime
    connection: str = "embedded"
    source: str = "auto"
    community: str | None = None
    # External brokers: acknowledge (QoS 1) only once the message is handled.
    ack: Callable[[], None] | None = None


class Router:
    def __init__(self, translators: Sequence[Translator]) -> None:
        self.translators = list(translators)
        self._by_source = {t.source: t for t in translators}

    @classmethod
    def from_config(cls, config: BridgeFile) -> Router:
        return cls(
            [
                FrigateTranslator(config.frigate),
                Zigbee2MqttTranslator(config.zigbee2mqtt),
                HomeAssistantTranslator(config.homeassistant),
                OwnTracksTranslator(config.owntracks),
            ]
        )

    def pick(self, message: Inbound) -> Translator | None:
        if message.source != "auto":
            return self._by_source.get(message.source)
        return next((t for t in self.translators if t.claims(message.topic)), None)

    def get(self, source: str) -> Translator | None:
        return self._by_source.get(source)
