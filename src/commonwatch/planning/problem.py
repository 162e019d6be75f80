"""Post siting as data: who needs cover (demand), where posts may go, at what cost. Pure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from commonwatch.planning.kinds import Method, Objective

__all__ = ["Instance", "Matrix", "Method", "Objective", "Solution", "Vector"]

Matrix = NDArray[np.float64]
Vector = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Instance:
    costs: Matrix  # [demand, candidate] travel cost; inf where there is no route
    weights: Vector  # demand weights, >= 0
    k: int
    objective: Objective
    radius: float | None = None  # coverage: a demand is covered by a post within this cost

    def __post_init__(self) -> None:
        n, m = self.costs.shape
        if len(self.weights) != n:
            raise ValueError("one weight per demand point")
        if not 1 <= self.k <= m:
            raise ValueError(f"k must be between 1 and the {m} candidates")
        if self.objective is Objective.COVERAGE and self.radius is None:
            raise ValueError("coverage needs a radius")

    @property
    def covers(self) -> NDArray[np.bool_]:
        assert self.radius is not None
        return np.asarray(self.costs <= self.radius)

    def penalised(self) -> Matrix:
        """Costs with unreachable pairs priced above any real assignment: models stay feasible."""
        finite = self.costs[np.isfinite(self.costs)]
        big = (float(finite.max()) if finite.size else 1.0) * 10 + 1
        return np.where(np.isfinite(self.costs), self.costs, big)

    def value(self, sites: list[int]) -> float:
        """The objective for these sites: weighted cost (median) or covered weight (coverage)."""
        chosen = self.costs[:, sites]
        if self.objective is Objective.COVERAGE:
            assert self.radius is not None
            return float(self.weights[(chosen <= self.radius).any(axis=1)].sum())
        return float(self.weights @ self.penalised()[:, sites].min(axis=1))


@dataclass(frozen=True, slots=True)
class Solution:
    objective: Objective
    sites: list[int]  # candidate indices, ascending
    value: float  # minimised (median) or maximised (coverage)
    bound: float  # proven lower (median) or upper (coverage) bound on the optimum
    method: Method
    seconds: float

    @property
    def gap(self) -> float:
        """Relative distance to the proven bound: 0 means proven optimal."""
        if self.objective is Objective.MEDIAN:
            return max(0.0, (self.value - self.bound) / self.value) if self.value > 0 else 0.0
        return max(0.0, (self.bound - self.value) / self.bound) if self.bound > 0 else 0.0
