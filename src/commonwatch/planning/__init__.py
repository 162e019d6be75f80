"""Where to put posts: p-median and maximal covering over travel times (exact MIP or heuristic)."""
