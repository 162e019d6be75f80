"""A contraction laid out for sweeping: positions by level, upward arcs as CSR, the core's table.

Position 0..K-1 is the core (level 0), then level 1 (nodes whose neighbours above are all in
the core), level 2 and so on. Every arc in `out`/`into` goes from a position to a smaller one, so
one pass over the levels in order settles every node (PHAST, Delling et al. 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from commonwatch.routing.arcs import INF_MS, Arcs, Floats, Ints
from commonwatch.routing.contract import Contraction, contract, levels


@dataclass(frozen=True, slots=True)
class Upward:
    """Arcs from each position to higher positions, CSR by position; `n` is a dead-end sentinel."""

    ptr: Ints
    to: Ints
    ms: Ints
    meters: Floats


@dataclass(frozen=True, slots=True)
class Hierarchy:
    nodes: Ints  # position -> node id
    level_ptr: Ints  # first position of each level; level 0 is the core
    out: Upward  # v -> a, a above v
    into: Upward  # a -> v, a above v (stored at v)
    core_ms: Ints  # [K, K] travel time between core nodes, INF_MS if none
    core_meters: Floats  # [K, K] length of that fastest path

    @property
    def size(self) -> int:
        return len(self.nodes)


def _upward(position: Ints, owner: Ints, other: Ints, arcs: Arcs, n: int, core: int) -> Upward:
    """CSR of (owner -> other) by owner position; non-core positions without arcs get a dead end."""
    lacking = np.setdiff1d(np.arange(core, n), position[owner])
    rows = np.concatenate([position[owner], lacking])
    cols = np.concatenate([position[other], np.full(len(lacking), n)])
    ms = np.concatenate([arcs.ms, np.full(len(lacking), INF_MS)])
    meters = np.concatenate([arcs.meters, np.zeros(len(lacking))])
    order = np.lexsort((cols, rows))
    ptr = np.searchsorted(rows[order], np.arange(n + 1)).astype(np.int64)
    return Upward(ptr, cols[order], ms[order], meters[order])


def _path_meters(pred: Ints, hop: Floats) -> Floats:
    """Sum of hop lengths back to each row's root, by pointer doubling (pred < 0 at roots)."""
    rows = np.arange(pred.shape[0])[:, None]
    parent = np.where(pred < 0, np.arange(pred.shape[1])[None, :], pred)
    total = np.where(pred < 0, 0.0, hop)
    while True:
        grand = parent[rows, parent]
        if np.array_equal(grand, parent):
            return total
        total = total + total[rows, parent]
        parent = grand


def _core_table(c: Contraction, position: Ints) -> tuple[Ints, Floats]:
    k = len(c.core)
    arcs = c.core_arcs
    src, dst = position[arcs.src], position[arcs.dst]
    graph = csr_matrix((arcs.ms.astype(np.float64), (src, dst)), shape=(k, k))
    dist, pred = dijkstra(graph, return_predecessors=True)
    hop_m = np.zeros((k, k))
    hop_m[src, dst] = arcs.meters
    hop = np.where(pred >= 0, hop_m[np.maximum(pred, 0), np.arange(k)[None, :]], 0.0)
    table = np.where(np.isfinite(dist), dist, INF_MS).astype(np.int64)
    return table, _path_meters(pred.astype(np.int64), hop)


def layout(c: Contraction) -> Hierarchy:
    level = levels(c)
    nodes = np.lexsort((np.arange(c.n), level))
    position = np.empty(c.n, dtype=np.int64)
    position[nodes] = np.arange(c.n)
    k = len(c.core)
    outs = Arcs.concat(Arcs.empty(), *(r.up_out for r in c.rounds))
    ins = Arcs.concat(Arcs.empty(), *(r.up_in for r in c.rounds))
    out = _upward(position, outs.src, outs.dst, outs, c.n, k)
    into = _upward(position, ins.dst, ins.src, ins, c.n, k)
    level_ptr = np.searchsorted(level[nodes], np.arange(int(level.max(initial=0)) + 2))
    table, table_m = _core_table(c, position)
    return Hierarchy(nodes.astype(np.int64), level_ptr.astype(np.int64), out, into, table, table_m)


def core_size_for(n: int) -> int:
    """Big enough that contraction stops before the dense top, small enough for a K x K table."""
    return int(min(600, max(128, n // 300)))


def build(n: int, arcs: Arcs, progress: object = None) -> Hierarchy:
    callback = progress if callable(progress) else None
    return layout(contract(n, arcs, core_size_for(n), callback))
