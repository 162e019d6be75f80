"""From a device event to an incident, through `commonwatch up` and its embedded servers."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.e2e.conftest import RunningPlatform
from tests.e2e.mqtt import Publisher


def wait_for(predicate: object, timeout_s: float, interval_s: float = 0.05) -> float:
    """Seconds until predicate() is truthy; raises after timeout_s."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(interval_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


def incidents_for(client: httpx.Client, device: str) -> list[dict[str, object]]:
    items = client.get("/api/v1/incidents", params={"limit": 500}).json()["items"]
    return [i for i in items if device in i["device_ids"]]


def test_it_turns_one_mqtt_alarm_into_an_incident_within_a_second(
    platform: RunningPlatform,
) -> None:
    device = f"smoke-{uuid.uuid4().hex[:8]}"
    with platform.client() as client:
        publisher = Publisher(platform.mqtt_port)
        publisher.send("c-e2e", device, {"type": "smoke", "state": "alarm"})
        publisher.close()
        took = wait_for(lambda: incidents_for(client, device), timeout_s=5)
        incident = incidents_for(client, device)[0]
    assert took < 1.0
    assert incident["type"] == "fire"
    assert incident["status"] == "new"


def test_it_clears_the_device_alarm_on_restore(platform: RunningPlatform) -> None:
    device = f"leak-{uuid.uuid4().hex[:8]}"
    with platform.client() as client:
        community = {"id": "c-restore", "name": "Restore Court", "parent": "e2e.city"}
        assert client.post("/api/v1/communities", json=community).status_code in (200, 201, 409)
        body = {"id": device, "kind": "water_sensor", "community_id": "c-restore"}
        assert client.post("/api/v1/devices", json=body).status_code in (200, 201)
        publisher = Publisher(platform.mqtt_port)
        publisher.send("c-restore", device, {"type": "water_leak", "state": "alarm"})
        publisher.close()

        def alarms() -> list[dict[str, object]]:
            return client.get(f"/api/v1/devices/{device}").json()["alarms"]

        wait_for(lambda: len(alarms()) == 1, timeout_s=5)
        publisher = Publisher(platform.mqtt_port)
        publisher.send("c-restore", device, {"type": "water_leak", "state": "restore"})
        publisher.close()
        wait_for(lambda: alarms() == [], timeout_s=5)
        # The incident stays open: only people close incidents unless a rule says otherwise.
        assert incidents_for(client, device)[0]["status"] == "new"


def test_it_dead_letters_mqtt_garbage_and_keeps_working(platform: RunningPlatform) -> None:
    device = f"panic-{uuid.uuid4().hex[:8]}"
    with platform.client() as client:
        publisher = Publisher(platform.mqtt_port)
        publisher.send("c-e2e", device, b"\x00not json at all")
        publisher.send("c-e2e", device, {"type": 42})
        publisher.send("c-e2e", device, {"type": "panic", "state": "alarm"})
        publisher.close()
        wait_for(lambda: incidents_for(client, device), timeout_s=5)
        letters = client.get("/api/v1/dead-letters", params={"limit": 50}).json()
    mine = [d for d in letters if d["origin_subject"].endswith(device)]
    reasons = sorted(d["reason"] for d in mine)
    assert len(mine) == 2
    assert any("malformed" in r for r in reasons)
    assert any("$.type" in r for r in reasons)
    assert platform.child_pid("worker") is not None


def test_it_answers_bad_http_input_with_a_reason(platform: RunningPlatform) -> None:
    with platform.client() as client:
        malformed = client.post("/api/v1/events", content=b"{nope")
        invalid = client.post("/api/v1/events", json={"type": "smoke", "state": "burning"})
        good = client.post("/api/v1/events", json={"type": "smoke", "device": "d-http-1"})
    assert malformed.status_code == 400
    assert invalid.status_code == 422
    assert "state" in invalid.json()["detail"]
    assert good.status_code == 202
    assert len(good.json()["ids"]) == 1


def test_it_refuses_requests_without_a_token(platform: RunningPlatform) -> None:
    response = httpx.get(f"{platform.base_url}/api/v1/incidents")
    assert response.status_code == 401
    assert httpx.get(f"{platform.base_url}/healthz").status_code == 200
