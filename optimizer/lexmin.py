"""Lexicographic minimum-cost flow: minimise tier 1, then tier 2 among tier-1 optima, then tier 3.

Engine choice, by measurement (docs/notes/ortools-9.15.md; benchmarks/bench_solve.py): on a
province week (50,000 lines, 178k arcs) OR-Tools' `SimpleMinCostFlow` run once per material
solves in under a second, one network for all materials takes 5 s, LP through GLOP/HiGHS 5–25 s
and CP-SAT did not finish in 300 s. The problem is a transportation problem, so a network-flow
engine is both the fastest and exact: integer data gives integer flows.

Exactness across tiers. Tiers are combined into one integer cost, t = M1·t1 + M2·t2 + t3, only
when the big-M weights provably separate them (M_k exceeds the largest possible change of
everything below it) *and* the combined costs stay inside int64 with the engine's internal
scaling (an arc cost times nodes + 1 below 2⁶¹, `network.EXACT_LIMIT`, which says why). When they do not fit — large quantities or
money — tiers are solved in successive stages: after a stage, node potentials from the optimal
flow (shortest paths in its residual network, which has no negative cycle at an optimum) give
reduced costs; by complementary slackness an arc with positive reduced cost carries no flow in
*any* optimum of that stage and an arc with negative reduced cost is saturated in every one, so
fixing those arcs leaves exactly the stage's optimal face for the next tier. No tolerance and no
tier traded against another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from optimizer.network import EXACT_LIMIT

# Headroom under int64: the engine scales costs by the size of the network (network.EXACT_LIMIT).
_LIMIT = EXACT_LIMIT


@dataclass
class FlowProblem:
    """A balanced flow network whose arcs carry one integer cost per tier."""

    n_nodes: int
    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    tiers: np.ndarray  # shape (n_tiers, n_arcs), integer, non-negative
    supply: np.ndarray  # per node; sums to zero


@dataclass
class FlowResult:
    flow: np.ndarray
    stages: int


class FlowError(RuntimeError):
    """The flow engine failed on a network that should always be solvable."""


def lexmin_flow(problem: FlowProblem, *, combine_limit: int = _LIMIT) -> FlowResult:
    """Return an integral flow that is lexicographically optimal over the tiers.

    `combine_limit` bounds the combined integer costs; lowering it forces more, smaller stages
    (the tests use this to show both paths reach the same optimum).
    """
    n_tiers = problem.tiers.shape[0]
    fixed = np.zeros(len(problem.tail), dtype=np.int64)  # flow forced by earlier stages
    active = problem.capacity > 0
    supply = problem.supply.astype(np.int64)  # a copy: stages move saturated flow into it
    tier, stages = 0, 0
    while True:
        idx = np.flatnonzero(active)
        tail, head, capacity = problem.tail[idx], problem.head[idx], problem.capacity[idx]
        tiers = problem.tiers[tier:, idx]
        group, multipliers = _stage(tiers, capacity, problem.n_nodes, combine_limit)
        costs = np.zeros(len(idx), dtype=np.int64)
        for k, m in zip(group, multipliers, strict=True):
            costs += tiers[k] * np.int64(m)
        stage_flow = _min_cost_flow(problem.n_nodes, tail, head, capacity, costs, supply)
        stages += 1
        flow = fixed.copy()
        flow[idx] += stage_flow
        tier += group[-1] + 1 if group else n_tiers
        if tier >= n_tiers or len(idx) == 0:
            return FlowResult(flow=flow, stages=stages)
        # Keep only the optimal face of this stage for the next tiers.
        potential = _potentials(problem.n_nodes, tail, head, capacity, costs, stage_flow)
        reduced = costs + potential[tail] - potential[head]
        saturate = reduced < 0
        fixed[idx[saturate]] += capacity[saturate]
        np.subtract.at(supply, tail[saturate], capacity[saturate])
        np.add.at(supply, head[saturate], capacity[saturate])
        active[idx[reduced != 0]] = False


def _stage(
    tiers: np.ndarray, capacity: np.ndarray, n_nodes: int, limit: int
) -> tuple[list[int], list[int]]:
    """Pick the longest run of leading tiers that one int64 cost can separate exactly.

    Returns the tiers (row indices) and their big-M multipliers, the last tier's being 1.
    """
    # Upper bound on how much each tier can change over all flows of this network.
    ranges = [int(r * (1 + 1e-9)) + 1 for r in (tiers.astype(np.float64) @ capacity).tolist()]
    largest = tiers.max(axis=1, initial=0).tolist()
    present = [k for k, r in enumerate(ranges) if r > 1]
    if not present:
        return [], []
    if largest[present[0]] * (n_nodes + 1) >= _LIMIT:  # validate refuses these first
        raise FlowError("numbers too large for an exact integer flow; scale the instance down")
    best: tuple[list[int], list[int]] = ([present[0]], [1])
    for end in range(2, len(present) + 1):
        group = present[:end]
        multipliers = [1] * end
        for j in range(end - 2, -1, -1):
            # M_j must exceed the largest change of everything below tier j.
            multipliers[j] = 1 + sum(
                m * ranges[k] for k, m in zip(group[j + 1 :], multipliers[j + 1 :], strict=True)
            )
        largest_arc = sum(largest[k] * m for k, m in zip(group, multipliers, strict=True))
        total = sum(ranges[k] * m for k, m in zip(group, multipliers, strict=True))
        if largest_arc * (n_nodes + 1) >= limit or total >= limit:
            break
        best = (group, multipliers)
    return best


def _min_cost_flow(
    n_nodes: int,
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    costs: np.ndarray,
    supply: np.ndarray,
) -> np.ndarray:
    solver = min_cost_flow.SimpleMinCostFlow()
    if len(tail):
        solver.add_arcs_with_capacity_and_unit_cost(tail, head, capacity, costs)
    solver.set_nodes_supplies(np.arange(n_nodes, dtype=np.int64), supply)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise FlowError(f"min-cost flow returned status {status}")
    if not len(tail):
        return np.zeros(0, dtype=np.int64)
    return np.asarray(solver.flows(np.arange(len(tail), dtype=np.int64)), dtype=np.int64)


def _potentials(
    n_nodes: int,
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    costs: np.ndarray,
    flow: np.ndarray,
) -> np.ndarray:
    """Shortest-path distances in the residual network (Bellman–Ford from a virtual root)."""
    forward = flow < capacity
    backward = flow > 0
    r_tail = np.concatenate((tail[forward], head[backward]))
    r_head = np.concatenate((head[forward], tail[backward]))
    r_cost = np.concatenate((costs[forward], -costs[backward]))
    distance = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        relaxed = distance.copy()
        np.minimum.at(relaxed, r_head, distance[r_tail] + r_cost)
        if np.array_equal(relaxed, distance):
            return distance
        distance = relaxed
    raise FlowError("negative cycle in a residual network: the stage's flow was not optimal")
