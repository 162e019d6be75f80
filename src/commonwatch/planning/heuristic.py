"""Siting beyond MIP size: greedy start, vertex-substitution interchange, Lagrangian bound.

Interchange (Teitz & Bart 1968): swap an open post for a closed candidate while that lowers the
cost. Each pass evaluates every (closed, open) swap at once from each demand's best and second
best open post (Whitaker's fast interchange), then takes the best swap. Coverage runs the same
machinery on 0/1 costs ("uncovered"). The bound is the Lagrangian relaxation of the assignment
(median) or cover (coverage) constraints, improved by subgradient steps; for the p-median its
best value equals the LP relaxation's.
"""

from __future__ import annotations

import time

import numpy as np

from commonwatch.planning.problem import Instance, Matrix, Method, Objective, Solution, Vector

BOUND_ITERATIONS = 300
CHUNK_CELLS = 4_000_000  # demand x candidate cells per numpy batch in the swap evaluation


def _loss(inst: Instance) -> Matrix:
    """What each (demand, candidate) pair costs when the demand uses that candidate."""
    if inst.objective is Objective.COVERAGE:
        return (~inst.covers).astype(np.float64)
    return inst.penalised()


def greedy(loss: Matrix, w: Vector, k: int) -> list[int]:
    best = np.full(loss.shape[0], np.inf)
    sites: list[int] = []
    for _ in range(k):
        totals = w @ np.minimum(loss, np.where(np.isfinite(best), best, loss.max() + 1)[:, None])
        totals[sites] = np.inf
        j = int(np.argmin(totals))
        sites.append(j)
        best = np.minimum(best, loss[:, j])
    return sites


def _best_two(loss: Matrix, sites: list[int]) -> tuple[Vector, Vector, np.ndarray]:
    open_loss = loss[:, sites]
    order = np.argsort(open_loss, axis=1)
    rows = np.arange(loss.shape[0])
    first = open_loss[rows, order[:, 0]]
    second = open_loss[rows, order[:, 1]] if len(sites) > 1 else np.full(len(rows), np.inf)
    return first, second, order[:, 0]


def _best_swap(loss: Matrix, w: Vector, sites: list[int]) -> tuple[float, int, int]:
    """Lowest total after swapping open post r (position) for closed candidate j, all at once."""
    first, second, owner = _best_two(loss, sites)
    k, m = len(sites), loss.shape[1]
    onehot = np.zeros((k, loss.shape[0]))
    onehot[owner, np.arange(loss.shape[0])] = 1.0
    best = (np.inf, -1, -1)
    step = max(1, CHUNK_CELLS // max(loss.shape[0], 1))
    for lo in range(0, m, step):
        block = loss[:, lo : lo + step]
        keep = np.minimum(block, first[:, None])
        base = w @ keep
        delta = w[:, None] * (np.minimum(block, second[:, None]) - keep)
        totals = base[None, :] + onehot @ delta
        totals[:, [s - lo for s in sites if lo <= s < lo + step]] = np.inf
        r, j = np.unravel_index(int(np.argmin(totals)), totals.shape)
        if totals[r, j] < best[0]:
            best = (float(totals[r, j]), int(r), int(j) + lo)
    return best


def interchange(loss: Matrix, w: Vector, sites: list[int]) -> list[int]:
    sites = list(sites)
    current = float(w @ loss[:, sites].min(axis=1))
    while len(sites) < loss.shape[1]:
        total, r, j = _best_swap(loss, w, sites)
        if total >= current - 1e-9 * max(1.0, abs(current)):
            break
        sites[r], current = j, total
    return sorted(sites)


def _median_bound(loss: Matrix, w: Vector, k: int, upper: float) -> float:
    """max over multipliers of sum(lam) + the k most negative sum_i min(0, w_i c_ij - lam_i)."""
    wc = w[:, None] * loss
    lam = np.sort(wc, axis=1)[:, min(1, wc.shape[1] - 1)]
    best, theta, stale = -np.inf, 2.0, 0
    for _ in range(BOUND_ITERATIONS):
        reduced = np.minimum(0.0, wc - lam[:, None])
        rho = reduced.sum(axis=0)
        chosen = np.argpartition(rho, k - 1)[:k]
        value = float(lam.sum() + rho[chosen].sum())
        best, stale = (value, 0) if value > best + 1e-9 else (best, stale + 1)
        if stale >= 20:
            theta, stale = theta / 2, 0
        g = 1.0 - (reduced[:, chosen] < 0).sum(axis=1)
        norm = float(g @ g)
        if norm == 0 or theta < 1e-4:
            break
        lam = lam + theta * (upper - value) / norm * g
    return best


def _coverage_bound(covers: np.ndarray, w: Vector, k: int, lower: float) -> float:
    """min over mu >= 0 of sum max(0, w_i - mu_i) + the k largest sum_i mu_i a_ij."""
    a = covers.astype(np.float64)
    mu = w * 0.5
    best, theta, stale = np.inf, 2.0, 0
    for _ in range(BOUND_ITERATIONS):
        gain = mu @ a
        chosen = np.argpartition(-gain, k - 1)[:k]
        z = w > mu
        value = float(np.maximum(0.0, w - mu).sum() + gain[chosen].sum())
        best, stale = (value, 0) if value < best - 1e-9 else (best, stale + 1)
        if stale >= 20:
            theta, stale = theta / 2, 0
        g = a[:, chosen].sum(axis=1) - z
        norm = float(g @ g)
        if norm == 0 or theta < 1e-4:
            break
        mu = np.maximum(0.0, mu - theta * (value - lower) / norm * g)
    return best


def solve_heuristic(inst: Instance) -> Solution:
    started = time.perf_counter()
    loss = _loss(inst)
    sites = interchange(loss, inst.weights, greedy(loss, inst.weights, inst.k))
    value = inst.value(sites)
    if inst.objective is Objective.MEDIAN:
        bound = min(value, _median_bound(loss, inst.weights, inst.k, value))
    else:
        bound = max(value, _coverage_bound(inst.covers, inst.weights, inst.k, value))
    seconds = time.perf_counter() - started
    return Solution(inst.objective, sites, value, bound, Method.HEURISTIC, seconds)
