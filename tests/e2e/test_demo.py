"""A newcomer runs `commonwatch up --demo` and sees incidents arrive."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import start_platform, stop_platform


def test_it_shows_demo_incidents_within_ten_seconds(tmp_path: Path) -> None:
    running = start_platform(tmp_path / "data", "--demo")
    try:
        started = time.monotonic()
        with running.client() as client:
            while time.monotonic() - started < 10:
                items = client.get("/api/v1/incidents").json()["items"]
                if items:
                    break
                time.sleep(0.2)
        assert items, "no incident within 10 s of the platform being ready"
        communities = {i["community_id"] for i in items}
        assert all(c.startswith("c") for c in communities)
    finally:
        assert stop_platform(running) == 0
