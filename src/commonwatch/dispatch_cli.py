"""Commands of dispatch: `import cad-csv`, `report intervals` and `replay`.

Each works on the same data whether or not `commonwatch up` is running (runtime.tools.servers
connects to the running platform or starts embedded servers on --data-dir).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import asyncpg
import msgspec
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from commonwatch.domain.intervals import IntervalReport, IntervalStats
from commonwatch.domain.units import DispatchRules
from commonwatch.runtime import config
from commonwatch.runtime.config import Settings

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

out = Console()
err = Console(stderr=True)


def register(sub: SubParsers) -> None:
    """Adds `import cad-csv`, `report intervals` and `replay` (sharing `import` and `report`
    with other modules when they registered those first)."""
    cad = _group(sub, "import", "load data from other systems").add_parser(
        "cad-csv", help="historical dispatch records from a CAD export (CSV)"
    )
    cad.add_argument("file", type=Path, help="the CSV file, e.g. an SFFD calls-for-service export")
    cad.add_argument("--format", default="sffd", choices=["sffd"], help="the export's layout")
    _common(cad)
    cad.set_defaults(func=cmd_import_cad)

    intervals = _group(sub, "report", "reports").add_parser(
        "intervals", help="response intervals: percentiles against targets"
    )
    intervals.add_argument("--jurisdiction", default="", help="a subtree, e.g. sf.battalion_b02")
    intervals.add_argument("--since", type=_when, help="received at or after (ISO date/time)")
    intervals.add_argument("--until", type=_when, help="received before (ISO date/time)")
    intervals.add_argument("--json", type=Path, dest="json_out", help="also write JSON here")
    _common(intervals)
    intervals.set_defaults(func=cmd_report_intervals)

    replay = sub.add_parser("replay", help="imported calls through the recommendation engine")
    replay.add_argument("--format", default="sffd", choices=["sffd"])
    replay.add_argument("--limit", type=int, default=None, help="replay only the first N calls")
    replay.add_argument("--json", type=Path, dest="json_out", help="write every call as JSON")
    _common(replay)
    replay.set_defaults(func=cmd_replay)


def _group(sub: SubParsers, name: str, help_text: str) -> SubParsers:
    """The nested subcommands of `name`, created unless another module made them already."""
    parser = sub.choices.get(name) or sub.add_parser(name, help=help_text)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return cast("SubParsers", action)
    return parser.add_subparsers(dest=f"{name}_command", required=True)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where embedded servers keep data")
    p.add_argument("--dispatch-rules", type=Path, help="dispatch rules file (TOML)")


def _when(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _rules(ns: argparse.Namespace, settings: Settings) -> DispatchRules:
    from commonwatch.handlers.dispatch import load_dispatch_rules
    from commonwatch.runtime.rules import load_rules

    incident_types = list(load_rules(settings.rules_path).incident_types)
    return load_dispatch_rules(ns.dispatch_rules, incident_types=incident_types)


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    from commonwatch.runtime.tools import servers
    from commonwatch.storage import db

    async with servers(settings) as live:
        assert live.database_url
        await db.migrate(live.database_url)
        conn = await db.connect(live.database_url)
        try:
            yield conn
        finally:
            await conn.close()


# --- import cad-csv ---------------------------------------------------------------------------


def cmd_import_cad(ns: argparse.Namespace) -> int:
    if not ns.file.is_file():
        err.print(f"no such file: {ns.file}")
        return 2
    return asyncio.run(import_cad(config.from_env(ns.data_dir), ns))


async def import_cad(settings: Settings, ns: argparse.Namespace) -> int:
    from commonwatch.cad.importer import import_csv

    rules = _rules(ns, settings)
    async with _database(settings) as conn:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(f"importing {ns.file.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = await import_csv(
                conn, ns.file, fmt_name=ns.format, rules=rules, on_progress=advance
            )
    out.print(
        f"imported {result.calls} calls ({result.responses} unit responses, {result.rows} rows) "
        f"from {result.file}; skipped {result.skipped}; {result.format} calls stored: "
        f"{result.calls_stored}"
    )
    for reason in result.skip_reasons:
        err.print(f"  skipped: {reason}")
    return 0


# --- report intervals -------------------------------------------------------------------------


def cmd_report_intervals(ns: argparse.Namespace) -> int:
    return asyncio.run(report_intervals(config.from_env(ns.data_dir), ns))


async def report_intervals(settings: Settings, ns: argparse.Namespace) -> int:
    from commonwatch.handlers.dispatch import interval_report

    rules = _rules(ns, settings)
    async with _database(settings) as conn:
        report = await interval_report(
            conn,
            scope="",
            rules=rules,
            jurisdiction=ns.jurisdiction,
            since=ns.since,
            until=ns.until,
        )
    if ns.json_out:
        ns.json_out.write_bytes(msgspec.json.format(msgspec.json.encode(report)) + b"\n")
    out.print(interval_table(report))
    for s in report.intervals:
        by_type = ", ".join(f"{t} {v:g} s" for t, v in s.by_type.items())
        out.print(f"  {s.interval}: {s.standard}" + (f" (* by type: {by_type})" if by_type else ""))
    return 0


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _verdict(stats: IntervalStats) -> str:
    return {None: "-", True: "[green]pass[/]", False: "[red]fail[/]"}[stats.passed]


def interval_table(report: IntervalReport) -> Table:
    sources = ", ".join(f"{n} {s}" for s, n in report.sources.items()) or "none"
    title = (
        f"Response intervals in {report.jurisdiction or 'all jurisdictions'}: "
        f"{report.incidents} incidents ({sources})"
    )
    table = Table(
        "interval",
        "n",
        "p50",
        "p90",
        "p95",
        "target",
        "within",
        "verdict",
        title=title,
        caption=f"percentiles: {report.percentile_method}",
    )

    for s in report.intervals:
        target = f"{s.fraction:.0%} in {s.target_s:g} s" + (" *" if s.by_type else "")
        within = "-" if s.within_share is None else f"{s.within_share:.1%}"
        table.add_row(
            s.interval, str(s.count), _s(s.p50), _s(s.p90), _s(s.p95), target, within, _verdict(s)
        )
    return table


# --- replay -----------------------------------------------------------------------------------


def cmd_replay(ns: argparse.Namespace) -> int:
    return asyncio.run(replay_calls(config.from_env(ns.data_dir), ns))


async def replay_calls(settings: Settings, ns: argparse.Namespace) -> int:
    from commonwatch.cad import store
    from commonwatch.cad.replay import replay
    from commonwatch.handlers.dispatch import load_travel_times

    rules = _rules(ns, settings)
    async with _database(settings) as conn:
        calls = await store.load_calls(conn, ns.format)
    if not calls:
        err.print(f"no imported {ns.format} calls: run `commonwatch import cad-csv FILE` first")
        return 1
    travel = load_travel_times(settings.data_dir)
    with err.status(f"replaying {min(len(calls), ns.limit or len(calls))} calls"):
        report = await asyncio.to_thread(replay, calls, rules, ns.format, travel, limit=ns.limit)
    if ns.json_out:
        ns.json_out.write_bytes(msgspec.json.format(msgspec.json.encode(report)) + b"\n")
    table = Table("measure", "value", title=f"Replay of {report.calls} {report.format} calls")
    rate = "-" if report.match_rate is None else f"{report.match_rate:.1%}"
    rows = [
        ("comparable calls", str(report.comparable)),
        ("recommended = actually sent first", f"{report.matches} ({rate})"),
        ("travel times", report.travel_method),
        (
            "ETA saved by our choice, p50 / p90",
            f"{_s(report.eta_gain_p50_s)} / {_s(report.eta_gain_p90_s)}",
        ),
        ("our ETA - observed travel, p50", _s(report.eta_error_p50_s)),
        ("|our ETA - observed travel|, p50", _s(report.eta_abs_error_p50_s)),
    ]
    for row in rows:
        table.add_row(*row)
    out.print(table)
    for note in report.approximations:
        out.print(f"  approximation: {note}")
    return 0
