"""`commonwatch plan posts`: choose k post sites, exactly where possible, with the gap said.

Only the parser lives here; the command is in `commands.py`, imported when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from commonwatch.domain.travel import Profile
from commonwatch.planning.kinds import Objective
from commonwatch.runtime.lazy import lazy


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
    p.set_defaults(func=lazy("commonwatch.planning.commands:cmd_posts"))
