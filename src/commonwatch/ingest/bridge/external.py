"""External MQTT brokers (an estate's Mosquitto, a Home Assistant add-on): paho-mqtt 2.x, QoS 1,
acknowledged only once handled, reconnecting with backoff. paho runs its own network thread;
messages cross into asyncio through call_soon_threadsafe."""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from commonwatch.ingest.bridge.config import BrokerConfig
from commonwatch.ingest.bridge.router import Inbound
from commonwatch.storage.sources import ConnectionView

log = logging.getLogger(__name__)

QOS = 1


class ExternalBroker:
    def __init__(
        self, config: BrokerConfig, queue: asyncio.Queue[Inbound], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.config = config
        self.queue = queue
        self.loop = loop
        # Written by paho's thread, read by the status loop: plain attribute stores.
        self.state = "connecting"
        self.since = datetime.now(UTC)
        self.last_error: str | None = None
        self.messages = 0
        self.last_message_at: datetime | None = None
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        c = self.config
        client_id = c.client_id or f"commonwatch-bridge-{c.name}"
        # A persistent session: the broker keeps QoS 1 messages for us while we are away.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
        )
        if c.username:
            client.username_pw_set(c.username, c.secret())
        if c.tls:
            client.tls_set(
                ca_certs=c.tls.ca_certs,
                certfile=c.tls.certfile,
                keyfile=c.tls.keyfile,
                cert_reqs=ssl.CERT_NONE if c.tls.insecure else ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(c.tls.insecure)
        client.reconnect_delay_set(c.reconnect_min_s, c.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        # connect_async + loop_start: paho's thread retries the first connection and reconnects.
        self.client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self._set("stopped", None)

    def status(self) -> ConnectionView:
        return ConnectionView(
            name=self.config.name,
            url=self.config.url,
            source=self.config.source,
            state=self.state,
            since=self.since,
            last_error=self.last_error,
            messages=self.messages,
            last_message_at=self.last_message_at,
        )

    def _set(self, state: str, error: str | None) -> None:
        if state != self.state:
            self.state, self.since = state, datetime.now(UTC)
        self.last_error = error or (self.last_error if state != "connected" else None)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._set("refused", str(reason))
            log.warning("bridge: broker %s refused the connection: %s", self.config.name, reason)
            return
        client.subscribe([(topic, QOS) for topic in self.config.topics])
        self._set("connected", None)
        log.info("bridge: connected to broker %s (%s)", self.config.name, self.config.url)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._set("disconnected", "cannot connect")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if self.state != "stopped":
            self._set("disconnected", str(reason) if reason.is_failure else None)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = datetime.now(UTC)
        self.messages += 1
        self.last_message_at = now
        mid, qos = msg.mid, msg.qos

        def ack() -> None:
            if qos > 0:
                client.ack(mid, qos)

        c = self.config
        inbound = Inbound(msg.topic, bytes(msg.payload), now, c.name, c.source, c.community, ack)
        self.loop.call_soon_threadsafe(self.queue.put_nowait, inbound)
