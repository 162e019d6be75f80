"""Use case: import a CAD export file. Idempotent: a call is keyed by its format and number, so
importing a file twice (or an overlapping one) refreshes rows and never duplicates them.

Imported calls live in their own tables (cad_calls, cad_responses), not among live incidents:
they never enter the operators' queue, the outbox or the lifecycle, yet the view
incident_intervals puts them beside live incidents (source 'cad_import'), so the interval report
covers both alike.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from commonwatch.cad import sffd, store
from commonwatch.cad.sffd import CadCall, CadError, Skipped
from commonwatch.domain.units import CadFormat, DispatchRules
from commonwatch.storage.incidents import Conn

BATCH = 500
Progress = Callable[[int, int], None]  # (calls stored so far, calls in the file)


@dataclass(frozen=True, slots=True)
class ImportResult:
    file: str
    format: str
    rows: int
    calls: int
    responses: int
    skipped: int
    skip_reasons: list[str]
    calls_stored: int  # of this format in the database after the import


def read_file(path: Path, fmt: CadFormat) -> tuple[int, list[CadCall], Skipped]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        sffd.check_header(reader.fieldnames)
        rows = list(reader)
    skipped = Skipped()
    return len(rows), list(sffd.parse_calls(rows, fmt, skipped)), skipped


def format_of(rules: DispatchRules, name: str) -> CadFormat:
    # Only the SFFD layout has a parser; [cad.<name>] in the rules holds its mapping.
    if name != sffd.FORMAT or name not in rules.cad:
        raise CadError(f"unknown CAD format {name!r}; known: {sffd.FORMAT}")
    return rules.cad[name]


async def import_csv(
    conn: Conn,
    path: Path,
    *,
    fmt_name: str,
    rules: DispatchRules,
    on_progress: Progress | None = None,
) -> ImportResult:
    fmt = format_of(rules, fmt_name)
    rows, calls, skipped = await asyncio.to_thread(read_file, path, fmt)
    done = 0
    for batch in _chunks(calls, BATCH):
        async with conn.transaction():
            await store.upsert_calls(conn, batch)
        done += len(batch)
        if on_progress:
            on_progress(done, len(calls))
    stored, _ = await store.count_calls(conn, fmt_name)
    return ImportResult(
        file=str(path),
        format=fmt_name,
        rows=rows,
        calls=len(calls),
        responses=sum(len(c.responses) for c in calls),
        skipped=skipped.count,
        skip_reasons=skipped.reasons,
        calls_stored=stored,
    )


def _chunks(items: Sequence[CadCall], size: int) -> list[Sequence[CadCall]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
