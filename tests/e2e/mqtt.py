"""A plain MQTT client, as a device or an integration would use it."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt


class Publisher:
    """QoS 1 publisher with a bounded window of unacknowledged messages."""

    def __init__(self, port: int, window: int = 2000) -> None:
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self._client.max_inflight_messages_set(0)
        self._window = threading.BoundedSemaphore(window)
        self._client.on_publish = self._released
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _released(self, *_: object) -> None:
        self._window.release()

    def send(self, community: str, device: str, body: dict[str, object] | bytes) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._window.acquire()
        self._client.publish(f"commonwatch/events/{community}/{device}", payload, qos=1)

    def close(self, timeout_s: float = 60.0) -> None:
        """Wait until every message was acknowledged by the broker, then disconnect."""
        for _ in range(self._window._initial_value):  # type: ignore[attr-defined]
            if not self._window.acquire(timeout=timeout_s):
                raise TimeoutError("broker did not acknowledge every publish")
        self._client.loop_stop()
        self._client.disconnect()
