"""Nested dissection by coordinates: which nodes separate the map, and at what depth.

Contracting cell interiors first and separators last is what keeps a contraction hierarchy of a
city grid small: the separators stay thin lines instead of a thickening mesh (routing/README.md).
"""

from __future__ import annotations

import numpy as np

from commonwatch.routing.arcs import Floats, Ints, Mask

LEAF_CELL = 48  # cells this small are not split further


def _split(cell: Ints, coord: Floats, live: Mask) -> tuple[Ints, Mask]:
    """Halve every splittable cell at the median of `coord`: new cell ids and the upper halves."""
    nodes = np.flatnonzero(live)
    order = nodes[np.lexsort((coord[nodes], cell[nodes]))]
    sorted_cells = cell[order]
    start = np.searchsorted(sorted_cells, sorted_cells, side="left")
    count = np.searchsorted(sorted_cells, sorted_cells, side="right") - start
    rank = np.arange(len(order)) - start
    upper = np.zeros(len(cell), dtype=bool)
    upper[order] = rank >= count // 2
    return cell * 2 + upper, upper


def _axis(cell: Ints, x: Floats, y: Floats, live: Mask) -> Floats:
    """Per node, the coordinate along its cell's longer side."""
    size = int(cell.max()) + 1
    ext = []
    for c in (x, y):
        lo = np.full(size, np.inf)
        hi = np.full(size, -np.inf)
        np.minimum.at(lo, cell[live], c[live])
        np.maximum.at(hi, cell[live], c[live])
        ext.append(hi - lo)
    along_x = ext[0] >= ext[1]
    return np.where(along_x[cell], x, y)


def _compact(cell: Ints) -> Ints:
    return np.unique(cell, return_inverse=True)[1].astype(np.int64)


def dissection_levels(x: Floats, y: Floats, src: Ints, dst: Ints) -> Ints:
    """0 for cell interiors; separators found at depth d get (depth count - d): top is highest."""
    n = len(x)
    cell = np.zeros(n, dtype=np.int64)
    live = np.ones(n, dtype=bool)
    found_at = np.full(n, -1, dtype=np.int64)
    depth = 0
    while True:
        sizes = np.bincount(cell[live], minlength=int(cell.max()) + 1)
        splitting = live & (sizes[cell] > LEAF_CELL)
        if not splitting.any():
            break
        new_cell, upper = _split(cell, _axis(cell, x, y, splitting), splitting)
        cut = (
            splitting[src] & splitting[dst] & (cell[src] == cell[dst]) & (upper[src] != upper[dst])
        )
        separator = np.zeros(n, dtype=bool)
        separator[np.where(upper[src], src, dst)[cut]] = True
        found_at[separator] = depth
        live &= ~separator
        cell = _compact(np.where(splitting, new_cell, cell * 2))
        depth += 1
    return np.where(found_at >= 0, depth - found_at, 0)
