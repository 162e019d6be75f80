"""Exact siting by mixed-integer programming (scipy.optimize.milp, HiGHS)."""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp
from scipy.sparse import coo_matrix, csr_matrix, hstack, identity, kron

from commonwatch.planning.problem import Instance, Method, Objective, Solution


def _one_row(values: np.ndarray) -> csr_matrix:
    return csr_matrix(values.reshape(1, -1))


def _median_model(inst: Instance) -> tuple[np.ndarray, list[LinearConstraint], Bounds, np.ndarray]:
    """y_j (open) then x_ij (i served by j), row-major: the strong formulation x_ij <= y_j."""
    n, m = inst.costs.shape
    cost = inst.penalised() * inst.weights[:, None]
    c = np.concatenate([np.zeros(m), cost.ravel()])
    assign = hstack([csr_matrix((n, m)), kron(identity(n), np.ones((1, m)))])
    link = hstack([-kron(np.ones((n, 1)), identity(m)), identity(n * m)])
    count = _one_row(np.concatenate([np.ones(m), np.zeros(n * m)]))
    constraints = [
        LinearConstraint(assign, 1, 1),
        LinearConstraint(link, -np.inf, 0),
        LinearConstraint(count, inst.k, inst.k),
    ]
    integrality = np.concatenate([np.ones(m), np.zeros(n * m)])
    return c, constraints, Bounds(0, 1), integrality


def _coverage_model(
    inst: Instance,
) -> tuple[np.ndarray, list[LinearConstraint], Bounds, np.ndarray]:
    """y_j (open) then z_i (covered): z_i <= sum of y_j within the radius; max covered weight."""
    n, m = inst.costs.shape
    c = np.concatenate([np.zeros(m), -inst.weights])
    covers = coo_matrix(inst.covers.astype(np.float64))
    link = hstack([-covers, identity(n)])
    count = _one_row(np.concatenate([np.ones(m), np.zeros(n)]))
    constraints = [LinearConstraint(link, -np.inf, 0), LinearConstraint(count, inst.k, inst.k)]
    integrality = np.concatenate([np.ones(m), np.zeros(n)])
    return c, constraints, Bounds(0, 1), integrality


def _bound(res: OptimizeResult, objective: Objective) -> float:
    dual = getattr(res, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        dual = res.fun
    return float(dual) if objective is Objective.MEDIAN else -float(dual)


def solve_exact(inst: Instance, time_limit: float = 60.0) -> Solution:
    """Proven optimum, or the best found with HiGHS's dual bound when the time limit stops it."""
    started = time.perf_counter()
    model = _median_model if inst.objective is Objective.MEDIAN else _coverage_model
    c, constraints, bounds, integrality = model(inst)
    options = {"time_limit": time_limit, "mip_rel_gap": 0.0}
    res = milp(c, constraints=constraints, bounds=bounds, integrality=integrality, options=options)
    if res.x is None:
        raise RuntimeError(f"MIP found no solution: {res.message}")
    m = inst.costs.shape[1]
    sites = sorted(np.argsort(-res.x[:m])[: inst.k].tolist())
    value = inst.value(sites)
    bound = _bound(res, inst.objective) if res.status != 0 else value
    seconds = time.perf_counter() - started
    return Solution(inst.objective, sites, value, bound, Method.EXACT, seconds)
