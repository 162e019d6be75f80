"""Privacy at the edge: a name and a plate that Frigate sends reach nothing that is kept.

Servers of its own in a fresh directory (so that every file there comes from this test): MQTT
publishes carrying "Alice Example" and "AB123CD" in every identity field Frigate has, plus
malformed messages carrying them too; then every file of PostgreSQL and NATS (JetStream streams,
the gateway's own $MQTT_ streams, dead letters) and the log is searched for both, byte by byte.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import paho.mqtt.client as mqtt
import pytest

from commonwatch.bus.streams import ensure_streams
from commonwatch.ingest.bridge.service import main_bridge
from commonwatch.runtime.config import Settings
from commonwatch.runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from commonwatch.runtime.rules import load_rules
from commonwatch.runtime.worker import connect_nats
from commonwatch.storage import db
from tests.integration.workers import Workers

pytestmark = pytest.mark.timeout(120)

NAME, PLATE = b"Alice Example", b"AB123CD"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "frigate"
CONFIG = """
[bridge]
status_every_s = 0.1

[frigate]
base_url = "http://nvr.local:5000"
community = "c-private"
[frigate.cameras.gate_cam.zones.bike_store]
device = "cam-bikes"
restricted = true
"""


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def with_plate_as_string() -> bytes:
    """The documented shape: recognized_license_plate as a plain string, on a new object."""
    body = json.loads(fixture("event_update_current.json"))
    body["type"] = "new"
    body["after"].update(
        id="1718987200.000000-plate1", camera="car_park", label="car",
        recognized_license_plate="AB123CD", recognized_license_plate_score=0.97,
        sub_label=["Alice Example", 0.9],
    )  # fmt: skip
    return json.dumps(body).encode()


MESSAGES: list[tuple[str, bytes, int]] = [
    ("frigate/events", fixture("event_update_current.json"), 1),
    ("frigate/events", with_plate_as_string(), 0),
    ("frigate/events", fixture("event_end_fire.json"), 1),
    ("frigate/reviews", fixture("review_alert.json"), 1),
    ("frigate/tracked_object_update", fixture("tracked_object_update_face.json"), 0),
    ("frigate/tracked_object_update", fixture("tracked_object_update_lpr.json"), 1),
    ("frigate/tracked_object_update", fixture("tracked_object_update_description.json"), 1),
    # malformed: each still carries the name and the plate
    ("frigate/events", b'{"type": "Alice Example", "after": {"sub_label": "AB123CD"}}', 1),
    ("frigate/events", b'{"type": "new", "after": {"id": "x", "camera": "gate_cam", '
     b'"label": "person", "false_positive": "Alice Example AB123CD"}}', 1),
    ("frigate/events", b"Alice Example AB123CD {", 0),
    ("frigate/reviews", b'{"type": "new", "after": {"id": "r", "camera": "c", "start_time": 1,'
     b' "severity": "Alice Example", "data": {"sub_labels": ["AB123CD"]}}}', 1),
    ("frigate/available", b"Alice Example", 1),
]  # fmt: skip


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Everything logged while the test runs, at every level, into one file."""
    path = tmp_path / "logs" / "test.log"
    path.parent.mkdir()
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def publish(port: int, messages: list[tuple[str, bytes, int]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="frigate")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for _ in range(250):
            if client.is_connected():
                break
            time.sleep(0.02)
        for topic, payload, qos in messages:
            client.publish(topic, payload, qos=qos).wait_for_publish(5)
    finally:
        client.disconnect()  # first: loop_stop would otherwise wait out paho's 1 s select
        client.loop_stop()


def files_containing(root: Path, needles: tuple[bytes, ...]) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: {n.decode()}" for n in needles if n in data]
    return found


async def run_platform(
    root: Path, database_url: str, nats_url: str, mqtt_port: int
) -> dict[str, int]:
    await db.migrate(database_url)
    nc = await connect_nats(nats_url, "privacy-test")
    js = nc.jetstream()
    await ensure_streams(js)
    config_path = root / "bridge.toml"
    config_path.write_text(CONFIG)
    stop = asyncio.Event()
    settings = Settings(root, database_url=database_url, nats_url=nats_url)
    bridge = asyncio.create_task(main_bridge(settings, stop, config_path=config_path))
    conn = await db.connect(database_url)
    try:
        worker = Workers(nc=nc, js=js, conn=conn, rules=load_rules(None))
        await worker.start()
        await subscribed(conn)
        await asyncio.to_thread(publish, mqtt_port, MESSAGES)
        counts = await settle(conn, js, worker)
        stop.set()
        await asyncio.wait_for(bridge, 15)
        while await worker.step(expires_s=0.3):
            pass
        await conn.execute("CHECKPOINT")  # so that what was written is in the data files
        return counts
    finally:
        await conn.close()
        await nc.close()


async def subscribed(conn: asyncpg.Connection) -> None:
    for _ in range(100):
        if await conn.fetchval("SELECT 1 FROM source_connections WHERE name = 'embedded'"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bridge did not subscribe")


async def settle(conn: asyncpg.Connection, js: object, worker: Workers) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _ in range(80):
        await worker.step(expires_s=0.2)
        counts = dict(
            await conn.fetchrow(
                "SELECT (SELECT count(*) FROM incidents WHERE type = 'intrusion') AS intrusion, "
                "(SELECT count(*) FROM incidents WHERE type = 'fire') AS fire, "
                "(SELECT count(*) FROM events) AS events, "
                "(SELECT count(*) FROM evidence) AS evidence"
            )
            or {}
        )
        dead = (await js.stream_info("CW_DEADLETTER")).state.messages  # type: ignore[attr-defined]
        counts["dead"] = dead
        if counts["intrusion"] and counts["fire"] and dead >= 5:
            break
    return counts


async def test_it_keeps_no_name_and_no_plate_anywhere_on_disk_or_in_the_log(
    tmp_path: Path, log_file: Path
) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg")
    nats_server = EmbeddedNats(tmp_path / "nats", port=free_port(), mqtt_port=free_port())
    database_url = pg.start()
    nats_server.start()
    try:
        counts = await run_platform(tmp_path, database_url, nats_server.url, nats_server.mqtt_port)
    finally:
        nats_server.stop()
        pg.stop()
    # What those payloads must produce: an intrusion (person in the restricted zone), a fire
    # (smoke), an info event for the car, evidence links, and one dead letter per malformed one.
    assert counts["intrusion"] == 1
    assert counts["fire"] == 1
    assert counts["events"] == 4  # intrusion, camera_fire alarm + restore, camera_car info
    assert counts["evidence"] == 4
    assert counts["dead"] == 5
    leaks, logged = await asyncio.to_thread(lambda: (files_containing(tmp_path, (NAME, PLATE)),
                                                     log_file.stat().st_size))  # fmt: skip
    assert leaks == []
    assert logged > 0  # the log was captured (and searched, it lives under tmp_path)
