"""Contraction hierarchy, built in rounds with numpy (see routing/README.md).

Each round takes an independent set of nodes whose estimated edge difference is a local minimum,
removes them together and adds a shortcut u->x for every u->v->x that no short witness path
(a direct arc, or two hops through a node that stays) makes redundant. Contracting an independent
set at once is what lets numpy do the work: no two removed nodes touch, so their shortcuts never
depend on each other. Rounds stop when the remaining graph is small; that core keeps a full
distance table instead, because contracting a dense core costs more shortcuts than the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from commonwatch.routing.arcs import INF_MS, ArcIndex, Arcs, Ints, Mask, expand, fastest

WITNESS_CHUNK = 4_000_000  # candidate expansions per numpy batch: bounds memory on dense rounds
CANDIDATE_SHARE = 0.75
INDEPENDENT_SET_PASSES = 8
Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Round:
    nodes: Ints  # contracted together
    up_out: Arcs  # their arcs to nodes that stay (src is the contracted node)
    up_in: Arcs  # arcs from nodes that stay into them (dst is the contracted node)


@dataclass(frozen=True, slots=True)
class Contraction:
    n: int
    rounds: list[Round]
    core: Ints
    core_arcs: Arcs  # the remaining graph among core nodes, shortcuts included


def _through(index: ArcIndex, centers: Mask) -> tuple[Arcs, Ints]:
    """Every two-arc path u->v->x with v a center and u != x, as a candidate arc u->x, and v."""
    g = index.arcs
    inbound = np.flatnonzero(centers[g.dst])
    owner, out = expand(index.ptr, g.dst[inbound])
    first = inbound[owner]
    cand = Arcs(g.src[first], g.dst[out], g.ms[first] + g.ms[out], g.meters[first] + g.meters[out])
    keep = cand.src != cand.dst
    return cand.take(keep), g.dst[first][keep]


def _two_hop_witnessed(index: ArcIndex, cand: Arcs, blocked: Mask) -> Mask:
    """True where u->y->x with y not blocked is no slower than the candidate u->x."""
    witnessed = np.zeros(len(cand), dtype=bool)
    if len(cand) == 0:
        return witnessed
    counts = index.ptr[cand.src + 1] - index.ptr[cand.src]
    bounds = np.searchsorted(np.cumsum(counts), np.arange(0, counts.sum(), WITNESS_CHUNK))
    for lo, hi in zip(bounds, [*bounds[1:], len(cand)], strict=True):
        owner, arc = expand(index.ptr, cand.src[lo:hi])
        owner += lo
        y = index.arcs.dst[arc]
        # a first hop as slow as the whole candidate can't lead to a witness: skip its lookup
        ok = (index.arcs.ms[arc] < cand.ms[owner]) & (y != cand.dst[owner]) & ~blocked[y]
        owner, arc, y = owner[ok], arc[ok], y[ok]
        via = index.arcs.ms[arc] + index.ms(y, cand.dst[owner])
        witnessed[owner[via <= cand.ms[owner]]] = True
    return witnessed


def _shortcuts(index: ArcIndex, chosen: Mask) -> Arcs:
    """Paths through the chosen nodes not matched by a direct arc; two-arc witnesses come later."""
    cand, _ = _through(index, chosen)
    return cand.take(index.ms(cand.src, cand.dst) > cand.ms)


def _pruned(index: ArcIndex, changed: Mask, gone: Mask) -> ArcIndex:
    """Drop arcs that a two-arc path now matches: safe all at once since every arc takes >= 1 ms.

    Only arcs at nodes that just got shortcuts can have become redundant.
    """
    g = index.arcs
    check = np.flatnonzero(changed[g.src] | changed[g.dst])
    redundant = np.zeros(len(g), dtype=bool)
    redundant[check] = _two_hop_witnessed(index, g.take(check), gone)
    return ArcIndex(g.take(~redundant), index.n)


def _priority(index: ArcIndex, removed: Ints) -> Ints:
    """Worst-case edge difference (in x out shortcuts - arcs removed), plus spread over the map.

    Simulating each contraction would rank better but costs as much as contracting everything
    every round; witnesses and pruning remove most of the worst case anyway.
    """
    g = index.arcs
    inbound = np.bincount(g.dst, minlength=index.n)
    outbound = np.bincount(g.src, minlength=index.n)
    return inbound * outbound - inbound - outbound + removed


def _minima(index: ArcIndex, rank: Ints, undecided: Mask) -> Mask:
    g = index.arcs
    both = undecided[g.src] & undecided[g.dst]
    loser = np.where(rank[g.src] < rank[g.dst], g.dst, g.src)[both]
    beaten = np.zeros(index.n, dtype=bool)
    beaten[loser] = True
    return undecided & ~beaten


def _choose(index: ArcIndex, priority: Ints, eligible: Mask, seed: int) -> Mask:
    """An independent set, greedily by (priority, random tie-break), among the cheaper nodes."""
    tie = np.random.default_rng(seed).random(index.n)
    rank = np.empty(index.n, dtype=np.int64)
    rank[np.lexsort((tie, priority))] = np.arange(index.n)
    undecided = eligible & (priority <= np.quantile(priority[eligible], CANDIDATE_SHARE))
    chosen = np.zeros(index.n, dtype=bool)
    g = index.arcs
    for _ in range(INDEPENDENT_SET_PASSES):
        new = _minima(index, rank, undecided)
        chosen |= new
        undecided &= ~new
        undecided[g.dst[new[g.src]]] = False
        undecided[g.src[new[g.dst]]] = False
        if not undecided.any():
            break
    return chosen


@dataclass(slots=True)
class _State:
    index: ArcIndex
    active: Mask
    removed: Ints

    def step(self, seed: int) -> Round:
        g, n = self.index.arcs, self.index.n
        chosen = _choose(self.index, _priority(self.index, self.removed), self.active, seed)
        leaving, entering = chosen[g.src], chosen[g.dst]
        shortcuts = _shortcuts(self.index, chosen)
        self.removed += np.bincount(g.dst[leaving], minlength=n)
        self.removed += np.bincount(g.src[entering], minlength=n)
        self.active &= ~chosen
        changed = np.zeros(n, dtype=bool)
        changed[shortcuts.src] = changed[shortcuts.dst] = True
        rest = fastest(Arcs.concat(g.take(~(leaving | entering)), shortcuts), n)
        self.index = _pruned(ArcIndex(rest, n), changed, ~self.active)
        return Round(np.flatnonzero(chosen), g.take(leaving), g.take(entering))


def contract(
    n: int,
    arcs: Arcs,
    core_size: int,
    progress: Progress | None = None,
) -> Contraction:
    """Contract until at most `core_size` nodes remain (or no round makes progress)."""
    index = ArcIndex(fastest(arcs, n), n)
    state = _State(index, np.ones(n, dtype=bool), np.zeros(n, dtype=np.int64))
    rounds: list[Round] = []
    remaining = n
    while remaining > core_size:
        step = state.step(seed=len(rounds))
        if len(step.nodes) == 0:
            break
        rounds.append(step)
        remaining -= len(step.nodes)
        if progress is not None:
            progress(1 - remaining / max(n, 1))
    return Contraction(n, rounds, np.flatnonzero(state.active), state.index.arcs)


def levels(c: Contraction) -> Ints:
    """Sweep level per node: core 0, else one more than its highest neighbour's level."""
    level = np.zeros(c.n, dtype=np.int64)
    for step in reversed(c.rounds):
        level[step.nodes] = 1
        owner = np.concatenate([step.up_out.src, step.up_in.dst])
        above = np.concatenate([step.up_out.dst, step.up_in.src])
        np.maximum.at(level, owner, level[above] + 1)
    return level


def unreachable(ms: Ints) -> Mask:
    return ms >= INF_MS
