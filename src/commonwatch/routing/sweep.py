"""One-to-all travel times over a hierarchy: search up, cross the core, sweep down (PHAST).

`to_target` answers "how long from every node to t" (many-to-one, what ranking units needs);
`from_source` answers "how long from s to every node". Both directions cost the same. Given the
positions that matter (`wanted`), the deep levels are swept only where those depend on them:
most nodes sit in the deepest levels and most of them are not wanted (RPHAST's idea).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from commonwatch.routing.arcs import INF_MS, Floats, Ints, expand
from commonwatch.routing.hierarchy import SWEEP_INDEX_BITS, Hierarchy, Upward

LOW_MASK = (1 << SWEEP_INDEX_BITS) - 1
RESTRICT_SHARE = 0.2  # below this share of a level's nodes, sweep only those


@dataclass(frozen=True, slots=True)
class Field:
    """Travel time (ms, INF_MS if unreachable) and meters per position."""

    ms: Ints
    meters: Floats


@dataclass(frozen=True, slots=True)
class _Level:
    lo: int
    hi: int
    arc_lo: int
    arc_hi: int
    starts: Ints


def _levels(h: Hierarchy, arcs: Upward) -> list[_Level]:
    out = []
    for lo, hi in zip(h.level_ptr[1:-1], h.level_ptr[2:], strict=True):
        a, b = int(arcs.ptr[lo]), int(arcs.ptr[hi])
        if b - a > LOW_MASK:
            raise ValueError("too many arcs in one level for the packed sweep")
        out.append(_Level(int(lo), int(hi), a, b, arcs.ptr[lo:hi] - a))
    return out


def _packed(levels: list[_Level], arcs: Upward) -> Ints:
    """Arc time shifted up, arc index within its level below: one min gives value and argmin."""
    local = np.zeros(len(arcs.to), dtype=np.int64)
    for lv in levels:
        local[lv.arc_lo : lv.arc_hi] = np.arange(lv.arc_hi - lv.arc_lo)
    return (np.minimum(arcs.ms, INF_MS) << SWEEP_INDEX_BITS) | local


def _search_graph(search: Upward, n: int) -> tuple[csr_matrix, Ints, Floats]:
    """The upward arcs as a scipy graph, and their (row * n + col) keys with meters for lookups."""
    real = search.to < n
    rows = np.repeat(np.arange(n), np.diff(search.ptr))[real]
    cols = search.to[real]
    graph = csr_matrix((search.ms[real].astype(np.float64), (rows, cols)), shape=(n, n))
    return graph, rows * n + cols, search.meters[real]


def _tree_meters(nodes: Ints, parent: Ints, hop: Floats, n: int) -> Floats:
    """Meters from the search root to each reached node, by pointer doubling over the tree."""
    local = np.empty(n, dtype=np.int64)  # only read at reached nodes
    local[nodes] = np.arange(len(nodes))
    up = np.where(parent >= 0, local[np.maximum(parent, 0)], np.arange(len(nodes)))
    total = hop
    while True:
        grand = up[up]
        if np.array_equal(grand, up):
            return total
        total = total + total[up]
        up = grand


@dataclass(frozen=True, slots=True)
class _Sweep:
    field: Field
    parent: Ints  # the arc a swept node took its time through, -1 if none (search, core)


class _Direction:
    """Search up over `search`, sweep down over `sweep`; `table` rows are core entry nodes."""

    def __init__(self, h: Hierarchy, search: Upward, sweep: Upward, table: Ints, table_m: Floats):
        self.n = h.size
        self.level_ptr = h.level_ptr
        self.graph, self.keys, self.key_meters = _search_graph(search, self.n)
        self.sweep = sweep
        self.levels = _levels(h, sweep)
        self.packed_ms = _packed(self.levels, sweep)
        self.entering = np.ascontiguousarray(table)
        self.entering_m = np.ascontiguousarray(table_m)

    def _search(self, start: int, field: Field) -> Ints:
        """Upward search (C Dijkstra over upward arcs only: a small search space)."""
        dist, pred = dijkstra(self.graph, indices=start, return_predecessors=True)
        reached = np.flatnonzero(pred >= 0)
        parent = pred[reached].astype(np.int64)
        keys = parent * self.n + reached
        order = np.argsort(keys)  # sorted needles: searchsorted walks the big array in order
        hop = np.empty(len(keys))
        hop[order] = self.key_meters[np.searchsorted(self.keys, keys[order])]
        reached = np.append(reached, start)
        parent = np.append(parent, -1)
        field.ms[reached] = dist[reached].astype(np.int64)
        field.meters[reached] = _tree_meters(reached, parent, np.append(hop, 0.0), self.n)
        return reached[reached < len(self.entering)]

    def _core(self, field: Field, entry: Ints) -> None:
        """Core node c gets min over reached core nodes e of ms[e] + table[e -> c]."""
        k = len(self.entering)
        if k == 0 or len(entry) == 0:
            return
        ms, meters = field.ms, field.meters
        cand = self.entering[entry] + ms[entry][:, None]
        best = np.argmin(cand, axis=0)
        cols = np.arange(k)
        via = cand[best, cols]
        better = via < ms[:k]
        ms[:k] = np.where(better, np.minimum(via, INF_MS), ms[:k])
        via_m = self.entering_m[entry[best], cols] + meters[entry[best]]
        meters[:k] = np.where(better, via_m, meters[:k])

    def _settle(
        self, lv: _Level, nodes: Ints | slice, arcs: Ints | slice, starts: Ints, sweep: _Sweep
    ) -> None:
        """Each node takes the best of its own value and (arc + value above) over its arcs."""
        ms = sweep.field.ms
        packed = (ms[self.sweep.to[arcs]] << SWEEP_INDEX_BITS) + self.packed_ms[arcs]
        best = np.minimum.reduceat(packed, starts)
        via = best >> SWEEP_INDEX_BITS
        mine = ms[nodes]
        better = via < mine
        ms[nodes] = np.where(better, via, mine)
        sweep.parent[nodes] = np.where(better, (best & LOW_MASK) + lv.arc_lo, -1)

    def _needed(self, wanted: Ints) -> tuple[int, dict[int, tuple[Ints, Ints, Ints]]]:
        """Bottom-up, the nodes that `wanted` depend on, per level, until a level needs many.

        Returns how many top levels to sweep whole, and the picks for the levels below.
        """
        mark = np.zeros(self.n + 1, dtype=bool)
        mark[wanted] = True
        picks: dict[int, tuple[Ints, Ints, Ints]] = {}
        for i in range(len(self.levels) - 1, -1, -1):
            lv = self.levels[i]
            nodes = np.flatnonzero(mark[lv.lo : lv.hi]) + lv.lo
            if len(nodes) > RESTRICT_SHARE * (lv.hi - lv.lo):
                return i + 1, picks
            _, arcs = expand(self.sweep.ptr, nodes)
            counts = self.sweep.ptr[nodes + 1] - self.sweep.ptr[nodes]
            picks[i] = (nodes, arcs, np.cumsum(counts) - counts)
            mark[self.sweep.to[arcs]] = True
        return 0, picks

    def _sweep(self, sweep: _Sweep, wanted: Ints | None) -> None:
        whole, picks = (len(self.levels), {}) if wanted is None else self._needed(wanted)
        for lv in self.levels[:whole]:
            # slices, not index arrays: views instead of gathers over the biggest part of the work
            self._settle(lv, slice(lv.lo, lv.hi), slice(lv.arc_lo, lv.arc_hi), lv.starts, sweep)
        for i, (nodes, arcs, starts) in sorted(picks.items()):
            if len(nodes):
                self._settle(self.levels[i], nodes, arcs, starts, sweep)

    def _all_meters(self, sweep: _Sweep) -> None:
        meters, parent, s = sweep.field.meters, sweep.parent, self.sweep
        for lv in self.levels:
            arc = parent[lv.lo : lv.hi]
            via = meters[s.to[arc]] + s.meters[arc]
            meters[lv.lo : lv.hi] = np.where(arc >= 0, via, meters[lv.lo : lv.hi])

    def _wanted_meters(self, sweep: _Sweep, wanted: Ints) -> None:
        """Follow the chosen arcs up from each wanted node, adding their lengths."""
        meters, parent, s = sweep.field.meters, sweep.parent, self.sweep
        at = wanted.copy()
        total = np.zeros(len(wanted))
        arc = parent[at]
        while (arc >= 0).any():
            going = arc >= 0
            total[going] += s.meters[arc[going]]
            at[going] = s.to[arc[going]]
            arc = parent[at]
        meters[wanted] = total + meters[at]

    def field(self, start: int, wanted: Ints | None = None) -> Field:
        """Travel times for every position, or (faster) for at least the `wanted` ones."""
        k = len(self.entering)
        # only ms must start filled; meters and parents are written before any read that matters
        field = Field(np.full(self.n + 1, INF_MS, dtype=np.int64), np.empty(self.n + 1))
        field.meters[:k] = 0.0
        self._core(field, self._search(start, field))
        parent = np.empty(self.n + 1, dtype=np.int64)
        parent[:k] = parent[self.n] = -1
        sweep = _Sweep(field, parent)
        self._sweep(sweep, wanted)
        if wanted is None:
            self._all_meters(sweep)
        else:
            self._wanted_meters(sweep, wanted)
        return Field(field.ms[:-1], field.meters[:-1])


class Sweeper:
    """Both directions over one hierarchy, ready to query; positions, not node ids."""

    def __init__(self, h: Hierarchy) -> None:
        self.hierarchy = h
        # to a target: core node c needs c -> e -> ... -> t, so rows are indexed by e: the transpose
        self._to = _Direction(h, h.into, h.out, h.core_ms.T, h.core_meters.T)
        self._from = _Direction(h, h.out, h.into, h.core_ms, h.core_meters)

    def to_target(self, position: int, wanted: Ints | None = None) -> Field:
        return self._to.field(position, wanted)

    def from_source(self, position: int, wanted: Ints | None = None) -> Field:
        return self._from.field(position, wanted)
