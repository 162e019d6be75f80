"""`commonwatch bench ingest|console|dispatch|sia`: the parsers; each bench is imported to run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from commonwatch.runtime.lazy import lazy

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

OSM_DIR = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "osm"


def register(bench_sub: SubParsers) -> None:
    from commonwatch.ingest.sia.cli import add_bench as add_sia

    _ingest(bench_sub)
    _console(bench_sub)
    add_sia(bench_sub)
    _dispatch(bench_sub)


def _ingest(bench_sub: SubParsers) -> None:
    p = bench_sub.add_parser("ingest", help="MQTT -> JetStream -> incidents, end to end")
    p.add_argument("--data-dir", type=Path, help="where the bench's servers keep data")
    p.add_argument("--rules", type=Path, help="correlation rules file (TOML)")
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--json", type=Path, default=Path("bench-ingest.json"))
    p.add_argument("--quick", action="store_true", help="small run for a smoke test")
    p.set_defaults(func=lazy("commonwatch.bench.ingest:main"))


def _console(bench_sub: SubParsers) -> None:
    p = bench_sub.add_parser("console", help="the operations console in a browser, under load")
    p.add_argument("--json", type=Path, default=Path("bench-console.json"))
    p.add_argument("--incidents", type=int, default=5000)
    p.add_argument("--units", type=int, default=500)
    p.add_argument("--seconds", type=float, default=20.0, help="how long changes stream")
    p.add_argument("--moves", type=float, default=250.0, help="unit moves per second")
    p.add_argument("--events", type=float, default=10.0, help="background events per second")
    p.add_argument("--quick", action="store_true", help="a short, small run for a smoke test")
    p.set_defaults(func=lazy("commonwatch.web.bench:main"))


def _dispatch(bench_sub: SubParsers) -> None:
    p = bench_sub.add_parser("dispatch", help="road network import, travel-time latency, planner")
    p.add_argument("--json", type=Path, default=Path("bench-dispatch.json"))
    p.add_argument("--queries", type=int, default=200, help="recommendations per network")
    p.add_argument("--osm-dir", type=Path, default=OSM_DIR, help="where the .osm.pbf extracts are")
    p.add_argument("--data-dir", type=Path, help="keep imported networks here (default: temporary)")
    p.add_argument(
        "--quick", action="store_true", help="20,000-node grid, 30 queries: a smoke test"
    )
    p.set_defaults(func=lazy("commonwatch.bench.dispatch:main"))
