"""Allowlisted native events into JetStream CW_EVENTS, deduplicated by deterministic id."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

import msgspec
from nats.js import JetStreamContext

from commonwatch.bus import subjects
from commonwatch.ingest.bridge.outputs import Native
from commonwatch.ingest.native.parse import EventIn

PUBLISH_TIMEOUT_S = 5.0
RECENT_IDS = 20_000


def event_in(native: Native, received: datetime) -> EventIn:
    """The native wire form. Built field by field from the allowlisted Native: there is no
    other way for a value to reach the stream."""
    return EventIn(
        type=native.type,
        state=native.state,
        id=native.id,
        device=native.device,
        community=native.community,
        ts=native.ts,
        value=native.value,
        received=received,
        source=native.source,
    )


class EventPublisher:
    """Frigate repeats an object in every update: ids published lately are not sent again.
    JetStream's duplicate window (Nats-Msg-Id) and the events table's key cover the rest."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self._recent: OrderedDict[str, None] = OrderedDict()
        self.published = 0

    async def publish(self, natives: Sequence[Native], received: datetime) -> int:
        sent = 0
        for native in natives:
            if native.id in self._recent:
                self._recent.move_to_end(native.id)
                continue
            subject = subjects.event_subject(native.community or "_", native.device)
            body = msgspec.json.encode(event_in(native, received))
            headers = {"Nats-Msg-Id": native.id}
            await self.js.publish(subject, body, timeout=PUBLISH_TIMEOUT_S, headers=headers)
            self._remember(native.id)
            sent += 1
        self.published += sent
        return sent

    def _remember(self, event_id: str) -> None:
        self._recent[event_id] = None
        if len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)
