"""Planning inputs from files: plain graphs (CSV u,v,cost), OR-Library p-median files, points."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from commonwatch.domain.travel import Point
from commonwatch.planning.problem import Matrix, Vector


@dataclass(frozen=True, slots=True)
class Graph:
    """An undirected graph; node i is called labels[i]."""

    labels: list[str]
    u: np.ndarray
    v: np.ndarray
    cost: Vector

    def distances(self) -> Matrix:
        """All-pairs shortest path costs (inf between disconnected parts)."""
        n = len(self.labels)
        graph = csr_matrix((self.cost, (self.u, self.v)), shape=(n, n))
        return np.asarray(shortest_path(graph, method="D", directed=False), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class OrLibInstance:
    graph: Graph
    p: int


def _graph(edges: dict[tuple[int, int], float], labels: list[str]) -> Graph:
    pairs = list(edges)
    u = np.array([a for a, _ in pairs], dtype=np.int64)
    v = np.array([b for _, b in pairs], dtype=np.int64)
    return Graph(labels, u, v, np.array([edges[p] for p in pairs], dtype=np.float64))


def read_edges_csv(path: Path) -> Graph:
    """Columns u,v,cost (header required; labels any strings). Undirected; repeats keep the last."""
    index: dict[str, int] = {}
    edges: dict[tuple[int, int], float] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            a = index.setdefault(row["u"].strip(), len(index))
            b = index.setdefault(row["v"].strip(), len(index))
            cost = float(row["cost"])
            if cost < 0:
                raise ValueError(f"{path}: negative cost on {row['u']}-{row['v']}")
            if a != b:
                edges[(min(a, b), max(a, b))] = cost
    return _graph(edges, list(index))


def read_orlib(path: Path) -> OrLibInstance:
    """OR-Library pmed format: "n m p", then m lines "u v cost" (1-based, undirected).

    As in Beasley's generator, a repeated edge takes its LAST cost (not the cheapest), and
    distances are shortest paths over the graph (he used Floyd-Warshall).
    """
    numbers = path.read_text().split()
    n, m, p = (int(x) for x in numbers[:3])
    edges: dict[tuple[int, int], float] = {}
    for i in range(m):
        a, b, c = numbers[3 + 3 * i : 6 + 3 * i]
        u, v = int(a) - 1, int(b) - 1
        if u != v:
            edges[(min(u, v), max(u, v))] = float(c)
    return OrLibInstance(_graph(edges, [str(i + 1) for i in range(n)]), p)


def read_points_csv(path: Path) -> tuple[list[Point], Vector, list[str]]:
    """Columns lat,lon and optional weight (default 1) and name; for demand or candidates."""
    points, weights, names = [], [], []
    with path.open(newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            points.append(Point(float(row["lat"]), float(row["lon"])))
            weights.append(float(row.get("weight") or 1.0))
            names.append(row.get("name") or str(i))
    return points, np.array(weights, dtype=np.float64), names
