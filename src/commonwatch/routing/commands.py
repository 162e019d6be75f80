"""`commonwatch network import`, run: an OSM extract becomes a routable network."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from commonwatch.domain.travel import Profile
from commonwatch.routing.importer import ImportProgress, Manifest, import_network


class _RichProgress(ImportProgress):
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.read = progress.add_task("reading ways", total=None)
        self.profiles: dict[Profile, TaskID] = {}

    def reading(self, ways_seen: int) -> None:
        self.progress.update(self.read, description=f"reading ways ({ways_seen:,} seen)")

    def building(self, profile: Profile, fraction: float) -> None:
        if profile not in self.profiles:
            self.progress.update(self.read, total=1, completed=1)
            self.profiles[profile] = self.progress.add_task(f"{profile.value} hierarchy", total=1.0)
        self.progress.update(self.profiles[profile], completed=fraction)

    def stage(self, text: str) -> None:
        self.progress.console.log(text)


def _summary(m: Manifest) -> Table:
    table = Table(title=f"network {m.name} ({m.import_seconds:.1f} s)")
    for col in ("profile", "nodes", "arcs", "one-way arcs", "snappable", "hierarchy arcs", "core"):
        table.add_column(col, justify="right")
    for name, s in m.profiles.items():
        row = (s.nodes, s.arcs, s.one_way_arcs, s.snappable_nodes, s.hierarchy_arcs, s.core_nodes)
        table.add_row(name, *(f"{v:,}" for v in row))
    return table


def cmd_import(ns: argparse.Namespace) -> int:
    from commonwatch.runtime.config import default_data_dir

    console = Console(stderr=True)
    source: Path = ns.file
    if not source.is_file():
        console.print(f"[red]no such file: {source}")
        return 2
    data_dir: Path = ns.data_dir or default_data_dir()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        manifest = import_network(source, data_dir, ns.name, _RichProgress(progress))
    console.print(_summary(manifest))
    console.print(f"saved under {data_dir / 'network'}; {manifest.attribution}")
    return 0
