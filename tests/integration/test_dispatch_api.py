"""Dispatch over HTTP against the real servers: stations and units, recommendations, sending a
unit, what it reports, arrival seen from its position, the acknowledgement timeout, and the
interval report of a response from alarm to resolution.

Every test works in a district of its own, and candidates come from the incident's district
(search_levels = 2), so units of other tests never compete.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from commonwatch.api.app import API_PREFIX, create_app
from commonwatch.api.routes import dispatch as dispatch_routes
from commonwatch.domain.model import DeviceEvent, EventState
from commonwatch.domain.travel import StraightLine
from commonwatch.handlers.dispatch import Dispatch, fire_assignment_timers, load_dispatch_rules
from commonwatch.handlers.ingest import ingest_batch
from commonwatch.runtime.embedded import free_port
from tests.conftest import Servers
from tests.integration.conftest import RULES, City, Keys, serve_in_thread, until_started

SHIPPED = load_dispatch_rules(incident_types=list(RULES.incident_types))
DISPATCH = Dispatch(
    msgspec.structs.replace(
        SHIPPED, settings=msgspec.structs.replace(SHIPPED.settings, search_levels=2)
    ),
    StraightLine(),
)
Json = dict[str, Any]


@pytest.fixture(scope="module")
async def dispatch_url(servers: Servers, keys: Keys) -> AsyncIterator[str]:
    app = create_app(database_url=servers.database_url, nats_url=servers.nats_url, rules=RULES)
    app.include_router(dispatch_routes.router, prefix=API_PREFIX)
    app.state.dispatch = DISPATCH
    port = free_port()
    server, thread = serve_in_thread(app, port)
    await until_started(server, thread)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.to_thread(thread.join, 15)


def client(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture
async def admin(dispatch_url: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with client(dispatch_url, keys.admin) as c:
        yield c


@pytest.fixture
async def outsider(dispatch_url: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with client(dispatch_url, keys.outsider) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def ok(response: httpx.Response, code: int = 200) -> Json:
    assert response.status_code == code, response.text
    body: Json = response.json()
    return body


@dataclass
class Town:
    """A district of its own, built through the API as an administrator would."""

    api: httpx.AsyncClient
    pg: asyncpg.Connection
    district: str

    async def community(self, lat: float | None = 22.5, lon: float | None = 114.0) -> str:
        ident = unique("c")
        body = {"id": ident, "name": ident, "parent": self.district, "lat": lat, "lon": lon}
        await ok(await self.api.post("/api/v1/communities", json=body), 201)
        return ident

    async def station(self, kind: str = "fire_station") -> str:
        ident = unique("st")
        body = {
            "id": ident,
            "name": ident,
            "kind": kind,
            "parent": self.district,
            "lat": 22.5,
            "lon": 114.01,
        }
        await ok(await self.api.post("/api/v1/stations", json=body), 201)
        return ident

    async def unit(self, station: str, kind: str, **extra: object) -> str:
        ident = unique(kind)
        body = {"id": ident, "name": ident, "kind": kind, "station_id": station, **extra}
        await ok(await self.api.post("/api/v1/units", json=body), 201)
        return ident

    async def place(self, unit: str, lat: float, lon: float, at: datetime | None = None) -> Json:
        body: Json = {"lat": lat, "lon": lon}
        if at is not None:
            body["at"] = at.isoformat()
        return await ok(await self.api.post(f"/api/v1/units/{unit}/position", json=body))

    async def alarm(self, community: str, etype: str, at: datetime) -> str:
        device = unique("dev")
        body = {"id": device, "kind": "sensor", "community_id": community}
        await ok(await self.api.post("/api/v1/devices", json=body), 201)
        event = DeviceEvent(unique("ev"), device, "", etype, EventState.ALARM, at, at)
        await ingest_batch(self.pg, [event], [None], rules=RULES)
        return str(await self.pg.fetchval("SELECT incident_id FROM events WHERE id = $1", event.id))

    async def status(self, unit: str, status: str) -> httpx.Response:
        return await self.api.post(f"/api/v1/units/{unit}/status", json={"status": status})


@pytest.fixture
def town(admin: httpx.AsyncClient, pg: asyncpg.Connection, city: City) -> Town:
    return Town(admin, pg, f"{city.name}.d_{uuid.uuid4().hex[:8]}")


def chosen(slot: Json) -> list[str]:
    return [c["unit_id"] for c in slot["candidates"] if c["chosen"]]


async def incident(api: httpx.AsyncClient, incident_id: str) -> Json:
    return await ok(await api.get(f"/api/v1/incidents/{incident_id}"))


async def test_it_carries_an_intrusion_from_alarm_to_resolution_and_measures_all_five_intervals(
    town: Town, admin: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    community = await town.community(22.5, 114.0)
    station = await town.station("street_police_post")
    near, far = await town.unit(station, "patrol_car"), await town.unit(station, "ebike_patrol")
    engine = await town.unit(station, "fire_engine")
    minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    for unit, east in ((near, 0.005), (far, 0.006), (engine, 0.001)):
        await town.place(unit, 22.5, 114.0 + east, at=minute_ago)
    fire = await town.alarm(community, "intrusion", datetime.now(UTC) - timedelta(minutes=3))
    await ok(await admin.post(f"/api/v1/incidents/{fire}/acknowledge"))

    advice = await ok(await admin.get(f"/api/v1/incidents/{fire}/recommendations"))
    assert advice["travel_method"] == "fallback"
    assert "straight-line" in advice["notice"]
    [responders] = advice["slots"]
    assert [c["unit_id"] for c in responders["candidates"]] == [near, far]
    assert chosen(responders) == [near]
    assert responders["candidates"][0]["why"].startswith("ETA ")
    assert [(e["unit_id"], e["reason"]) for e in responders["excluded"]] == [
        (engine, "wrong capability: a fire_engine does not serve as first responder")
    ]

    sent = await ok(
        await admin.post(f"/api/v1/incidents/{fire}/assign", json={"unit_id": near}), 201
    )
    dispatched_at = datetime.fromisoformat(sent["dispatched_at"])
    assert datetime.fromisoformat(sent["ack_due_at"]) - dispatched_at == timedelta(seconds=60)
    assert (await incident(admin, fire))["status"] == "dispatched"

    assert (await ok(await town.status(near, "en_route")))["status"] == "en_route"
    # A fix taken at the scene before the unit was sent says nothing about this response.
    stale = await town.place(near, 22.5, 114.0, at=dispatched_at - timedelta(seconds=1))
    assert (stale["stored"], stale["arrived_at"]) == (True, None)
    arrival = await town.place(near, 22.5003, 114.0)  # about 33 m from the community
    assert (arrival["arrived_at"], arrival["stored"]) == (fire, True)
    assert arrival["distance_m"] < 75
    assert (await ok(await admin.get(f"/api/v1/units/{near}")))["status"] == "on_scene"
    assert (await incident(admin, fire))["status"] == "on_scene"

    resolved = await admin.post(f"/api/v1/incidents/{fire}/resolve", json={"reason": "handled"})
    assert (await ok(resolved))["status"] == "resolved"

    report = await ok(
        await admin.get("/api/v1/reports/intervals", params={"jurisdiction": town.district})
    )
    row = await pg.fetchrow(
        "SELECT i.received_at, i.acknowledged_at, i.dispatched_at, a.en_route_at, i.on_scene_at "
        "FROM incidents i JOIN assignments a ON a.incident_id = i.id WHERE i.id = $1",
        fire,
    )
    assert row is not None
    received, acknowledged, dispatched, en_route, on_scene = row.values()
    expected = {
        "answering": acknowledged - received,
        "processing": dispatched - received,
        "turnout": en_route - dispatched,
        "travel": on_scene - en_route,
        "total": on_scene - received,
    }
    assert report["incidents"] == 1
    measured = {s["interval"]: (s["count"], s["p50"]) for s in report["intervals"]}
    assert measured == {k: (1, pytest.approx(v.total_seconds())) for k, v in expected.items()}

    kinds = [e["kind"] for e in (await incident(admin, fire))["timeline"]]
    for kind in ("UnitDispatched", "UnitStatusChanged", "UnitArrived", "IncidentResolved"):
        assert kind in kinds
    published = await pg.fetch(
        "SELECT payload FROM outbox WHERE subject = $1", f"commonwatch.changes.incident.{fire}"
    )
    outbox_kinds = {msgspec.json.decode(bytes(r["payload"]))["kind"] for r in published}
    assert {"UnitDispatched", "UnitArrived"} <= outbox_kinds


async def test_it_escalates_an_unacknowledged_assignment_and_suggests_the_next_unit(
    town: Town, admin: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    community = await town.community(22.5, 114.0)
    office = await town.station("property_security_office")
    first, second = (
        await town.unit(office, "security_guard"),
        await town.unit(office, "security_guard"),
    )
    await town.place(first, 22.5, 114.001)
    await town.place(second, 22.5, 114.004)
    panic = await town.alarm(community, "panic", datetime.now(UTC))
    advice = await ok(await admin.get(f"/api/v1/incidents/{panic}/recommendations"))
    assert chosen(advice["slots"][0]) == [first]
    sent = await ok(
        await admin.post(f"/api/v1/incidents/{panic}/assign", json={"unit_id": first}), 201
    )
    due = datetime.fromisoformat(sent["ack_due_at"])

    await fire_assignment_timers(pg, now=due - timedelta(seconds=1), dispatch=DISPATCH)
    assert not await unacknowledged_events(pg, panic)
    assert await fire_assignment_timers(pg, now=due + timedelta(seconds=1), dispatch=DISPATCH) >= 1
    [event] = await unacknowledged_events(pg, panic)
    assert (event["unit_id"], event["suggested_unit_id"]) == (first, second)
    assert event["suggested_eta_s"] > 0

    [assignment] = (await ok(await admin.get(f"/api/v1/incidents/{panic}/assignments")))["items"]
    assert assignment["unacknowledged_at"] is not None
    later = await ok(await admin.get(f"/api/v1/incidents/{panic}/recommendations"))
    assert chosen(later["slots"][0]) == [second]
    reasons = {e["unit_id"]: e["reason"] for e in later["slots"][0]["excluded"]}
    assert reasons[first] == "busy (dispatched)"
    # A second run finds the timer spent: an assignment escalates once.
    await fire_assignment_timers(pg, now=due + timedelta(seconds=5), dispatch=DISPATCH)
    assert len(await unacknowledged_events(pg, panic)) == 1


async def unacknowledged_events(pg: asyncpg.Connection, incident_id: str) -> list[Json]:
    rows = await pg.fetch(
        "SELECT data FROM incident_timeline WHERE incident_id = $1 "
        "AND kind = 'AssignmentUnacknowledged' ORDER BY id",
        incident_id,
    )
    return [msgspec.json.decode(r["data"]) for r in rows]


async def test_it_keeps_stations_and_units_consistent_and_says_what_is_wrong(
    town: Town, admin: httpx.AsyncClient, outsider: httpx.AsyncClient
) -> None:
    station = await town.station("volunteer_base")
    again = {
        "id": station,
        "name": "x",
        "kind": "fire_station",
        "parent": town.district,
        "lat": 1,
        "lon": 1,
    }
    assert (await admin.post("/api/v1/stations", json=again)).status_code == 409
    assert (await outsider.post("/api/v1/stations", json=again)).status_code == 403
    orphan = {"id": unique("u"), "name": "x", "kind": "foot_patrol", "station_id": "nowhere"}
    refused = await admin.post("/api/v1/units", json=orphan)
    assert (refused.status_code, refused.json()["detail"]) == (422, "no station 'nowhere'")

    team = await town.unit(station, "volunteer_team", capabilities=["first_aid"])
    listed = await ok(await admin.get("/api/v1/units", params={"station": station}))
    assert [(u["id"], u["status"], u["on_duty"]) for u in listed["items"]] == [
        (team, "available", True)
    ]
    jump = await town.status(team, "on_scene")
    assert (jump.status_code, jump.json()["detail"]) == (
        409,
        f"unit {team} is available and can move to busy, dispatched, out_of_service, not on_scene",
    )
    assert (await town.status(team, "dispatched")).status_code == 422
    assert (await ok(await town.status(team, "busy")))["status"] == "busy"
    assert (await ok(await town.status(team, "available")))["status"] == "available"
    assert (await outsider.get(f"/api/v1/units/{team}")).status_code == 404


async def test_it_tells_a_unit_off_duty_from_one_on_shift(
    town: Town, admin: httpx.AsyncClient
) -> None:
    community = await town.community(22.5, 114.0)
    office = await town.station("street_police_post")
    walker = await town.unit(office, "foot_patrol", always_on_duty=False)
    await town.place(walker, 22.5, 114.001)
    panic = await town.alarm(community, "duress", datetime.now(UTC))
    advice = await ok(await admin.get(f"/api/v1/incidents/{panic}/recommendations"))
    assert {e["unit_id"]: e["reason"] for e in advice["slots"][0]["excluded"]} == {
        walker: "off duty"
    }
    refused = await admin.post(f"/api/v1/incidents/{panic}/assign", json={"unit_id": walker})
    assert (refused.status_code, refused.json()["detail"]) == (409, f"unit {walker} is off duty")

    now = datetime.now(UTC)
    shift = {
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=7)).isoformat(),
    }
    on_shift = await ok(await admin.post(f"/api/v1/units/{walker}/shifts", json=shift), 201)
    assert on_shift["on_duty"] is True
    advice = await ok(await admin.get(f"/api/v1/incidents/{panic}/recommendations"))
    assert chosen(advice["slots"][0]) == [walker]


async def test_it_shows_coverage_on_request_and_refuses_to_rank_without_a_location(
    town: Town, admin: httpx.AsyncClient, outsider: httpx.AsyncClient
) -> None:
    home, elsewhere = await town.community(22.5, 114.0), await town.community(22.5, 114.03)
    station = await town.station("street_police_post")
    car = await town.unit(station, "patrol_car")
    await town.place(car, 22.5, 114.002)
    intrusion = await town.alarm(home, "intrusion", datetime.now(UTC))
    url = f"/api/v1/incidents/{intrusion}/recommendations"
    [slot] = (await ok(await admin.get(url, params={"coverage": "true"})))["slots"]
    assert (slot["coverage_before"], slot["coverage_after"]) == (1.0, 0.0)
    assert slot["candidates"][0]["coverage_penalty_s"] > 0
    assert elsewhere != home
    assert (await outsider.get(url)).status_code == 404

    nowhere = await town.community(None, None)
    lost = await town.alarm(nowhere, "intrusion", datetime.now(UTC))
    refused = await admin.get(f"/api/v1/incidents/{lost}/recommendations")
    assert refused.status_code == 422
    assert "has no location" in refused.json()["detail"]


async def test_it_announces_a_status_change_off_any_incident_on_the_units_subject(
    town: Town, pg: asyncpg.Connection
) -> None:
    unit = await town.unit(await town.station(), "ambulance")
    await ok(await town.status(unit, "out_of_service"))
    [row] = await pg.fetch(
        "SELECT payload, jpath::text AS jpath FROM outbox WHERE subject = $1",
        f"commonwatch.changes.unit.{unit}",
    )
    change = msgspec.json.decode(bytes(row["payload"]))
    assert (change["kind"], change["to_status"], change["incident_id"]) == (
        "UnitStatusChanged",
        "out_of_service",
        None,
    )
    assert row["jpath"].startswith(town.district)


async def test_it_announces_each_position_so_the_map_moves_the_unit(
    town: Town, pg: asyncpg.Connection
) -> None:
    unit = await town.unit(await town.station(), "patrol_car")
    await town.place(unit, 22.501, 114.011)
    rows = await pg.fetch(
        "SELECT payload FROM outbox WHERE subject = $1 ORDER BY id",
        f"commonwatch.changes.unit.{unit}",
    )
    moves = [msgspec.json.decode(bytes(r["payload"])) for r in rows]
    assert [(m["kind"], m["lat"], m["lon"]) for m in moves] == [
        ("UnitPositionReported", 22.501, 114.011)
    ]


async def test_an_owntracks_fix_near_its_incident_puts_a_dispatched_unit_on_scene(
    town: Town, admin: httpx.AsyncClient
) -> None:
    community = await town.community()
    station = await town.station("street_police_post")
    user = uuid.uuid4().hex[:8]
    unit = f"owntracks:{user}:phone"  # the unit id an OwnTracks app gets by default
    body = {"id": unit, "name": "Patrol 7", "kind": "patrol_car", "station_id": station}
    await ok(await admin.post("/api/v1/units", json=body), 201)
    await town.place(unit, 22.5, 114.005)
    alarm = await town.alarm(community, "intrusion", datetime.now(UTC) - timedelta(minutes=1))
    await ok(await admin.post(f"/api/v1/incidents/{alarm}/assign", json={"unit_id": unit}), 201)
    await ok(await town.status(unit, "en_route"))

    # tst is whole seconds, and a fix taken before the dispatch says nothing about arrival.
    fix = {"_type": "location", "lat": 22.5003, "lon": 114.0, "tst": int(time.time()) + 1, "acc": 8}
    answer = await admin.post(f"/api/v1/owntracks?u={user}&d=phone", json=fix)

    assert (answer.status_code, answer.json()) == (200, [])
    assert (await ok(await admin.get(f"/api/v1/units/{unit}")))["status"] == "on_scene"
    assert (await incident(admin, alarm))["status"] == "on_scene"
    moves = await town.pg.fetchval(
        "SELECT count(*) FROM outbox WHERE subject = $1", f"commonwatch.changes.unit.{unit}"
    )
    assert moves >= 2  # the API's fix and the OwnTracks one both went out to the console
