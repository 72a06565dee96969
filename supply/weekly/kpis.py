"""KPIs of a weekly run: lines and quantity on time, late and unmet; cost by source; the same per
project package (what the run would commit from each budget); reserve drawn below quota; and the
same plan made by the hand planner's rule, for comparison. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from optimizer import Plan
from supply.planning import MatchingProblem

OUTCOMES = ("on_time", "late", "unmet")
NO_PACKAGE = "(none)"  # projects that belong to no package


def line_outcomes(plan: Plan) -> dict[str, str]:
    """Each demand's outcome: unmet if any of it is unmet, else late if any of it is late."""
    outcome: dict[str, str] = {a.demand: "on_time" for a in plan.allocations}
    for entry in plan.late:
        outcome[entry.demand] = "late"
    for entry in plan.unmet:
        outcome[entry.demand] = "unmet"
    return outcome


def _counts() -> dict[str, Any]:
    return {
        "lines": 0,
        "quantity": 0,
        **{f"{o}_lines": 0 for o in OUTCOMES},
        **{f"{o}_quantity": 0 for o in OUTCOMES},
    }


def compute_kpis(
    problem: MatchingProblem, plan: Plan, baseline: Plan, project_types: dict[str, str]
) -> dict[str, Any]:
    """Summarise a plan (and the baseline's on the same instance) as JSON-ready numbers."""
    outcome = line_outcomes(plan)
    late_qty: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        if a.late_days:
            late_qty[a.demand] += a.quantity
    unmet_qty = {u.demand: u.quantity for u in plan.unmet}

    totals = _counts()
    by_type: dict[str, dict[str, Any]] = defaultdict(_counts)
    for key, demand in problem.demands.items():
        kind = (
            "replenishment"
            if demand.replenish_warehouse_id
            else project_types.get(demand.project_id, "?")
        )
        late, unmet = late_qty.get(key, 0), unmet_qty.get(key, 0)
        for bucket in (totals, by_type[kind]):
            bucket["lines"] += 1
            bucket["quantity"] += demand.quantity
            bucket[f"{outcome.get(key, 'unmet')}_lines"] += 1
            bucket["on_time_quantity"] += demand.quantity - late - unmet
            bucket["late_quantity"] += late
            bucket["unmet_quantity"] += unmet

    by_source: dict[str, dict[str, float]] = defaultdict(
        lambda: {"lines": 0, "quantity": 0, "cost": 0.0}
    )
    used: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        ref = problem.sources[a.source]
        row = by_source[ref.kind]
        row["lines"] += 1
        row["quantity"] += a.quantity
        row["cost"] = round(row["cost"] + float(ref.unit_cost) * a.quantity, 2)
        used[a.source] += a.quantity

    below_before = below_after = 0.0
    positions = 0
    for source in problem.instance.sources:
        if source.kind != "reserve" or source.quantity is None:
            continue
        before = max(0.0, source.quota - source.quantity)
        after = max(0.0, source.quota - (source.quantity - used[source.id]))
        below_before += before
        below_after += after
        positions += after > before

    return {
        "totals": totals,
        "by_project_type": dict(sorted(by_type.items())),
        "by_source": dict(sorted(by_source.items())),
        "by_package": package_kpis(problem, plan),
        "reserve_below_quota": {
            "positions_drawn_below": positions,
            "units_below_before": below_before,
            "units_below_after": below_after,
        },
        "objective": plan.objective.model_dump(),
        "baseline": _baseline(baseline),
    }


def package_kpis(problem: MatchingProblem, plan: Plan) -> dict[str, dict[str, Any]]:
    """Per project package: its lines on time, late and unmet, and the cost the run plans for it
    by source (what approval would commit from its budget); replenishment has no package."""
    outcome = line_outcomes(plan)
    rows: dict[str, dict[str, Any]] = {}
    costs: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))

    def row(package: str) -> dict[str, Any]:
        if package not in rows:
            rows[package] = {"lines": 0, **{f"{o}_lines": 0 for o in OUTCOMES}}
        return rows[package]

    for key, demand in problem.demands.items():
        if demand.replenish_warehouse_id:
            continue
        bucket = row(demand.package or NO_PACKAGE)
        bucket["lines"] += 1
        bucket[f"{outcome.get(key, 'unmet')}_lines"] += 1
    for a in plan.allocations:
        demand = problem.demands[a.demand]
        if demand.replenish_warehouse_id:
            continue
        ref = problem.sources[a.source]
        costs[demand.package or NO_PACKAGE][ref.kind] += ref.unit_cost * int(a.quantity)
    for package, bucket in rows.items():
        by_kind = costs.get(package, {})
        bucket["cost_by_source"] = {k: round(float(v), 2) for k, v in sorted(by_kind.items())}
        bucket["cost"] = round(float(sum(by_kind.values(), Decimal(0))), 2)
    return dict(sorted(rows.items()))


def _baseline(plan: Plan) -> dict[str, Any]:
    outcome = line_outcomes(plan)
    return {
        "method": "hand planner's rule (greedy)",
        "objective": plan.objective.model_dump(),
        **{f"{o}_lines": sum(1 for v in outcome.values() if v == o) for o in OUTCOMES},
    }
