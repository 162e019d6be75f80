"""The demo simulator: the district's devices report over MQTT, through the same ingest as real
devices. Apart from seeding the registry it never touches the database.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import threading
import time

import asyncpg

from commonwatch.sim import wire
from commonwatch.sim.director import Director
from commonwatch.sim.district import DemoDistrict
from commonwatch.sim.publisher import MqttPublisher
from commonwatch.sim.scenarios import Emission
from commonwatch.sim.seed import seed as seed_district
from commonwatch.storage import db

log = logging.getLogger(__name__)

TICK_S = 0.05
FLUSH_TIMEOUT_S = 3.0
ERROR_PAUSE_S = 1.0
SEED_RETRY_S = (1.0, 5.0)  # first and longest pause between attempts
TRANSIENT_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def run_simulator(
    *,
    host: str,
    port: int,
    district: DemoDistrict,
    rate: float,
    stop: threading.Event | None,
    seed: int = 7,
    scenario_every_s: tuple[float, float] = (20, 40),
    first_scenario_s: float = 1.0,
) -> None:
    """Publish until `stop` is set (forever when None), then flush what is unacknowledged."""
    stop = stop or threading.Event()
    run_id = secrets.token_hex(4)
    director = Director(
        district,
        rate=rate,
        start=time.monotonic(),
        seed=seed,
        scenario_every_s=scenario_every_s,
        first_scenario_s=first_scenario_s,
    )
    publisher = MqttPublisher(host=host, port=port, client_id=f"commonwatch-sim-{run_id}")
    publisher.start()
    log.info("simulating %d devices at %.0f events/s via MQTT %s:%d", len(district.devices), rate,
             host, port)  # fmt: skip
    try:
        _loop(director, publisher, stop, run_id)
    finally:
        if not publisher.flush(FLUSH_TIMEOUT_S):
            log.warning("simulator stopped with %d events unacknowledged",
                        publisher.accepted - publisher.acked)  # fmt: skip
        publisher.close()


def _loop(director: Director, publisher: MqttPublisher, stop: threading.Event, run_id: str) -> None:
    ids = itertools.count(1)
    while not stop.is_set():
        try:
            _tick(director, publisher, run_id, ids)
        except Exception:
            # A demo must keep going: log the surprise, breathe, carry on.
            log.exception("simulator tick failed; continuing")
            stop.wait(ERROR_PAUSE_S)
        stop.wait(TICK_S)


def _tick(
    director: Director, publisher: MqttPublisher, run_id: str, ids: itertools.count[int]
) -> None:
    staged = len(director.staged)
    emissions = director.due(time.monotonic())
    for scene in director.staged[staged:]:
        log.info("scenario %s starts in building %s", scene.scenario, scene.building_id)
    for emission in emissions:
        _send(publisher, emission, f"sim-{run_id}-{next(ids)}")


def _send(publisher: MqttPublisher, emission: Emission, event_id: str) -> None:
    body = wire.payload(emission, ts=time.time(), event_id=event_id)
    try:
        publisher.publish(wire.topic(emission.device), body)
    except OSError as exc:
        log.warning("simulator could not publish %s: %s", event_id, exc)


async def main_simulate(
    *,
    database_url: str,
    mqtt_host: str,
    mqtt_port: int,
    rate: float,
    stop: threading.Event,
    seed: int = 7,
) -> None:
    """Seed the demo district, then simulate it until `stop` is set.

    The simulator runs in a worker thread, which cancelling this coroutine cannot end: set `stop`.
    """
    district = await seed_when_ready(database_url, stop)
    if district is None:
        return
    await asyncio.to_thread(
        run_simulator, host=mqtt_host, port=mqtt_port, district=district, rate=rate, stop=stop,
        seed=seed,
    )  # fmt: skip


async def seed_when_ready(database_url: str, stop: threading.Event) -> DemoDistrict | None:
    """Seed, retrying while the database is starting or not yet migrated; None if stopped."""
    pause, longest = SEED_RETRY_S
    while not stop.is_set():
        try:
            return await _seed_once(database_url)
        except TRANSIENT_DB_ERRORS as exc:
            log.warning("cannot seed the demo district yet (%s); retrying in %.0f s", exc, pause)
        await asyncio.to_thread(stop.wait, pause)
        pause = min(pause * 2, longest)
    return None


async def _seed_once(database_url: str) -> DemoDistrict:
    conn = await db.connect(database_url)
    try:
        district = await seed_district(conn)
    finally:
        await conn.close()
    log.info("demo district seeded: %d communities, %d buildings, %d devices",
             len(district.communities), len(district.buildings), len(district.devices))  # fmt: skip
    return district
