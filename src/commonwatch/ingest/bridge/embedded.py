"""The embedded MQTT listener, read through CORE NATS subscriptions: nothing is stored on the way.

NATS's MQTT gateway turns topic `a/b.c/d` into subject `a.b//c.d`. A JetStream stream capturing
these subjects would persist raw payloads (names, plates) on disk, so the bridge refuses to run
while one exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from commonwatch.bus.subjects import token, untoken
from commonwatch.ingest.bridge.config import BridgeFile
from commonwatch.ingest.bridge.router import Inbound

MQTT_HEADER = "Nmqtt-Pub"


class RawCaptured(RuntimeError):
    """A JetStream stream would store the raw device payloads the bridge reads."""


def topic_to_subject(topic: str) -> str:
    return ".".join(token(level) for level in topic.split("/"))


def subject_to_topic(subject: str) -> str:
    return "/".join(untoken(t) for t in subject.split("."))


def filters_for(config: BridgeFile) -> list[str]:
    """Core subjects of every source's topics on the embedded listener."""
    prefixes = [
        config.frigate.topic_prefix,
        config.zigbee2mqtt.base_topic,
        config.homeassistant.prefix,
        config.owntracks.topic_prefix,
    ]
    found = [f"{topic_to_subject(p.strip('/'))}.>" for p in prefixes]
    found += [topic_to_subject(t) for t in config.homeassistant.panels]
    return sorted(set(found))


def overlaps(a: str, b: str) -> bool:
    """Whether two subject filters can match one subject."""
    ta, tb = a.split("."), b.split(".")
    for i, (x, y) in enumerate(zip(ta, tb, strict=False)):
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
        if i == min(len(ta), len(tb)) - 1:
            return len(ta) == len(tb)
    return False


async def refuse_capture(js: JetStreamContext, filters: Iterable[str]) -> None:
    """Raise RawCaptured when a stream's subjects overlap the bridge's."""
    wanted = list(filters)
    for info in await js.streams_info():
        for subject in info.config.subjects or []:
            hits = [f for f in wanted if overlaps(subject, f)]
            if hits:
                raise RawCaptured(
                    f"stream {info.config.name} captures {subject}, which overlaps {hits[0]}: "
                    "raw device payloads would be stored; delete or narrow that stream"
                )


class EmbeddedListener:
    def __init__(self, nc: Client, config: BridgeFile, queue: asyncio.Queue[Inbound]) -> None:
        self.nc = nc
        self.filters = filters_for(config)
        self.community = config.bridge.community
        self.queue = queue
        self.messages = 0
        self.last_message_at: datetime | None = None
        self._subs: list[Subscription] = []

    async def start(self) -> None:
        for subject in self.filters:
            self._subs.append(await self.nc.subscribe(subject, cb=self._on_msg))
        await self.nc.flush()

    async def _on_msg(self, msg: Msg) -> None:
        # Only what came in over MQTT: a core publish from a NATS client is not a device.
        if not msg.headers or MQTT_HEADER not in msg.headers:
            return
        now = datetime.now(UTC)
        self.messages += 1
        self.last_message_at = now
        topic = subject_to_topic(msg.subject)
        self.queue.put_nowait(Inbound(topic, msg.data, now, "embedded", "auto", self.community))

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()
