"""Device ecosystems end to end: plain MQTT clients publish Frigate, Zigbee2MQTT, Home Assistant
and OwnTracks payloads to the embedded listener and to an external broker (amqtt); the bridge and
the ingest worker turn them into incidents, device health, unit positions and evidence links."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import paho.mqtt.client as mqtt
import pytest
from amqtt.broker import Broker

from commonwatch.api.app import API_PREFIX, create_app
from commonwatch.api.routes import sources as sources_routes
from commonwatch.domain.places import Building, Community, Device
from commonwatch.handlers.health import sweep_stale
from commonwatch.ingest.bridge.config import load_config
from commonwatch.ingest.bridge.pipeline import Pipeline
from commonwatch.ingest.bridge.router import Inbound, Router
from commonwatch.ingest.bridge.service import main_bridge
from commonwatch.runtime.config import Settings
from commonwatch.runtime.embedded import free_port
from commonwatch.runtime.rules import load_rules
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db, registry
from tests.conftest import Servers
from tests.integration.conftest import Api, Keys, serve_in_thread, until_started
from tests.integration.workers import Workers

pytestmark = pytest.mark.timeout(90)

FIXTURES = Path(__file__).parents[1] / "fixtures"
UID = uuid.uuid4().hex[:6]
COMMUNITY = f"c-src-{UID}"
# The embedded listener refuses whitespace in topics (see test_bridge_delivery); brokers don't.
SMOKE_TOPIC = f"zigbee2mqtt/blk{UID}/kitchen_smoke"
CONFIG = f"""
[bridge]
community = "{COMMUNITY}"
status_every_s = 0.2

[[bridge.brokers]]
name = "estate-{UID}"
host = "127.0.0.1"
port = {{port}}
topics = ["zigbee2mqtt/#", "owntracks/#", "site-{UID}/#"]
community = "{COMMUNITY}"
reconnect_max_s = 2

[frigate]
base_url = "http://nvr-{UID}.local:5000"
community = "{COMMUNITY}"
server_device = "nvr-{UID}"
[frigate.cameras.gate_cam]
device = "cam-gate-{UID}"
[frigate.cameras.gate_cam.zones.bike_store]
device = "cam-bikes-{UID}"
restricted = true
[frigate.cameras.bin_store]
device = "cam-bins-{UID}"

[zigbee2mqtt]
community = "{COMMUNITY}"
[zigbee2mqtt.devices."blk{UID}/kitchen_smoke"]
device = "smoke-{UID}"
[zigbee2mqtt.devices."blk{UID}/bath leak"]
device = "leak-{UID}"

[homeassistant.panels."site-{UID}/alarm/state"]
device = "panel-{UID}"
community = "{COMMUNITY}"

[owntracks.units."patrol{UID}/phone"]
unit = "patrol-{UID}"
community = "{COMMUNITY}"
"""


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


EMBEDDED = [
    ("frigate/events", fixture("frigate/event_update_current.json")),
    ("frigate/events", fixture("frigate/event_end_fire.json")),
    ("frigate/events", fixture("frigate/event_false_positive.json")),
    ("frigate/available", b"offline"),
    (SMOKE_TOPIC, fixture("zigbee2mqtt/smoke_clear.json")),
    (SMOKE_TOPIC, fixture("zigbee2mqtt/smoke_detected.json")),
    (SMOKE_TOPIC, fixture("zigbee2mqtt/smoke_detected.json")),
]
EXTERNAL = [
    (f"zigbee2mqtt/blk{UID}/bath leak", fixture("zigbee2mqtt/water_leak.json")),
    (
        f"zigbee2mqtt/blk{UID}/bath leak/availability",
        fixture("zigbee2mqtt/availability_offline.json"),
    ),
    (f"zigbee2mqtt/blk{UID}/hall temp", fixture("zigbee2mqtt/temperature_low_battery.json")),
    (f"site-{UID}/alarm/state", b"armed_away"),
    (f"site-{UID}/alarm/state", b"triggered"),
    (f"owntracks/patrol{UID}/phone", fixture("owntracks/location.json")),
]


@dataclass
class World:
    conn: asyncpg.Connection
    config_path: Path
    database_url: str


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for _ in range(250):  # publish only once the broker has said CONNACK
            if client.is_connected():
                break
            time.sleep(0.02)
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()  # first: loop_stop would otherwise wait out paho's 1 s select
        client.loop_stop()


async def place_devices(conn: asyncpg.Connection) -> None:
    jpath = f"srcs{UID}.c_src_{UID}"
    await registry.upsert_communities(conn, [Community(COMMUNITY, "Riverside", jpath)])
    await registry.upsert_buildings(
        conn, [Building(f"b-{UID}", COMMUNITY, "Block A", f"{jpath}.b")]
    )
    ids = ["cam-gate", "cam-bikes", "cam-bins", "smoke", "leak", "panel"]
    await registry.upsert_devices(
        conn, [Device(f"{d}-{UID}", "sensor", COMMUNITY, f"{jpath}.b", f"b-{UID}") for d in ids]
    )


async def until(check: object, worker: Workers, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await worker.step(expires_s=0.2)
        if await check():  # type: ignore[operator]
            return
    raise AssertionError("the expected state did not appear in time")


async def connected(conn: asyncpg.Connection) -> bool:
    state = await conn.fetchval(
        "SELECT state FROM source_connections WHERE name = $1", f"estate-{UID}"
    )
    return bool(state == "connected")


@pytest.fixture(scope="module")
async def world(
    servers: Servers, api: Api, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    conn = await db.connect(servers.database_url)
    await place_devices(conn)
    port = free_port()
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    await broker.start()
    folder = tmp_path_factory.mktemp("bridge")
    config_path = folder / "bridge.toml"
    config_path.write_text(CONFIG.replace("{port}", str(port)))
    settings = Settings(folder, database_url=servers.database_url, nats_url=servers.nats_url)
    stop = asyncio.Event()
    bridge = asyncio.create_task(main_bridge(settings, stop, config_path=config_path))
    nc = await connect_nats(servers.nats_url, "test-sources")
    worker = Workers(nc=nc, js=nc.jetstream(), conn=conn, rules=load_rules(None))
    await worker.start()
    try:
        for _ in range(100):
            if await connected(conn):
                break
            await asyncio.sleep(0.1)
        assert await connected(conn), "the bridge did not connect to the external broker"
        await asyncio.to_thread(publish, servers.mqtt_port, EMBEDDED)
        await asyncio.to_thread(publish, port, EXTERNAL)

        async def settled() -> bool:
            found = await conn.fetchval(
                "SELECT (SELECT count(*) FROM incidents WHERE $1 = ANY(device_ids)) "
                "+ (SELECT count(*) FROM device_health WHERE device_id = $2) "
                "+ (SELECT count(*) FROM unit_positions WHERE unit_id = $3)",
                f"panel-{UID}", f"leak-{UID}", f"patrol-{UID}",
            )  # fmt: skip
            return bool(found == 3)

        await until(settled, worker)
        await until(lambda: _drained(worker), worker, 5.0)
        yield World(conn, config_path, servers.database_url)
    finally:
        stop.set()
        await asyncio.wait_for(bridge, 15)
        await nc.close()
        await conn.close()
        await broker.shutdown()


@pytest.fixture(scope="module")
async def sources_api(servers: Servers, api: Api) -> AsyncIterator[str]:
    """The API with this module's router mounted (until the lead adds it to create_app)."""
    app = create_app(
        database_url=servers.database_url, nats_url=servers.nats_url, rules=load_rules(None)
    )
    if not any(getattr(r, "path", "") == f"{API_PREFIX}/units/positions" for r in app.routes):
        before = len(app.router.routes)
        app.include_router(sources_routes.router, prefix=API_PREFIX)
        # First, as create_app must mount it: dispatch's /units/{unit_id} would match too.
        mine = app.router.routes[before:]
        app.router.routes[:] = mine + app.router.routes[:before]
    port = free_port()
    server, thread = serve_in_thread(app, port)
    await until_started(server, thread)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.to_thread(thread.join, 15)


def _client(base_url: str, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10.0)


@pytest.fixture
async def admin_client(sources_api: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(sources_api, keys.admin) as client:
        yield client


@pytest.fixture
async def integration_client(sources_api: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(sources_api, keys.integration) as client:
        yield client


@pytest.fixture
async def anonymous(sources_api: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(sources_api, None) as client:
        yield client


async def _drained(worker: Workers) -> bool:
    return await worker.step(expires_s=0.3) == 0


async def incidents_of(conn: asyncpg.Connection, device: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT id, type, status FROM incidents WHERE $1 = ANY(device_ids) ORDER BY opened_at",
            device,
        )
    )


async def test_it_opens_an_intrusion_for_a_person_frigate_sees_in_a_restricted_zone(
    world: World,
) -> None:
    assert [r["type"] for r in await incidents_of(world.conn, f"cam-bikes-{UID}")] == ["intrusion"]


async def test_it_opens_fire_for_smoke_on_camera_and_for_a_zigbee_smoke_detector_once(
    world: World,
) -> None:
    camera = await incidents_of(world.conn, f"cam-bins-{UID}")
    detector = await incidents_of(world.conn, f"smoke-{UID}")
    smoke_events = await world.conn.fetchval(
        "SELECT count(*) FROM events WHERE device_id = $1 AND type = 'smoke'", f"smoke-{UID}"
    )
    assert [r["type"] for r in camera] == ["fire"]
    assert [r["type"] for r in detector] == ["fire"]
    assert smoke_events == 1  # the repeated cached state was not a second event


async def test_it_never_turns_a_frigate_false_positive_into_anything(world: World) -> None:
    stored = await world.conn.fetchval(
        "SELECT count(*) FROM events WHERE id LIKE 'frigate:1718991111.000000-fp0001%'"
    )
    assert stored == 0


async def test_it_raises_an_intrusion_for_a_triggered_home_assistant_panel_on_an_external_broker(
    world: World,
) -> None:
    assert [r["type"] for r in await incidents_of(world.conn, f"panel-{UID}")] == ["intrusion"]
    info = await world.conn.fetchval(
        "SELECT count(*) FROM events WHERE device_id = $1 AND type = 'panel_armed_away'",
        f"panel-{UID}",
    )
    assert info == 1


async def test_it_lists_offline_and_low_battery_devices_as_unhealthy_with_open_tickets(
    world: World, admin_client: httpx.AsyncClient
) -> None:
    response = await admin_client.get(f"/api/v1/communities/{COMMUNITY}/unhealthy-devices")
    assert response.status_code == 200, response.text
    found = {d["device_id"]: (d["state"], d["issues"], d["open_tickets"])
             for d in response.json()["items"]}  # fmt: skip
    assert found[f"leak-{UID}"] == ("offline", ["offline"], 1)
    assert found[f"z2m:blk{UID}.hall_temp"] == ("degraded", ["battery_low"], 1)
    assert found[f"nvr-{UID}"] == ("offline", ["offline"], 1)
    # Health is maintenance: an offline device opens no incident.
    assert await incidents_of(world.conn, f"nvr-{UID}") == []


async def test_it_answers_404_for_the_health_of_a_community_that_does_not_exist(
    world: World, admin_client: httpx.AsyncClient
) -> None:
    response = await admin_client.get("/api/v1/communities/nowhere-x/unhealthy-devices")
    assert response.status_code == 404


async def test_it_links_the_frigate_snapshot_and_clip_to_the_incident(
    world: World, admin_client: httpx.AsyncClient
) -> None:
    (incident,) = await incidents_of(world.conn, f"cam-bikes-{UID}")
    response = await admin_client.get(f"/api/v1/incidents/{incident['id']}/evidence")
    assert response.status_code == 200, response.text
    urls = sorted(e["url"] for e in response.json()["items"])
    base = f"http://nvr-{UID}.local:5000/api/events/1718987129.308396-fqk5ka"
    assert urls == [f"{base}/clip.mp4", f"{base}/snapshot.jpg"]
    audited = await world.conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'incident.evidence.read' AND target = $1",
        incident["id"],
    )
    assert audited == 1


async def test_it_shows_unit_positions_from_owntracks_over_mqtt(
    world: World, admin_client: httpx.AsyncClient
) -> None:
    response = await admin_client.get("/api/v1/units/positions")
    assert response.status_code == 200, response.text
    units = {u["unit_id"]: u for u in response.json()["items"]}
    patrol = units[f"patrol-{UID}"]
    assert (patrol["lat"], patrol["lon"], patrol["battery"]) == (48.856826, 2.292713, 53.0)
    track = await world.conn.fetchval(
        "SELECT count(*) FROM unit_tracks WHERE unit_id = $1", f"patrol-{UID}"
    )
    assert track == 1


async def test_it_takes_owntracks_http_mode_posts_and_answers_an_empty_list(
    world: World, integration_client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    headers = {"X-Limit-U": f"httpu{UID}", "X-Limit-D": "tab"}
    body = fixture("owntracks/location_full.json")
    posted = await integration_client.post("/api/v1/owntracks", content=body, headers=headers)
    empty = await integration_client.post(f"/api/v1/owntracks?u=httpu{UID}&d=tab", content=b"")
    nobody = await integration_client.post("/api/v1/owntracks", content=body)
    refused = await anonymous.post("/api/v1/owntracks", content=body, headers=headers)
    assert (posted.status_code, posted.json()) == (200, [])
    assert (empty.status_code, empty.json()) == (200, [])
    assert (nobody.status_code, refused.status_code) == (422, 401)
    stored = await world.conn.fetchrow(
        "SELECT lat, speed_kmh FROM unit_positions WHERE unit_id = $1", f"owntracks:httpu{UID}:tab"
    )
    assert stored is not None
    assert (stored["lat"], stored["speed_kmh"]) == (48.857102, 12.0)


async def test_it_reports_each_bridge_connection(
    world: World, admin_client: httpx.AsyncClient
) -> None:
    response = await admin_client.get("/api/v1/sources/connections")
    assert response.status_code == 200, response.text
    states = {c["name"]: c for c in response.json()["items"]}
    assert states[f"estate-{UID}"]["url"].startswith("mqtt://127.0.0.1:")
    assert states[f"estate-{UID}"]["messages"] >= len(EXTERNAL)
    assert states["embedded"]["state"] == "subscribed"


async def test_it_does_not_fire_a_zigbee_state_again_after_a_restart(world: World) -> None:
    pool = await db.create_pool(world.database_url, max_size=1)
    try:
        config = load_config(world.config_path)
        restarted = Pipeline(Router.from_config(config), pool, None)  # type: ignore[arg-type]
        await restarted.load_states()
        again = Inbound(SMOKE_TOPIC, fixture("zigbee2mqtt/smoke_detected.json"), datetime.now(UTC))
        await restarted.handle(again)
    finally:
        await pool.close()
    assert (restarted.counts.handled, restarted.publisher.published) == (1, 0)


async def test_it_marks_silent_devices_stale_and_recovers_them_when_heard_again(
    world: World,
) -> None:
    device = f"cam-gate-{UID}"  # registered, never heard from
    await world.conn.execute(
        "UPDATE devices SET created_at = now() - interval '2 days' WHERE id = $1", device
    )
    await sweep_stale(world.conn, older_than_s=86_400)
    stale = await world.conn.fetchrow(
        "SELECT state, issues FROM device_health WHERE device_id = $1", device
    )
    later = datetime.now(UTC) + timedelta(seconds=1)
    await world.conn.execute(
        "INSERT INTO events (id, device_id, community_id, type, state, source, device_ts, "
        "received_ts, jpath) VALUES ($1, $2, $3, 'heartbeat', 'info', 'test', $4, $4, 'x')",
        f"hb-{UID}", device, COMMUNITY, later,
    )  # fmt: skip
    await sweep_stale(world.conn, older_than_s=86_400, now=later)
    back = await world.conn.fetchrow(
        "SELECT state, issues FROM device_health WHERE device_id = $1", device
    )
    assert stale is not None
    assert back is not None
    assert (stale["state"], stale["issues"]) == ("offline", ["stale"])
    assert (back["state"], back["issues"]) == ("ok", [])


def test_it_ships_real_payload_fixtures_for_every_source() -> None:
    for source in ("frigate", "zigbee2mqtt", "homeassistant", "owntracks"):
        files = list((FIXTURES / source).iterdir())
        assert files, source
        for f in files:
            if f.suffix == ".json":
                json.loads(f.read_text())
