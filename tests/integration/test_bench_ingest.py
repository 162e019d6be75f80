"""`commonwatch bench ingest --quick`: the real pipeline on fresh servers, as a smoke test."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import psutil
import pytest

from commonwatch.bench.ingest import QUICK_EVENTS, main

pytestmark = pytest.mark.timeout(180)


def _children() -> set[str]:
    """Our child processes, but not multiprocessing's resource tracker, which lives with us."""
    found = set()
    for proc in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "resource_tracker" not in cmdline:
            found.add(f"{proc.pid} {cmdline[:80]}")
    return found


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    root = tmp_path_factory.mktemp("bench")
    out = root / "bench.json"
    before = _children()
    ns = argparse.Namespace(events=200_000, json=out, quick=True, data_dir=root / "data")
    code = main(ns)
    left = _children() - before
    assert not left, f"the bench left processes running: {left}"
    return code, json.loads(out.read_text()), root / "data"


def test_it_writes_every_section_of_the_report(quick_run: tuple[int, dict[str, Any], Path]) -> None:
    code, doc, _ = quick_run
    assert code == 0
    for key in (
        "metadata", "sustained", "backlog_drain", "latency", "raw_limits", "peak_rss_mb",
        "rss_trend", "targets", "correlation",
    ):  # fmt: skip
        assert key in doc, key
    assert doc["metadata"]["events"] == QUICK_EVENTS
    assert set(doc["targets"]) == {
        "sustained_events_per_s", "backlog_events_per_s", "latency_p99_ms", "pipeline_to_bare",
    }  # fmt: skip
    assert doc["rss_trend"]["samples"]


def test_it_measures_positive_rates(quick_run: tuple[int, dict[str, Any], Path]) -> None:
    _, doc, _ = quick_run
    raw = doc["raw_limits"]
    rates = [
        doc["sustained"]["events_per_s"],
        doc["backlog_drain"]["events_per_s"],
        raw["bare_pipeline"]["events_per_s"],
        raw["jetstream"]["publish_per_s"],
        raw["jetstream"]["consume_ack_each_per_s"],
        raw["postgres_copy"]["batch_1000_per_s"],
        raw["postgres_copy"]["batch_10000_per_s"],
        raw["ratio_pipeline_to_bare"],
        doc["peak_rss_mb"]["worker"],
    ]
    assert all(rate > 0 for rate in rates), rates
    assert 0 < doc["latency"]["to_acked"]["p50_ms"] <= doc["latency"]["to_acked"]["p99_ms"]


def test_it_commits_every_event_it_sent(quick_run: tuple[int, dict[str, Any], Path]) -> None:
    _, doc, _ = quick_run
    assert doc["no_loss"] is True
    for section in (doc["sustained"], doc["backlog_drain"], doc["raw_limits"]["bare_pipeline"]):
        assert section["committed_rows"] == section["events"] == QUICK_EVENTS
    assert doc["latency"]["committed_rows"] == doc["latency"]["events"] > 0


def test_it_runs_correlation_on_the_alarms(quick_run: tuple[int, dict[str, Any], Path]) -> None:
    _, doc, _ = quick_run
    assert doc["correlation"]["incidents"] > 0
    assert doc["correlation"]["events_in_incidents"] > doc["correlation"]["incidents"]


def test_it_removes_its_servers_data(quick_run: tuple[int, dict[str, Any], Path]) -> None:
    _, _, data_dir = quick_run
    assert list(data_dir.iterdir()) == []
