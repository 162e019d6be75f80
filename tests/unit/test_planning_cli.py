"""`commonwatch plan posts` over a plain graph writes the answer as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from commonwatch.planning.cli import register


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(list(argv))
    code: int = ns.func(ns)
    return code


def test_it_writes_sites_value_gap_and_time(tmp_path: Path) -> None:
    edges = tmp_path / "city.csv"
    edges.write_text("u,v,cost\na,b,3\nb,c,4\nc,d,2\nd,a,7\na,c,6\nc,e,1\ne,f,5\nf,d,2\n")
    out = tmp_path / "out.json"
    code = run(
        "plan",
        "posts",
        "--edges",
        str(edges),
        "--k",
        "2",
        "--objective",
        "median",
        "--json",
        str(out),
    )
    doc = json.loads(out.read_text())
    assert code == 0
    assert doc["objective_value"] == 10.0
    assert sorted(doc["sites"]) == ["a", "c"]
    assert doc["gap"] == 0.0
    assert doc["method"] == "exact"
    assert doc["seconds"] >= 0


def test_it_covers_within_a_radius(tmp_path: Path) -> None:
    edges = tmp_path / "city.csv"
    edges.write_text("u,v,cost\na,b,3\nb,c,4\nc,d,2\nd,a,7\na,c,6\nc,e,1\ne,f,5\nf,d,2\n")
    out = tmp_path / "out.json"
    run("plan", "posts", "--edges", str(edges), "--k", "1", "--objective", "coverage",
        "--radius", "4", "--json", str(out))  # fmt: skip
    doc = json.loads(out.read_text())
    assert doc["objective_value"] == 5.0
    assert doc["sites"] == ["c"]
