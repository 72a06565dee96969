"""`solve(instance) -> plan`: the optimizer's one entry point.

Data, model, solve, extract: the instance becomes arrays (`network`), each material its own flow
network (`model`; the base problem separates by material), solved lexicographically to proven
optimality (`lexmin`), then read back into allocations with reasons (`explain`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from datetime import date
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from optimizer.contract import Instance, Objective, Plan, invalid_plan
from optimizer.explain import explain
from optimizer.greedy import greedy_flow
from optimizer.lexmin import lexmin_flow
from optimizer.model import material_models
from optimizer.network import KINDS, UNLIMITED, Matching
from optimizer.validate import checked_matching, cross_check, parse_rules

Method = Literal["optimal", "greedy"]
SOLVER = "ortools SimpleMinCostFlow per material, lexicographic"


def solve_document(
    raw: Any, *, method: Method = "optimal", time_limit: float | None = None
) -> Plan:
    """Validate a decoded instance document and solve it (an `invalid` plan lists its errors)."""
    return solve_instance_text(
        json.dumps(raw, allow_nan=True), method=method, time_limit=time_limit
    )


def solve_instance_text(
    text: str | bytes, *, method: Method = "optimal", time_limit: float | None = None
) -> Plan:
    """Parse, validate and solve instance JSON; raise `UnreadableInput` if it is not JSON."""
    instance = parse_rules(text)  # `solve` checks the magnitudes
    if isinstance(instance, list):
        return invalid_plan(instance)
    return solve(instance, method=method, time_limit=time_limit)


def solve(
    instance: Instance,
    *,
    method: Method = "optimal",
    time_limit: float | None = None,
    timer: Callable[[], float] = time.perf_counter,
    explain_only: Collection[str] | None = None,
) -> Plan:
    """Match demands to sources: optimal by the contract's three tiers, or the greedy baseline.

    With `time_limit` (seconds), materials not reached in time are planned by the greedy
    baseline and the plan's status is `feasible` instead of `optimal`. With `explain_only`
    (demand ids), `late[]` and `unmet[]` list only those demands — an urgent request needs the
    reasons for its own lines, not for all the other demand it was weighed against.
    An instance that breaks a rule of the contract, or holds a number too large to plan exactly
    (`optimizer.validate`), gets status `invalid` with one error per problem.
    """
    errors = cross_check(instance)
    if errors:
        return invalid_plan(errors)
    start = timer()
    m = checked_matching(instance)  # numbers too large to plan exactly are errors too
    if isinstance(m, list):
        return invalid_plan(m)
    built = timer()
    if method == "greedy":
        x = greedy_flow(m)
        stats: dict[str, Any] = {
            "solver": "greedy (hand planner's rule)",
            "materials": len(m.materials),
        }
        status: Literal["optimal", "feasible"] = "feasible"
    else:
        x, stats = _optimal_flow(
            m, deadline=None if time_limit is None else built + time_limit, timer=timer
        )
        status = "feasible" if stats["materials_greedy"] else "optimal"
    solved = timer()
    unmet, late = explain(m, x, explain_only)
    # One validation call for the whole plan: far cheaper than one per allocation.
    plan = Plan.model_validate(
        {
            "status": status,
            "objective": objective(m, x),
            "allocations": allocations(m, x),
            "unmet": unmet,
            "late": late,
            "stats": {
                **stats,
                "demands": m.n_demands,
                "sources": m.n_sources,
                "arcs": len(m.a_demand),
                "scale": {
                    "quantity": m.scale.quantity,
                    "weight": m.scale.weight,
                    "money": m.scale.money,
                },
                "rounded_input": m.scale.rounded,
                "build_seconds": round(built - start, 4),
                "solve_seconds": round(solved - built, 4),
                "explain_seconds": round(timer() - solved, 4),
            },
        }
    )
    return plan


def _optimal_flow(
    m: Matching, *, deadline: float | None, timer: Callable[[], float]
) -> tuple[np.ndarray, dict[str, Any]]:
    x = np.zeros(len(m.a_demand), dtype=np.int64)
    late_materials: list[int] = []
    stages = np.zeros(4, dtype=np.int64)
    for material, model in material_models(m):
        if deadline is not None and timer() > deadline:
            late_materials.append(material)
            continue
        result = lexmin_flow(model.problem)
        stages[min(result.stages, 3)] += 1
        x[model.cover_arcs] = model.cover_flow(result.flow)
    if late_materials:
        greedy = greedy_flow(m, np.asarray(late_materials))
        chosen = np.isin(m.d_material[m.a_demand], late_materials)
        x[chosen] = greedy[chosen]
    stats = {
        "solver": SOLVER,
        "materials": len(m.materials),
        "materials_greedy": len(late_materials),
        "networks_by_stages": {str(k): int(stages[k]) for k in (1, 2, 3) if stages[k]},
    }
    return x, stats


def allocations(m: Matching, x: np.ndarray) -> list[dict[str, Any]]:
    """The plan's allocations (`Allocation` fields), in demand order then source order."""
    demand_ids = [d.id for d in m.instance.demands]
    source_ids = [s.id for s in m.instance.sources]
    arcs = np.flatnonzero(x)
    days: dict[int, date] = {}
    scale = m.scale.quantity
    return [
        {
            "demand": demand_ids[d],
            "source": source_ids[s],
            "quantity": q // scale if q % scale == 0 else q / scale,
            "arrival": days.get(t) or days.setdefault(t, date.fromordinal(t)),
            "late_days": late,
        }
        for d, s, q, t, late in zip(
            m.a_demand[arcs].tolist(),
            m.a_source[arcs].tolist(),
            x[arcs].tolist(),
            m.a_arrival[arcs].tolist(),
            m.a_late[arcs].tolist(),
            strict=True,
        )
    ]


def objective(m: Matching, x: np.ndarray) -> Objective:
    """The three tiers of a flow, computed exactly in integers and then scaled back."""
    served = np.bincount(m.a_demand, weights=x, minlength=m.n_demands).astype(np.int64)
    unmet = _dot(m.d_weight, m.d_qty - served)
    lateness = _dot(m.d_weight[m.a_demand] * m.a_late, x)
    cost = _dot(m.s_cost[m.a_source], x)
    used = np.bincount(m.a_source, weights=x, minlength=m.n_sources).astype(np.int64)
    reserve = (m.s_kind == KINDS.index("reserve")) & (m.s_qty != UNLIMITED)
    below = np.maximum(0, m.s_quota - (m.s_qty - used))[reserve]
    cost += m.penalty * sum(below.tolist())
    cost += _dot(m.s_floor_penalty, np.maximum(0, m.s_floor - used))  # floors left unused
    q, w, money = m.scale.quantity, m.scale.weight, m.scale.money
    return Objective(
        unmet_weighted=_number(Fraction(unmet, w * q)),
        lateness_weighted=_number(Fraction(lateness, w * q)),
        cost=_number(Fraction(cost, money * q)),
    )


def _dot(a: np.ndarray, b: np.ndarray) -> int:
    # Python integers: exact however large the scaled money gets.
    return sum(map(int.__mul__, a.tolist(), b.tolist()))


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)
