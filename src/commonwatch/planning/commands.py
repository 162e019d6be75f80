"""`commonwatch plan posts`, run: choose k post sites, exactly where possible, with the gap."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
from rich.console import Console

from commonwatch.domain.travel import Profile
from commonwatch.planning.graphs import read_edges_csv, read_orlib, read_points_csv
from commonwatch.planning.problem import Instance, Matrix, Method, Objective, Solution
from commonwatch.planning.solve import solve, travel_costs


def _from_graph(ns: argparse.Namespace) -> tuple[Matrix, np.ndarray, list[str], int | None]:
    if ns.orlib:
        inst = read_orlib(ns.orlib)
        return inst.graph.distances(), np.ones(len(inst.graph.labels)), inst.graph.labels, inst.p
    graph = read_edges_csv(ns.edges)
    return graph.distances(), np.ones(len(graph.labels)), graph.labels, None


def _from_points(ns: argparse.Namespace) -> tuple[Matrix, np.ndarray, list[str]]:
    from commonwatch.routing.times import load_travel_times

    demand, weights, _ = read_points_csv(ns.demand)
    candidates, _, names = read_points_csv(ns.candidates) if ns.candidates else (demand, None, _)
    times = load_travel_times(ns.data_dir)
    return travel_costs(times, demand, candidates, Profile(ns.profile)), weights, names


def _instance(ns: argparse.Namespace) -> tuple[Instance, list[str]]:
    if ns.edges or ns.orlib:
        costs, weights, labels, p = _from_graph(ns)
    else:
        (costs, weights, labels), p = _from_points(ns), None
    k = ns.k or p
    if k is None:
        raise SystemExit("--k is required (OR-Library files carry their own p)")
    objective = Objective(ns.objective)
    return Instance(costs, weights, k, objective, ns.radius), labels


def _document(sol: Solution, inst: Instance, labels: list[str]) -> dict[str, Any]:
    return {
        "objective": sol.objective.value,
        "objective_value": sol.value,
        "bound": sol.bound,
        "gap": sol.gap,
        "sites": [labels[j] for j in sol.sites],
        "site_indices": sol.sites,
        "method": sol.method.value,
        "seconds": round(sol.seconds, 4),
        "k": inst.k,
        "demand_points": int(inst.costs.shape[0]),
        "candidates": int(inst.costs.shape[1]),
        "radius": inst.radius,
        "total_weight": float(inst.weights.sum()),
    }


def cmd_posts(ns: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if not (ns.edges or ns.orlib or ns.demand):
        console.print("[red]give --edges, --orlib, or --demand (with --candidates)")
        return 2
    inst, labels = _instance(ns)
    with console.status(f"solving {inst.objective.value}, k={inst.k}, {inst.costs.shape} ..."):
        sol = solve(inst, Method(ns.method) if ns.method != "auto" else None, ns.time_limit)
    doc = _document(sol, inst, labels)
    text = json.dumps(doc, indent=2)
    if ns.json:
        ns.json.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    console.print(
        f"{sol.method.value}: value {sol.value:,.3f}, gap {sol.gap:.4%}, {sol.seconds:.2f} s"
    )
    return 0
