"""Nothing lost, nothing doubled: kill -9 the incident writer mid-stream; restart the platform."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

import asyncpg
import pytest

from commonwatch.bus.subjects import INGEST_PARTITIONS
from commonwatch.runtime.supervisor import read_endpoints
from tests.e2e.conftest import RunningPlatform, start_platform, stop_platform, wait_ready
from tests.e2e.mqtt import Publisher

TOTAL = 50_000
ALARMS = 500  # one panic per distinct device: exactly one incident each


def counts(database_url: str) -> tuple[int, int, int]:
    async def query() -> tuple[int, int, int]:
        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM events WHERE id LIKE 'crash-%') AS events, "
                "(SELECT count(*) FROM incidents WHERE 'crash' = ANY(event_types)) AS inc, "
                "(SELECT coalesce(sum(event_count), 0) FROM incidents "
                " WHERE 'crash' = ANY(event_types)) AS joined"
            )
            assert row is not None
            return int(row["events"]), int(row["inc"]), int(row["joined"])
        finally:
            await conn.close()

    return asyncio.run(query())


def publish_mixed(port: int) -> None:
    publisher = Publisher(port)
    every = TOTAL // ALARMS
    for n in range(TOTAL):
        if n % every == 0:
            body = {"id": f"crash-{n}", "type": "crash", "state": "alarm"}
            publisher.send("c-crash", f"panic-{n}", body)
        else:
            publisher.send(
                "c-crash",
                f"hb-{n % 97}",
                {"id": f"crash-{n}", "type": "heartbeat", "state": "info"},
            )
    publisher.close()


@pytest.fixture(scope="module")
def crash_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from commonwatch.runtime.rules import default_rules_text

    path = tmp_path_factory.mktemp("rules") / "rules.toml"
    text = default_rules_text().replace(
        'panic           = { incident = "panic" }',
        'panic           = { incident = "panic" }\ncrash           = { incident = "panic" }',
    )
    path.write_text(text)
    return path


def test_it_loses_and_doubles_nothing_when_the_worker_is_killed(
    tmp_path: Path, crash_rules: Path
) -> None:
    running = start_platform(tmp_path / "data", "--rules", str(crash_rules))
    try:
        endpoints = read_endpoints(running.data_dir)
        assert endpoints is not None
        database_url = endpoints["database_url"]
        first_workers = running.child_pids("worker")  # one per ingest partition
        assert len(first_workers) == INGEST_PARTITIONS
        publishing = threading.Thread(target=publish_mixed, args=(running.mqtt_port,))
        publishing.start()
        killed_at = _kill_mid_stream(database_url, first_workers)
        publishing.join(120)
        assert 0 < killed_at < TOTAL
        _wait_for_total(database_url)
        restarted = running.child_pids("worker")
        assert len(restarted) == INGEST_PARTITIONS
        assert not set(restarted) & set(first_workers)
        time.sleep(2)  # anything redelivered late would show up as a duplicate now
        assert counts(database_url) == (TOTAL, ALARMS, ALARMS)
    finally:
        stop_platform(running)


def _kill_mid_stream(database_url: str, pids: list[int]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = counts(database_url)[0]
        if stored >= TOTAL // 5:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            return stored
        time.sleep(0.05)
    raise TimeoutError("worker did not get going")


def _wait_for_total(database_url: str) -> None:
    deadline = time.monotonic() + 120
    while counts(database_url)[0] < TOTAL and time.monotonic() < deadline:
        time.sleep(0.5)


def test_it_keeps_incidents_and_pending_timers_across_a_restart(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    from commonwatch.runtime.rules import default_rules_text

    rules.write_text(default_rules_text().replace("after_s = 30", "after_s = 4"))
    data_dir = tmp_path / "data"
    running = start_platform(data_dir, "--rules", str(rules))
    ports = _ports(running)
    with running.client() as client:
        publisher = Publisher(running.mqtt_port)
        publisher.send("c-restart", "panic-restart", {"type": "panic", "state": "alarm"})
        publisher.close()
        incident = _wait_incident(client)
    assert stop_platform(running) == 0

    again = start_platform(data_dir, "--rules", str(rules), ports=ports)
    try:
        wait_ready(again)
        with again.client() as client:
            assert client.get(f"/api/v1/incidents/{incident}").status_code == 200
            escalated = _wait_escalated(client, incident)
        assert escalated["escalation_level"] >= 1
        kinds = [entry["kind"] for entry in escalated["timeline"]]
        assert "IncidentEscalated" in kinds
    finally:
        stop_platform(again)


def _ports(running: RunningPlatform) -> tuple[int, int, int]:
    args = running.args
    pick = [
        int(args[args.index(flag) + 1]) for flag in ("--http-port", "--mqtt-port", "--nats-port")
    ]
    return pick[0], pick[1], pick[2]


def _wait_incident(client: object) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = client.get("/api/v1/incidents").json()["items"]  # type: ignore[attr-defined]
        if items:
            return str(items[0]["id"])
        time.sleep(0.1)
    raise TimeoutError("no incident")


def _wait_escalated(client: object, incident: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body: dict[str, object] = client.get(f"/api/v1/incidents/{incident}").json()  # type: ignore[attr-defined]
        if body["escalation_level"]:
            return body
        time.sleep(0.2)
    raise TimeoutError("timer did not fire after restart")
