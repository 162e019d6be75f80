"""POST /api/v1/events: accepted once JetStream holds it, refused naming the field that is wrong."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from commonwatch.bus import subjects
from commonwatch.runtime.worker import Delivery, parse_delivery


def device_id() -> str:
    return f"api-dev-{uuid.uuid4().hex[:8]}"


async def last_on(js: JetStreamContext, subject: str) -> tuple[int, bytes, dict[str, str]]:
    msg = await js.get_last_msg(subjects.EVENTS_STREAM, subject)
    return msg.seq, msg.data, msg.headers or {}


async def test_it_accepts_a_batch_and_stores_each_event_in_the_events_stream(
    integration_client: httpx.AsyncClient, bus: JetStreamContext
) -> None:
    device = device_id()
    batch = [
        {
            "id": f"{device}-1",
            "type": "smoke",
            "device": device,
            "community": "c.one",
            "ts": 1_790_000_000,
        },
        {"type": "heartbeat", "device": device, "state": "info", "name": "dropped at ingest"},
    ]
    response = await integration_client.post("/api/v1/events", json=batch)
    assert response.status_code == 202, response.text
    ids = response.json()["ids"]
    assert ids[0] == f"{device}-1"
    assert uuid.UUID(ids[1])  # the server assigned one
    _, data, headers = await last_on(bus, subjects.event_subject("c.one", device))
    stored = json.loads(data)
    assert headers["Nats-Msg-Id"] == f"{device}-1"
    assert (stored["id"], stored["source"], stored["type"]) == (f"{device}-1", "http", "smoke")
    assert stored["received"] is not None
    _, data2, _ = await last_on(bus, subjects.event_subject("_", device))
    assert json.loads(data2)["id"] == ids[1]
    assert "name" not in json.loads(data2)


async def test_it_publishes_what_the_ingest_worker_can_read(
    integration_client: httpx.AsyncClient, bus: JetStreamContext
) -> None:
    device = device_id()
    body = {"type": "water_leak", "device": device, "community": "c-two", "value": 3.5}
    response = await integration_client.post("/api/v1/events", json=body)
    subject = subjects.event_subject("c-two", device)
    seq, data, _ = await last_on(bus, subject)
    event = parse_delivery(Delivery(subject, data, "", seq, 1, 1_790_000_000 * 10**9))
    assert response.status_code == 202
    assert (event.id, event.device_id, event.community_id) == (
        response.json()["ids"][0],
        device,
        "c-two",
    )
    assert (event.type, event.value, event.source) == ("water_leak", 3.5, "http")


async def test_it_is_idempotent_when_a_client_retries_with_the_same_ids(
    integration_client: httpx.AsyncClient, bus: JetStreamContext
) -> None:
    device = device_id()
    body = [{"id": f"{device}-a", "type": "smoke", "device": device}]
    first = await integration_client.post("/api/v1/events", json=body)
    seq_first, _, _ = await last_on(bus, subjects.event_subject("_", device))
    again = await integration_client.post("/api/v1/events", json=body)
    seq_again, _, _ = await last_on(bus, subjects.event_subject("_", device))
    assert first.json() == again.json() == {"ids": [f"{device}-a"]}
    assert seq_again == seq_first  # the stream dropped the duplicate


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"type": "smoke", ', "Input data was truncated"),
        (b"smoke alarm in block 7", "JSON is malformed: invalid character (byte 0)"),
        (b"", "Input data was truncated"),
    ],
)
async def test_it_refuses_a_body_that_is_not_json_with_400(
    integration_client: httpx.AsyncClient, body: bytes, reason: str
) -> None:
    response = await integration_client.post(
        "/api/v1/events", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([{"type": 5, "device": "d1"}], "Expected `str`, got `int` - at `$[0].type`"),
        ({"device": "d1"}, "Object missing required field `type`"),
        (
            [{"type": "smoke", "device": "d1"}, {"type": "smoke"}],
            "missing required field `device` - at `$[1]`",
        ),
        (
            {"type": "smoke", "device": "d1", "state": "on"},
            "Invalid enum value 'on' - at `$.state`",
        ),
        (
            {"type": "smoke", "device": "d1", "ts": 12},
            "between 2000 and 2100, got 12.0 - at `$.ts`",
        ),
        ([], "expected at least one event"),
    ],
)
async def test_it_names_the_field_that_makes_an_event_invalid(
    integration_client: httpx.AsyncClient, body: object, reason: str
) -> None:
    response = await integration_client.post("/api/v1/events", json=body)
    assert response.status_code == 422
    assert reason in response.json()["detail"]


async def test_it_refuses_more_than_a_thousand_events_at_once(
    integration_client: httpx.AsyncClient,
) -> None:
    body = [{"type": "heartbeat", "device": "d1", "state": "info"}] * 1001
    response = await integration_client.post("/api/v1/events", json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == "at most 1000 events per request, got 1001"


async def test_it_publishes_nothing_from_a_batch_with_one_bad_event(
    integration_client: httpx.AsyncClient, bus: JetStreamContext
) -> None:
    device = device_id()
    body = [{"type": "smoke", "device": device}, {"type": "smoke", "device": device, "ts": -1}]
    response = await integration_client.post("/api/v1/events", json=body)
    assert response.status_code == 422
    assert "`$[1].ts`" in response.json()["detail"]
    with pytest.raises(NotFoundError):
        await bus.get_last_msg(subjects.EVENTS_STREAM, subjects.event_subject("_", device))


async def test_it_documents_the_event_body_in_openapi(anonymous: httpx.AsyncClient) -> None:
    document = (await anonymous.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/events"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    event_in = document["components"]["schemas"]["EventIn"]
    assert {"$ref": "#/components/schemas/EventIn"} in schema["anyOf"]
    assert set(event_in["required"]) == {"type"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert operation["security"] == [{"HTTPBearer": []}]
