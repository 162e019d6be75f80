"""`commonwatch plan posts`: choose k post sites, exactly where possible, with the gap said."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser("plan", help="planning tools")
    plan_sub = plan.add_subparsers(dest="plan", required=True)
    p = plan_sub.add_parser("posts", help="choose k post sites (p-median or maximal covering)")
    p.add_argument(
        "--edges", type=Path, help="CSV u,v,cost (undirected): every node demand and candidate"
    )
    p.add_argument("--orlib", type=Path, help="OR-Library pmed file (n m p, then u v cost lines)")
    p.add_argument("--demand", type=Path, help="CSV lat,lon[,weight] (e.g. incident history)")
    p.add_argument(
        "--candidates", type=Path, help="CSV lat,lon[,name] (default: the demand points)"
    )
    p.add_argument("--profile", default="driving", choices=[x.value for x in Profile])
    p.add_argument("--data-dir", type=Path, help="where the imported network lives")
    p.add_argument("--k", type=int, help="how many posts")
    p.add_argument("--objective", default="median", choices=[o.value for o in Objective])
    p.add_argument("--radius", type=float, help="coverage radius, in the cost unit (seconds)")
    p.add_argument("--method", default="auto", choices=["auto", "exact", "heuristic"])
    p.add_argument("--time-limit", type=float, default=60.0, help="MIP time limit, seconds")
    p.add_argument("--json", type=Path, help="write the result here (default: stdout)")
    p.set_defaults(func=cmd_posts)
