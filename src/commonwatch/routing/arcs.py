"""Directed weighted arcs as parallel numpy arrays: the currency of building and contraction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]

# Travel times are whole milliseconds: shortcut sums stay exact and fit the packed sweep keys.
INF_MS = (1 << 31) - 1  # fits int32 on disk


@dataclass(frozen=True, slots=True)
class Arcs:
    src: Ints
    dst: Ints
    ms: Ints
    meters: Floats

    @staticmethod
    def of(src: object, dst: object, ms: object, meters: object) -> Arcs:
        return Arcs(
            np.asarray(src, dtype=np.int64),
            np.asarray(dst, dtype=np.int64),
            np.asarray(ms, dtype=np.int64),
            np.asarray(meters, dtype=np.float64),
        )

    @staticmethod
    def empty() -> Arcs:
        return Arcs.of([], [], [], [])

    def __len__(self) -> int:
        return len(self.src)

    def take(self, index: Ints | Mask) -> Arcs:
        return Arcs(self.src[index], self.dst[index], self.ms[index], self.meters[index])

    def reversed(self) -> Arcs:
        return Arcs(self.dst, self.src, self.ms, self.meters)

    @staticmethod
    def concat(*parts: Arcs) -> Arcs:
        return Arcs(
            np.concatenate([p.src for p in parts]),
            np.concatenate([p.dst for p in parts]),
            np.concatenate([p.ms for p in parts]),
            np.concatenate([p.meters for p in parts]),
        )


def fastest(arcs: Arcs, n: int) -> Arcs:
    """One arc per (src, dst), the fastest, no loops; sorted by (src, dst) so it reads as CSR."""
    arcs = arcs.take(arcs.src != arcs.dst)
    key = arcs.src * n + arcs.dst
    order = np.lexsort((arcs.ms, key))
    sorted_key = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    return arcs.take(order[first])


def row_ptr(rows: Ints, n: int) -> Ints:
    """CSR row pointers for arcs sorted by `rows`."""
    return np.searchsorted(rows, np.arange(n + 1)).astype(np.int64)


def expand(ptr: Ints, rows: Ints) -> tuple[Ints, Ints]:
    """For each i, every arc index of row rows[i]: returns (i repeated, arc index)."""
    counts = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    block_start = np.repeat(np.cumsum(counts) - counts, counts)
    arc = np.repeat(ptr[rows], counts) + (np.arange(len(owner), dtype=np.int64) - block_start)
    return owner, arc


class ArcIndex:
    """Constant-time-ish lookups of the arc u->v in arcs sorted by (src, dst)."""

    def __init__(self, arcs: Arcs, n: int) -> None:
        self.arcs = arcs
        self.n = n
        self.keys = arcs.src * n + arcs.dst
        self.ptr = row_ptr(arcs.src, n)

    def ms(self, u: Ints, v: Ints) -> Ints:
        if len(self.keys) == 0:
            return np.full(len(u), INF_MS, dtype=np.int64)
        q = u * self.n + v
        i = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        return np.where(self.keys[i] == q, self.arcs.ms[i], INF_MS)
