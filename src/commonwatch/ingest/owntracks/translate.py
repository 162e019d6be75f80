"""OwnTracks messages to unit positions (MQTT `owntracks/<user>/<device>` and HTTP mode)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from commonwatch.ingest.bridge.outputs import Context, Output, Position, StateLookup, UnitGone
from commonwatch.ingest.owntracks import parse
from commonwatch.ingest.owntracks.config import OwnTracksConfig
from commonwatch.ingest.owntracks.parse import Declined, Location, Lwt, Transition

log = logging.getLogger(__name__)

SOURCE = "owntracks"


class OwnTracksTranslator:
    source = SOURCE

    def __init__(self, config: OwnTracksConfig) -> None:
        self.config = config
        self.prefix = config.topic_prefix.strip("/")

    def claims(self, topic: str) -> bool:
        return topic.startswith(self.prefix + "/")

    def translate(
        self, topic: str, payload: bytes, ctx: Context, states: StateLookup
    ) -> list[Output]:
        where = parse.classify(topic, self.prefix)
        if where is None or not where.read:
            return []
        return self.translate_for(where.user, where.device, payload, ctx)

    def translate_for(self, user: str, device: str, payload: bytes, ctx: Context) -> list[Output]:
        """One message of the app of (user, device); HTTP mode calls this directly."""
        unit = self.config.unit_of(user, device)
        if unit is None:
            log.info("owntracks: a message from an app that is not a listed unit was dropped")
            return []
        if not payload.strip():
            return []  # HTTP mode posts empty bodies now and then
        message = parse.parse(payload)
        if isinstance(message, Declined):
            log.warning("owntracks: declined a message for unit %s: %s", unit, message.why)
            return []
        if isinstance(message, Lwt):
            return [UnitGone(unit, _at(message.tst) if message.tst else ctx.received)]
        if isinstance(message, Location | Transition):
            return [self._position(unit, user, device, message, ctx)]
        return []

    def _position(
        self, unit: str, user: str, device: str, m: Location | Transition, ctx: Context
    ) -> Position:
        speed = m.vel if isinstance(m, Location) else None
        battery = m.batt if isinstance(m, Location) else None
        return Position(
            unit_id=unit,
            community=self.config.community_of(user, device, ctx.community),
            lat=m.lat,
            lon=m.lon,
            at=_at(m.tst),
            accuracy_m=m.acc if m.acc is not None and m.acc >= 0 else None,
            speed_kmh=speed if speed is not None and speed >= 0 else None,
            battery=battery if battery is not None and 0 <= battery <= 100 else None,
        )


def _at(tst: float) -> datetime:
    return datetime.fromtimestamp(tst, UTC)
