"""What a post-siting run optimises, and how it solves. Light: the CLI parser imports it."""

from __future__ import annotations

from enum import StrEnum


class Objective(StrEnum):
    MEDIAN = "median"  # p-median: least demand-weighted travel time to the nearest post
    COVERAGE = "coverage"  # maximal covering (Church & ReVelle 1974): most demand within the radius


class Method(StrEnum):
    EXACT = "exact"  # MIP with HiGHS; gap from its dual bound
    HEURISTIC = "heuristic"  # greedy + interchange; gap from a Lagrangian (= LP) bound
