"""GET /api/v1/stream: changes from CW_CHANGES as Server-Sent Events, resumable, scoped."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import msgspec
from nats.js import JetStreamContext

from commonwatch.bus import subjects
from commonwatch.domain.events import IncidentAcknowledged, NoteAdded
from tests.integration.conftest import HEARTBEAT_S, City

STREAM = "/api/v1/stream"


@dataclass
class Frame:
    id: int | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads("\n".join(self.data))
        return loaded


class Sse:
    """Reads an open text/event-stream frame by frame."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def frame(self, within_s: float = 10.0) -> Frame:
        out = Frame()
        async with asyncio.timeout(within_s):
            async for line in self._lines:
                if not line:
                    return out
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    out.comments.append(value)
                elif name == "id":
                    out.id = int(value)
                elif name == "event":
                    out.event = value
                elif name == "data":
                    out.data.append(value)
        raise AssertionError("the stream ended")

    async def changes_about(self, refs: set[str], count: int) -> list[Frame]:
        """The next `count` events about these incidents, skipping anything else on the stream."""
        found: list[Frame] = []
        while len(found) < count:
            frame = await self.frame()
            if frame.event and frame.payload.get("incident_id") in refs:
                found.append(frame)
        return found


@asynccontextmanager
async def listening(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: object
) -> AsyncIterator[Sse]:
    async with client.stream("GET", STREAM, headers=headers or {}, params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        sse = Sse(response)
        hello = await sse.frame()
        assert "connected" in hello.comments  # from here on, we are subscribed
        yield sse


async def publish_change(js: JetStreamContext, incident: str, jpath: str | None, text: str) -> int:
    event = NoteAdded(at=datetime.now(UTC), incident_id=incident, by="test", text=text)
    headers = {"Cw-Jpath": jpath} if jpath is not None else None
    ack = await js.publish(
        subjects.change_subject("incident", incident), msgspec.json.encode(event), headers=headers
    )
    return int(ack.seq)


def incident_id() -> str:
    return f"inc-{uuid.uuid4().hex[:10]}"


async def test_it_streams_changes_and_resumes_after_the_last_event_id(
    admin_client: httpx.AsyncClient, bus: JetStreamContext, city: City
) -> None:
    refs = [incident_id() for _ in range(3)]
    async with listening(admin_client) as sse:
        seqs = [
            await publish_change(bus, ref, city.north, f"note {i}") for i, ref in enumerate(refs)
        ]
        live = await sse.changes_about(set(refs), 3)
    assert [f.id for f in live] == seqs
    assert [f.event for f in live] == ["NoteAdded"] * 3
    assert [f.payload["text"] for f in live] == ["note 0", "note 1", "note 2"]

    async with listening(admin_client, headers={"Last-Event-ID": str(seqs[0])}) as resumed:
        later = await resumed.changes_about(set(refs), 2)
    async with listening(admin_client, last_event_id=seqs[1]) as by_query:
        last = await by_query.changes_about(set(refs), 1)
    assert [f.id for f in later] == seqs[1:]
    assert [f.id for f in last] == seqs[2:]


async def test_it_starts_with_new_changes_only_when_not_resuming(
    admin_client: httpx.AsyncClient, bus: JetStreamContext, city: City
) -> None:
    old, new = incident_id(), incident_id()
    await publish_change(bus, old, city.north, "before we listened")
    async with listening(admin_client) as sse:
        await publish_change(bus, new, city.north, "while we listened")
        first = await sse.changes_about({old, new}, 1)
    assert first[0].payload["incident_id"] == new


async def test_it_streams_only_changes_within_the_callers_jurisdiction(
    outsider: httpx.AsyncClient, bus: JetStreamContext, city: City
) -> None:
    north, unplaced, south = incident_id(), incident_id(), incident_id()
    async with listening(outsider) as sse:
        await publish_change(bus, north, f"{city.north}.c1", "not for the south")
        await publish_change(bus, unplaced, None, "no jurisdiction header")
        await publish_change(bus, south, f"{city.south}.c2", "for the south")
        seen = await sse.changes_about({north, unplaced, south}, 1)
    assert seen[0].payload["incident_id"] == south


async def test_it_sends_a_heartbeat_comment_while_nothing_happens(
    admin_client: httpx.AsyncClient,
) -> None:
    async with listening(admin_client) as sse:
        quiet = await sse.frame(within_s=HEARTBEAT_S * 3)
    assert quiet.comments == ["keep-alive"]
    assert quiet.event is None


async def test_it_deletes_its_consumer_when_the_client_goes_away(
    admin_client: httpx.AsyncClient, bus: JetStreamContext
) -> None:
    async def consumers() -> set[str]:
        names = [c.name for c in await bus.consumers_info(subjects.CHANGES_STREAM)]
        return {n for n in names if n.startswith("sse_")}

    before = await consumers()
    async with listening(admin_client):
        during = await consumers()
    for _ in range(50):
        after = await consumers()
        if not after - before:
            break
        await asyncio.sleep(0.1)
    assert len(during - before) == 1
    assert not after & (during - before)


async def test_it_refuses_a_last_event_id_that_is_not_a_sequence(
    admin_client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    bad = await admin_client.get(STREAM, headers={"Last-Event-ID": "yesterday"})
    unauthenticated = await anonymous.get(STREAM)
    assert bad.status_code == 400
    assert "Last-Event-ID" in bad.json()["detail"]
    assert unauthenticated.status_code == 401


async def test_it_keeps_the_operator_role_check_on_the_stream(
    integration_client: httpx.AsyncClient,
) -> None:
    response = await integration_client.get(STREAM)
    assert response.status_code == 403


async def test_it_names_the_event_after_the_domain_event_kind(
    admin_client: httpx.AsyncClient, bus: JetStreamContext, city: City
) -> None:
    ref = incident_id()
    event = IncidentAcknowledged(at=datetime.now(UTC), incident_id=ref, by="someone")
    async with listening(admin_client) as sse:
        await bus.publish(
            subjects.change_subject("incident", ref),
            msgspec.json.encode(event),
            headers={"Cw-Jpath": city.north},
        )
        frame = (await sse.changes_about({ref}, 1))[0]
    assert frame.event == "IncidentAcknowledged"
    assert frame.payload["by"] == "someone"
