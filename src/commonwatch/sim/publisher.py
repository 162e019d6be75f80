"""A QoS 1 MQTT publisher that rides out broker restarts (paho-mqtt 2.x, threaded loop)."""

from __future__ import annotations

import logging
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

log = logging.getLogger(__name__)

QOS = 1
# While the broker is away paho queues QoS 1 messages; past this many we drop new ones instead
# of growing without bound (at 20 events/s that is over eight minutes of outage).
MAX_QUEUED = 10_000
RECONNECT_DELAY_S = (1, 5)  # seconds, doubling; a demo should be back quickly


class MqttPublisher:
    def __init__(self, *, host: str, port: int, client_id: str) -> None:
        self.host, self.port = host, port
        self.accepted = 0  # written by the caller's thread only
        self.acked = 0  # written by paho's network thread only
        self.dropped = 0
        self._failed_connects = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.max_queued_messages_set(MAX_QUEUED)
        self._client.reconnect_delay_set(*RECONNECT_DELAY_S)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def start(self) -> None:
        # connect_async + loop_start: paho's thread retries the first connection and reconnects.
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes) -> bool:
        info = self._client.publish(topic, payload, qos=QOS)
        # NO_CONN still means queued: paho sends it once the connection is back.
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self.accepted += 1
            return True
        self.dropped += 1
        if self.dropped in (1, 10) or self.dropped % 1000 == 0:
            log.warning("simulator dropped %d events: %s", self.dropped, mqtt.error_string(info.rc))
        return False

    def flush(self, timeout_s: float) -> bool:
        """Wait until the broker has acknowledged everything accepted; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.acked < self.accepted and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.acked >= self.accepted

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s:%d refused the simulator: %s", self.host, self.port, reason)
        else:
            self._failed_connects = 0
            log.info("simulator connected to MQTT %s:%d", self.host, self.port)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._failed_connects += 1
        if self._failed_connects % 30 == 1:  # the first, then about every few minutes
            log.warning("simulator cannot reach MQTT %s:%d; retrying", self.host, self.port)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("simulator lost MQTT %s:%d (%s)", self.host, self.port, reason)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        self.acked += 1
