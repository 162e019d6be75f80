"""One-to-all travel times over a hierarchy: search up, cross the core, sweep down (PHAST).

`to_target` answers "how long from every node to t" (many-to-one, what ranking units needs);
`from_source` answers "how long from s to every node". Both directions cost the same. Given the
positions that matter (`wanted`), the deep levels are swept only where those depend on them:
most nodes sit in the deepest levels and most of them are not wanted (RPHAST's idea).

Every position holds a key: its milliseconds shifted up by KEY_BITS and, in the bits below, the
index (within its level) of the arc the time came through, or all ones where the time is its own
(search, core, unreachable). One `minimum` thus keeps the best time and the arc that gave it, and
the meters of the fastest path are summed afterwards, only for the wanted positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonwatch.routing.arcs import INF_MS, Floats, Ints, Mask
from commonwatch.routing.hierarchy import Hierarchy, Upward

KEY_BITS = 28  # room for 268M arc indices; times up to 2 * INF_MS still fit in an int64
LOW = (1 << KEY_BITS) - 1  # the arc bits; all ones: no arc, the time is the position's own
HIGH = ~LOW
UNREACHED = (INF_MS << KEY_BITS) | LOW
RESTRICT_SHARE = 0.2  # below this share of a level's nodes, sweep only those


@dataclass(frozen=True, slots=True)
class Field:
    """Per position asked for: travel time (ms, INF_MS if unreachable) and meters (inf if so)."""

    ms: Ints
    meters: Floats


@dataclass(frozen=True, slots=True)
class _Level:
    lo: int
    hi: int
    arc_lo: int
    arc_hi: int
    starts: Ints  # each node's first arc, relative to arc_lo


@dataclass(frozen=True, slots=True)
class _Pick:
    """The nodes of one level that the wanted positions depend on, and their arcs."""

    level: _Level
    nodes: Ints
    arcs: Ints
    starts: Ints


def _levels(h: Hierarchy, arcs: Upward) -> list[_Level]:
    """Level 0 is the core (no upward arcs), then the swept levels, top first."""
    out = []
    for lo, hi in zip(h.level_ptr[:-1], h.level_ptr[1:], strict=True):
        a, b = int(arcs.ptr[lo]), int(arcs.ptr[hi])
        if b - a >= LOW:
            raise ValueError("too many arcs in one level for the packed sweep")
        out.append(_Level(int(lo), int(hi), a, b, arcs.ptr[lo:hi] - a))
    return out


def _packed(arcs: Upward, index: Ints) -> Ints:
    """Each arc's time shifted up, its `index` below."""
    return (np.minimum(arcs.ms, INF_MS) << KEY_BITS) | index


def _arcs_of(first: Ints, counts: Ints) -> Ints:
    """Every arc index of nodes whose arcs are first..first+count, in order."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1])) + np.repeat(first - ends + counts, counts)


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


class _Search:
    """Upward search from one position, level by level: a level is final once those below are.

    Arcs only climb, so pushing each reached level's arcs in turn (deepest first) settles every
    node before it pushes: a Dijkstra without a heap, in a few numpy calls per level. While it
    runs, the arc bits of a key are the global index of its search arc.
    """

    def __init__(self, h: Hierarchy, arcs: Upward) -> None:
        if len(arcs.to) >= LOW:
            raise ValueError("too many arcs for the packed search")
        self.arcs = arcs
        self.packed = _packed(arcs, np.arange(len(arcs.to)))
        self.degree = np.diff(arcs.ptr)
        self.bounds = list(zip(h.level_ptr[:-1].tolist(), h.level_ptr[1:].tolist(), strict=True))
        self.level_of = np.repeat(np.arange(len(self.bounds)), np.diff(h.level_ptr))
        self.core = int(h.level_ptr[1])

    def _push(self, key: Ints, touched: Mask, nodes: Ints) -> None:
        counts = self.degree[nodes]
        arcs = _arcs_of(self.arcs.ptr[nodes], counts)
        to = self.arcs.to[arcs]
        np.minimum.at(key, to, np.repeat(key[nodes] & HIGH, counts) + self.packed[arcs])
        touched[to] = True

    def run(self, start: int, key: Ints, meters: Floats) -> Ints:
        """Reached positions get their own key and meters; returns the core positions reached."""
        touched = np.zeros(len(key), dtype=bool)
        key[start] = LOW
        touched[start] = True
        reached = []
        for lo, hi in self.bounds[self.level_of[start] : 0 : -1]:
            nodes = np.flatnonzero(touched[lo:hi]) + lo
            if len(nodes):
                self._push(key, touched, nodes)
                reached.append(nodes)
        entry = np.flatnonzero(touched[: self.core])
        reached.append(entry)
        self._settle(np.concatenate(reached), key, meters)
        key[-1] = UNREACHED  # dead-end arcs point there
        return entry

    def _settle(self, nodes: Ints, key: Ints, meters: Floats) -> None:
        """Meters along each node's search tree path; its key becomes its own (no sweep arc)."""
        arc = key[nodes] & LOW
        tree = np.flatnonzero(arc != LOW)
        parent = np.full(len(nodes), -1, dtype=np.int64)
        parent[tree] = np.searchsorted(self.arcs.ptr, arc[tree], side="right") - 1
        hop = np.zeros(len(nodes))
        hop[tree] = self.arcs.meters[arc[tree]]
        meters[nodes] = _tree_meters(nodes, parent, hop, len(key))
        key[nodes] |= LOW


class _Core:
    """Core node c gets min over reached core nodes e of key[e] + table[e, c].

    The search reaches most of the core, mostly the long way round: an entry e is dropped when
    one of the WITNESSES best entries e' gets to it faster (key[e'] + table[e', e] < key[e]),
    since then going on through e is never faster either (the table holds shortest times). A
    dozen or so entries are left, so crossing the core is a few rows of the table, not all.
    """

    WITNESSES = 16

    def __init__(self, table: Ints, table_m: Floats) -> None:
        self.table = np.ascontiguousarray(table)  # rows are read whole
        self.meters = table_m

    def _useful(self, entry: Ints, ms: Ints) -> Ints:
        if len(entry) <= self.WITNESSES:
            return entry
        best = np.argpartition(ms, self.WITNESSES)[: self.WITNESSES]
        via: Ints = np.min(self.table[entry[best]][:, entry] + ms[best, None], axis=0)
        return entry[via >= ms]

    def cross(self, key: Ints, meters: Floats, entry: Ints) -> None:
        entry = self._useful(entry, key[entry] >> KEY_BITS)
        if len(entry) == 0:
            return
        via = self.table[entry] + (key[entry] >> KEY_BITS)[:, None]
        row = np.argmin(via, axis=0)
        k = len(self.table)
        via_key = (np.minimum(via[row, np.arange(k)], INF_MS) << KEY_BITS) | LOW
        better = np.flatnonzero(via_key < key[:k])
        e = entry[row[better]]
        key[better] = via_key[better]
        meters[better] = self.meters[e, better] + meters[e]


class _Direction:
    """Search up over `search`, sweep down over `sweep`; `table` rows are core entry nodes."""

    def __init__(self, h: Hierarchy, search: Upward, sweep: Upward, table: Ints, table_m: Floats):
        self.n = h.size
        self.sweep = sweep
        self.levels = _levels(h, sweep)
        arc_lo = sweep.ptr[h.level_ptr]
        self.arc_lo = np.repeat(arc_lo[:-1], np.diff(h.level_ptr))  # per position, its level's
        within = np.arange(len(sweep.to)) - np.repeat(arc_lo[:-1], np.diff(arc_lo))
        self.packed = _packed(sweep, within)
        self.degree = np.diff(sweep.ptr)
        self.search = _Search(h, search)
        self.core = _Core(table, table_m)

    def _best(self, key: Ints, arcs: Ints | slice, starts: Ints) -> Ints:
        """Per node, the minimum over its arcs of arc + the time above (arc bits dropped)."""
        cand = key[self.sweep.to[arcs]]
        cand &= HIGH
        cand += self.packed[arcs]
        return np.minimum.reduceat(cand, starts)

    def _sweep(self, key: Ints, whole: int, picks: list[_Pick]) -> None:
        for lv in self.levels[1:whole]:
            # slices, not index arrays: views instead of gathers over the biggest part of the work
            mine = key[lv.lo : lv.hi]
            np.minimum(mine, self._best(key, slice(lv.arc_lo, lv.arc_hi), lv.starts), out=mine)
        for pick in picks:
            key[pick.nodes] = np.minimum(key[pick.nodes], self._best(key, pick.arcs, pick.starts))

    def _needed(self, wanted: Ints) -> tuple[int, list[_Pick]]:
        """Bottom-up, the nodes that `wanted` depend on, per level, until a level needs many.

        Returns how many levels (core included) to sweep whole, and the picks below, top first.
        """
        mark = np.zeros(self.n + 1, dtype=bool)
        mark[wanted] = True
        picks: list[_Pick] = []
        for i in range(len(self.levels) - 1, 0, -1):
            lv = self.levels[i]
            nodes = np.flatnonzero(mark[lv.lo : lv.hi]) + lv.lo
            if len(nodes) > RESTRICT_SHARE * (lv.hi - lv.lo):
                return i + 1, picks[::-1]
            if len(nodes):
                counts = self.degree[nodes]
                arcs = _arcs_of(self.sweep.ptr[nodes], counts)
                picks.append(_Pick(lv, nodes, arcs, np.cumsum(counts) - counts))
                mark[self.sweep.to[arcs]] = True
        return 1, picks[::-1]

    def _meters(self, at: Ints, key: Ints, meters: Floats) -> Floats:
        """Follow the arcs the times came through up from `at`, then add their end's meters."""
        at = at.copy()
        total = np.zeros(len(at))
        going = np.arange(len(at))
        while len(going):
            tag = key[at[going]] & LOW
            going, tag = going[tag != LOW], tag[tag != LOW]
            arc = tag + self.arc_lo[at[going]]
            total[going] += self.sweep.meters[arc]
            at[going] = self.sweep.to[arc]
        return total + meters[at]

    def field(self, start: int, wanted: Ints | None = None) -> Field:
        """Travel times for every position, or (faster) for each of `wanted`, in its order."""
        key = np.full(self.n + 1, UNREACHED, dtype=np.int64)
        meters = np.empty(self.n + 1)  # written where the search or the core set a time
        self.core.cross(key, meters, self.search.run(start, key, meters))
        whole, picks = (len(self.levels), []) if wanted is None else self._needed(wanted)
        self._sweep(key, whole, picks)
        at = np.arange(self.n) if wanted is None else wanted
        ms = key[at] >> KEY_BITS
        return Field(ms, np.where(ms < INF_MS, self._meters(at, key, meters), np.inf))


class Sweeper:
    """Both directions over one hierarchy, ready to query; positions, not node ids."""

    def __init__(self, h: Hierarchy) -> None:
        self.hierarchy = h
        # to a target: core node c needs c -> e -> ... -> t, so rows are indexed by e: the transpose
        self._to = _Direction(h, h.into, h.out, h.core_ms.T, h.core_meters.T)
        self._from = _Direction(h, h.out, h.into, h.core_ms, h.core_meters)

    def to_target(self, position: int, wanted: Ints | None = None) -> Field:
        """From every position (or each of `wanted`) to `position`."""
        return self._to.field(position, wanted)

    def from_source(self, position: int, wanted: Ints | None = None) -> Field:
        """From `position` to every position (or each of `wanted`)."""
        return self._from.field(position, wanted)
