"""CAD history against the real servers, through the commands an operator runs: import the SFFD
week (a slice of it) and a hand-made file, report their response intervals, replay their calls.

The slice is sf-fire-calls-2016-12-31-week.csv cut to its first 95 calls (207 unit rows); both
come from DataSF's "Fire Department Calls for Service", public domain.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import numpy
import pytest

from commonwatch import dispatch_cli
from commonwatch.cad import store
from commonwatch.cad.replay import replay
from commonwatch.domain.travel import StraightLine
from commonwatch.handlers.dispatch import interval_report, load_dispatch_rules
from tests.conftest import Servers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sffd"
SLICE, HAND = FIXTURES / "sffd-slice.csv", FIXTURES / "sffd-hand.csv"
RULES = load_dispatch_rules()
Json = dict[str, Any]


@pytest.fixture(scope="module")
def cli_env(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Point the commands at the test servers, as `commonwatch up` points its children."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMMONWATCH_DATABASE_URL", servers.database_url)
        patch.setenv("COMMONWATCH_NATS_URL", servers.nats_url)
        yield ["--data-dir", str(tmp_path_factory.mktemp("cli"))]


async def cli(env: list[str], *args: str) -> int:
    parser = argparse.ArgumentParser(prog="commonwatch")
    dispatch_cli.register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args([*args, *env])
    # Its own thread: the command runs its own event loop, as it does from a shell.
    code: int = await asyncio.to_thread(ns.func, ns)
    return code


@pytest.fixture(scope="module")
async def imported(cli_env: list[str]) -> list[str]:
    for path in (SLICE, SLICE, HAND):  # the slice twice: a re-import must change nothing
        assert await cli(cli_env, "import", "cad-csv", str(path), "--format", "sffd") == 0
    return cli_env


async def test_it_imports_a_file_once_however_often_it_is_imported(
    imported: list[str], pg: asyncpg.Connection
) -> None:
    numbers = {row["Call Number"] for row in read(SLICE)}
    ids = [f"sffd:{n}" for n in numbers]
    calls = await pg.fetchval("SELECT count(*) FROM cad_calls WHERE id = ANY($1::text[])", ids)
    responses = await pg.fetchval(
        "SELECT count(*) FROM cad_responses WHERE call_id = ANY($1::text[])", ids
    )
    assert (calls, responses) == (95, 207)
    sources = await pg.fetch(
        "SELECT DISTINCT source FROM incident_intervals WHERE incident_id = ANY($1::text[])", ids
    )
    assert [r["source"] for r in sources] == ["cad_import"]


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def independent_intervals(path: Path) -> dict[str, list[float]]:
    """The five intervals straight from the CSV: per call, first unit times, never negative."""
    zone = ZoneInfo("America/Los_Angeles")

    def t(text: str) -> datetime | None:
        if not text:
            return None
        return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=zone)

    def first(rows: list[dict[str, str]], column: str) -> datetime | None:
        times = [x for x in (t(r[column]) for r in rows) if x is not None]
        return min(times) if times else None

    calls: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read(path):
        calls[row["Call Number"]].append(row)
    out: dict[str, list[float]] = defaultdict(list)
    for rows in calls.values():
        received, answered = first(rows, "Received DtTm"), first(rows, "Entry DtTm")
        sent, rolling = first(rows, "Dispatch DtTm"), first(rows, "Response DtTm")
        arrived = first(rows, "On Scene DtTm")
        spans = {
            "answering": (received, answered),
            "processing": (received, sent),
            "turnout": (sent, rolling),
            "travel": (rolling, arrived),
            "total": (received, arrived),
        }
        for name, (start, end) in spans.items():
            if start is not None and end is not None and end >= start:
                out[name].append((end - start).total_seconds())
    return out


async def test_it_reports_the_sffd_slice_as_computed_from_the_csv_timestamps(
    imported: list[str], tmp_path: Path
) -> None:
    target = tmp_path / "intervals.json"
    args = [
        "report",
        "intervals",
        "--jurisdiction",
        "sf",
        "--since",
        "2016-12-01",
        "--until",
        "2017-02-01",
        "--json",
        str(target),
    ]
    assert await cli(imported, *args) == 0
    report: Json = json.loads(target.read_text())
    assert (report["incidents"], report["sources"]) == (95, {"cad_import": 95})
    expected = independent_intervals(SLICE)
    for stats in report["intervals"]:
        values = expected[stats["interval"]]
        p50, p90, p95 = numpy.percentile(values, [50, 90, 95])
        assert stats["count"] == len(values)
        assert (stats["p50"], stats["p90"], stats["p95"]) == pytest.approx((p50, p90, p95))
    assert {c["jurisdiction"] for c in report["children"]} <= {
        f"sf.battalion_b{n:02d}" for n in range(1, 100)
    }


async def test_it_reports_the_hand_made_calls_as_computed_by_hand(
    imported: list[str], pg: asyncpg.Connection
) -> None:
    report = await interval_report(
        pg,
        scope="",
        rules=RULES,
        jurisdiction="sf.battalion_b77",
        since=datetime(2030, 1, 10, tzinfo=UTC),
        until=datetime(2030, 1, 11, tzinfo=UTC),
    )
    stats = {s.interval.value: s for s in report.intervals}
    # Answering (entry - received): 5, 8, 12, 20, 3 s -> sorted 3, 5, 8, 12, 20.
    answering = stats["answering"]
    assert (answering.count, answering.p50) == (5, 8.0)
    assert answering.p90 == pytest.approx(16.8)  # rank 3.6: 12 + 0.6 * 8
    assert answering.p95 == pytest.approx(18.4)
    assert (answering.within, answering.passed) == (3, False)  # 3 of 5 within 10 s
    # Processing: 30, 50, 70, 100, 20 s (the ambulance of call 5 was dispatched first).
    assert (stats["processing"].p50, stats["processing"].p90) == pytest.approx((50.0, 88.0))
    # Turnout: 30, 60, 80, 40 (fire: 80 s target) and 70 (medical: 60 s) -> 4 of 5 within.
    turnout = stats["turnout"]
    assert (turnout.p50, turnout.p90, turnout.within, turnout.passed) == (60.0, 76.0, 4, False)
    # Travel: 180, 240, 360 and 90 s; call 4 never arrived. Rank 2.7: 240 + 0.7 * 120.
    travel = stats["travel"]
    assert (travel.count, travel.p50) == (4, 210.0)
    assert travel.p90 == pytest.approx(324.0)
    assert travel.within_share == 0.75
    # Total: 240, 350, 510, 180 s.
    assert (stats["total"].p50, stats["total"].p95) == pytest.approx((295.0, 486.0))
    assert report.sources == {"cad_import": 5}


async def test_it_replays_imported_calls_through_the_recommendation_engine(
    imported: list[str], pg: asyncpg.Connection, tmp_path: Path
) -> None:
    target = tmp_path / "replay.json"
    assert await cli(imported, "replay", "--limit", "20", "--json", str(target)) == 0
    report: Json = json.loads(target.read_text())
    assert report["calls"] == len(report["items"]) == 20
    assert report["travel_method"] == "fallback"
    assert report["match_rate"] == pytest.approx(report["matches"] / report["comparable"], abs=1e-4)

    hand = [c for c in await store.load_calls(pg, "sffd") if c.jpath.startswith("sf.battalion_b77")]
    replayed = replay(hand, RULES, "sffd", StraightLine())
    assert (replayed.comparable, replayed.matches) == (5, 5)
