"""`commonwatch bench dispatch`: road network import, recommendation latency, post planning.

Recommendation latency is one many-to-one query (500 units to an incident, snapping included)
through NetworkTravelTimes, on the Campo Grande extract and on a synthetic 200,000-node city
grid. Wall-clock and CPU percentiles are both kept: on a shared machine the gap between them is
other processes' load, which the metadata records. Each query is also answered by a plain scipy
Dijkstra from the incident over the reversed graph: its time is the baseline, its answers the
check (`max_error_s`, hierarchy against Dijkstra over every unit of every query).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from commonwatch.domain.travel import SPEED_MPS, Point, Profile
from commonwatch.planning.problem import Instance, Method, Objective
from commonwatch.planning.solve import solve, travel_costs
from commonwatch.routing import network as store
from commonwatch.routing.arcs import fastest
from commonwatch.routing.importer import import_network
from commonwatch.routing.network import RoadNetwork
from commonwatch.routing.synthetic import grid_network
from commonwatch.routing.times import NetworkTravelTimes

EXTRACTS = ("monaco", "campo-grande")
UNITS = 500
COVER_SECONDS = 240.0  # NFPA 1710 first-engine travel time

# (key, what, unit, target, higher is better)
TARGETS = (
    ("campo_grande_p99_ms", "recommendation p99, Campo Grande (500 units)", "ms", 20.0, False),
    ("grid_200k_p99_ms", "recommendation p99, 200,000-node grid (500 units)", "ms", 20.0, False),
    ("planner_exact_gap", "planner gap, exact p-median", "ratio", 1e-4, False),
    ("planner_heuristic_gap", "planner gap, heuristic p-median (vs bound)", "ratio", 0.05, False),
)


@dataclass(frozen=True, slots=True)
class Latency:
    queries: int
    units: int
    wall_p50_ms: float
    wall_p95_ms: float
    wall_p99_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    cpu_p99_ms: float


@dataclass(frozen=True, slots=True)
class Recommendation:
    hierarchy: Latency  # NetworkTravelTimes.many_to_one, snapping and estimates included
    dijkstra: Latency  # the same queries, one scipy Dijkstra each (the search alone)
    speedup_p50_cpu: float
    max_error_s: float


@dataclass(frozen=True, slots=True)
class PlanRun:
    objective: str
    method: str
    demand_points: int
    candidates: int
    k: int
    costs_seconds: float
    solve_seconds: float
    value: float
    gap: float


def _percentiles(wall: list[float], cpu: list[float]) -> dict[str, float]:
    w = np.percentile(np.array(wall) * 1000, [50, 95, 99])
    c = np.percentile(np.array(cpu) * 1000, [50, 95, 99])
    return {
        "wall_p50_ms": round(float(w[0]), 3),
        "wall_p95_ms": round(float(w[1]), 3),
        "wall_p99_ms": round(float(w[2]), 3),
        "cpu_p50_ms": round(float(c[0]), 3),
        "cpu_p95_ms": round(float(c[1]), 3),
        "cpu_p99_ms": round(float(c[2]), 3),
    }


class _Timer:
    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    @contextmanager
    def measure(self) -> Iterator[None]:
        w0, c0 = time.perf_counter(), time.process_time()
        yield
        self.wall.append(time.perf_counter() - w0)
        self.cpu.append(time.process_time() - c0)

    def latency(self) -> Latency:
        return Latency(len(self.wall), UNITS, **_percentiles(self.wall, self.cpu))


class _Dijkstra:
    """Plain Dijkstra from the incident over the reversed driving graph: baseline and answer key."""

    def __init__(self, times: NetworkTravelTimes) -> None:
        g = times.network.profiles[Profile.DRIVING]
        n = len(g.nodes)
        best = fastest(g.arcs, n)
        self.reverse = csr_matrix((best.ms.astype(np.float64), (best.dst, best.src)), shape=(n, n))
        self.local = np.full(len(times.network.lat), -1, dtype=np.int64)
        self.local[g.nodes] = np.arange(n)
        self.times = times

    def snap(self, point: Point) -> tuple[int, float]:
        """Local node and snap meters, as NetworkTravelTimes snaps."""
        snap = self.times.snap(point, Profile.DRIVING)
        assert snap is not None  # the network has a driving profile
        return int(self.local[snap.node]), snap.meters

    def search(self, node: int) -> np.ndarray:
        """Milliseconds from every node to `node` (inf if unreachable)."""
        return np.asarray(dijkstra(self.reverse, indices=node))

    def error(self, ms: np.ndarray, units: list[Point], target_m: float, got: np.ndarray) -> float:
        """Largest |seconds - Dijkstra's| over the units, same snapping; inf on a mismatch."""
        worst = 0.0
        for point, seconds in zip(units, got.tolist(), strict=True):
            node, meters = self.snap(point)
            want = ms[node] / 1000 + (meters + target_m) / SPEED_MPS[Profile.DRIVING]
            same = seconds == want  # both inf when unreachable
            worst = max(worst, 0.0 if same else abs(seconds - want))
        return worst


def _random_points(net: RoadNetwork, count: int, rng: np.random.Generator) -> list[Point]:
    """Near random snappable driving nodes, jittered by up to ~30 m like a GPS fix."""
    g = net.profiles[Profile.DRIVING]
    nodes = g.nodes[rng.choice(g.snappable, count)]
    jitter = rng.uniform(-0.0003, 0.0003, (count, 2))
    return [
        Point(float(net.lat[n] + a), float(net.lon[n] + b))
        for n, (a, b) in zip(nodes, jitter, strict=True)
    ]


def _queries(net: RoadNetwork, count: int, seed: int) -> Iterator[list[Point]]:
    """Units then incident, per query; the same ones for the same seed."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield _random_points(net, UNITS + 1, rng)


def latency(
    times: NetworkTravelTimes, queries: int, seed: int, tick: Callable[[], None]
) -> Recommendation:
    """The queries back to back, as a dispatcher would; then Dijkstra on the same queries.

    Two passes, so neither query evicts the other's data from the caches in between; nothing
    of a query outlives it (only its seconds), so the garbage collector has no more to walk
    than in a running dispatcher.
    """
    ours, answers = _Timer(), []
    for points in _queries(times.network, queries, seed):
        with ours.measure():
            got = times.many_to_one(points[:UNITS], points[UNITS], Profile.DRIVING)
        answers.append(np.array([e.seconds for e in got]))
        tick()
    baseline, reference, error = _Timer(), _Dijkstra(times), 0.0
    for points, seconds in zip(_queries(times.network, queries, seed), answers, strict=True):
        node, target_m = reference.snap(points[UNITS])
        with baseline.measure():
            ms = reference.search(node)
        error = max(error, reference.error(ms, points[:UNITS], target_m, seconds))
        tick()
    mine, theirs = ours.latency(), baseline.latency()
    speedup = round(theirs.cpu_p50_ms / mine.cpu_p50_ms, 2)
    return Recommendation(mine, theirs, speedup, error)


def _plan(
    times: NetworkTravelTimes, demand: int, cand: int, objective: Objective, seed: int
) -> PlanRun:
    rng = np.random.default_rng(seed)
    d, c = _random_points(times.network, demand, rng), _random_points(times.network, cand, rng)
    started = time.perf_counter()
    costs = travel_costs(times, d, c, Profile.DRIVING)
    costs_s = time.perf_counter() - started
    radius = COVER_SECONDS if objective is Objective.COVERAGE else None
    inst = Instance(costs, np.ones(demand), 8, objective, radius)
    sol = solve(inst)
    return PlanRun(objective.value, sol.method.value, demand, cand, 8, round(costs_s, 3),
                   round(sol.seconds, 3), round(sol.value, 3), sol.gap)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BenchConfig:
    json_path: Path
    osm_dir: Path
    data_dir: Path | None
    queries: int
    grid_rows: int
    grid_cols: int
    heuristic_demand: int


@contextmanager
def _data_dir(cfg: BenchConfig) -> Iterator[Path]:
    if cfg.data_dir is not None:
        yield cfg.data_dir
        return
    with tempfile.TemporaryDirectory(prefix="cw-bench-dispatch-") as tmp:
        yield Path(tmp)


class _Run:
    def __init__(self, cfg: BenchConfig, progress: Progress) -> None:
        self.cfg = cfg
        self.progress = progress
        self.doc: dict[str, Any] = {}

    def step(self, text: str, total: int | None = 1) -> Callable[[], None]:
        task = self.progress.add_task(text, total=total)
        return lambda: self.progress.advance(task)

    def imports(self, data_dir: Path) -> NetworkTravelTimes:
        out = {}
        for name in EXTRACTS:
            done = self.step(f"import {name}")
            started = time.perf_counter()
            m = import_network(self.cfg.osm_dir / f"{name}.osm.pbf", data_dir)
            out[name] = {"seconds": round(time.perf_counter() - started, 3), "nodes": m.nodes,
                         "profiles": {p: asdict(s) for p, s in m.profiles.items()}}  # fmt: skip
            done()
        self.doc["osm_import"] = out
        return NetworkTravelTimes(store.load(data_dir / "network" / "campo-grande.npz"))

    def grid(self) -> NetworkTravelTimes:
        rows, cols = self.cfg.grid_rows, self.cfg.grid_cols
        task = self.progress.add_task(f"grid {rows}x{cols}: hierarchy", total=1.0)
        started = time.perf_counter()
        net = grid_network(rows, cols, progress=lambda f: self.progress.update(task, completed=f))
        self.progress.update(task, completed=1.0)
        h = net.profiles[Profile.DRIVING].hierarchy
        self.doc["grid"] = {
            "nodes": rows * cols,
            "build_seconds": round(time.perf_counter() - started, 3),
            "hierarchy_arcs": int(len(h.out.to) + len(h.into.to)),
            "core_nodes": len(h.core_ms),
            "levels": len(h.level_ptr) - 1,
        }
        return NetworkTravelTimes(net)

    def latencies(self, key: str, times: NetworkTravelTimes, seed: int) -> None:
        tick = self.step(f"latency {key}, then Dijkstra", 2 * self.cfg.queries)
        self.doc.setdefault("recommendation", {})[key] = asdict(
            latency(times, self.cfg.queries, seed, tick)
        )

    def planning(self, times: NetworkTravelTimes) -> None:
        runs = []
        plans = ((250, 150, Objective.MEDIAN), (250, 150, Objective.COVERAGE),
                 (self.cfg.heuristic_demand, 300, Objective.MEDIAN))  # fmt: skip
        tick = self.step("planner", len(plans))
        for i, (demand, cand, objective) in enumerate(plans):
            runs.append(asdict(_plan(times, demand, cand, objective, seed=100 + i)))
            tick()
        self.doc["planner"] = runs


def measured(doc: dict[str, Any]) -> dict[str, float]:
    rec = doc["recommendation"]
    exact = [
        r
        for r in doc["planner"]
        if r["method"] == Method.EXACT.value and r["objective"] == "median"
    ]
    heur = [r for r in doc["planner"] if r["method"] == Method.HEURISTIC.value]
    return {
        "campo_grande_p99_ms": rec["campo_grande"]["hierarchy"]["wall_p99_ms"],
        "grid_200k_p99_ms": rec["grid"]["hierarchy"]["wall_p99_ms"],
        "planner_exact_gap": exact[0]["gap"] if exact else float("nan"),
        "planner_heuristic_gap": heur[0]["gap"] if heur else float("nan"),
    }


def targets(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values = measured(doc)
    out = {}
    for key, what, unit, target, higher in TARGETS:
        v = values[key]
        ok = bool(v >= target if higher else v <= target)
        out[key] = {"what": what, "unit": unit, "target": target, "measured": v, "pass": ok}
    return out


def _metadata(cfg: BenchConfig) -> dict[str, Any]:
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "grid": f"{cfg.grid_rows}x{cfg.grid_cols}",
        "queries": cfg.queries,
        "attribution": "OSM extracts © OpenStreetMap contributors, ODbL 1.0",
    }


def run(cfg: BenchConfig, console: Console) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with _data_dir(cfg) as data_dir, Progress(*columns, console=console) as progress:
        r = _Run(cfg, progress)
        r.doc["metadata"] = _metadata(cfg)
        campo = r.imports(data_dir)
        r.latencies("campo_grande", campo, seed=1)
        r.latencies("grid", r.grid(), seed=2)
        r.planning(campo)
    r.doc["metadata"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    r.doc["targets"] = targets(r.doc)
    r.doc["pass"] = all(t["pass"] for t in r.doc["targets"].values())
    return r.doc


def _table(doc: dict[str, Any]) -> Table:
    table = Table(title="bench dispatch")
    for col in ("measure", "target", "measured", "pass"):
        table.add_column(col)
    for t in doc["targets"].values():
        mark = "[green]yes" if t["pass"] else "[red]no"
        table.add_row(
            t["what"], f"{t['target']:g} {t['unit']}", f"{t['measured']:.4g} {t['unit']}", mark
        )
    return table


def _latency_table(doc: dict[str, Any]) -> Table:
    table = Table(title="recommendation latency, ms (500 units; Dijkstra: the search alone)")
    for col in ("network", "query", "wall p50/p95/p99", "cpu p50/p95/p99"):
        table.add_column(col)
    for network, rec in doc["recommendation"].items():
        for query in ("hierarchy", "dijkstra"):
            r = rec[query]
            wall = f"{r['wall_p50_ms']:.1f} / {r['wall_p95_ms']:.1f} / {r['wall_p99_ms']:.1f}"
            cpu = f"{r['cpu_p50_ms']:.1f} / {r['cpu_p95_ms']:.1f} / {r['cpu_p99_ms']:.1f}"
            table.add_row(network, query, wall, cpu)
        table.add_row(network, "cpu speed-up, max error", f"x{rec['speedup_p50_cpu']}",
                      f"{rec['max_error_s']:.3g} s")  # fmt: skip
    return table


def main(ns: argparse.Namespace) -> int:
    console = Console(stderr=True)
    rows, cols = (100, 200) if ns.quick else (400, 500)
    cfg = BenchConfig(ns.json, ns.osm_dir, ns.data_dir, 30 if ns.quick else ns.queries, rows, cols,
                      400 if ns.quick else 1000)  # fmt: skip
    doc = run(cfg, console)
    cfg.json_path.write_text(json.dumps(doc, indent=2) + "\n")
    console.print(_latency_table(doc))
    console.print(_table(doc))
    console.print(f"wrote {cfg.json_path}")
    return 0
