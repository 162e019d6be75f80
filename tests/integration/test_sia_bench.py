"""`commonwatch bench sia` end to end, tiny: it runs, writes its JSON, and loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

from commonwatch.bench.sia import SiaBenchConfig, run


async def test_it_measures_the_receiver_and_finds_every_ack_stored(tmp_path: Path) -> None:
    cfg = SiaBenchConfig(
        panels=4,
        seconds=1.0,
        rate=40.0,
        latency_seconds=1.0,
        encrypted=True,
        json_path=tmp_path / "bench-sia.json",
        data_dir=tmp_path / "data",
        quick=True,
    )
    assert await run(cfg) == 0
    doc = json.loads(cfg.json_path.read_text())
    assert doc["no_loss"] is True
    assert doc["throughput"]["acked"] > 0 and doc["throughput"]["refused"] == 0
    assert doc["latency"]["acked"] > 0 and doc["latency"]["p99_ms"] > 0
    assert doc["stream"]["stored"] == doc["stream"]["acked"]
    assert set(doc["targets"]) == {"frames_per_s", "p99_ack_ms"}
