"""KPIs of a weekly run, in measures a planner can add up. Pure.

- Lines on time, late and unmet, and the **value** of the demand on time, late and unmet (CNY at
  each material's standard price): quantities are never added across materials (metres of
  cable and transformer units do not sum). Lines the planner refused before matching
  (`supply.limits`: past the limits, often by far) are counted apart, `refused_lines` and
  `refused_value`: `lines` and `value` are those of the lines it planned, so that one refused
  line of 20 billion metres does not swamp the value on time. Per package a refused line is
  unmet, as in 项目包汇总 (it is not supplied).
- **Spend** by source — what the plan would pay — apart from the R6 **below-quota penalty**,
  which is only the engine's price for drawing reserve below its quota (the objective's cost is
  their sum; no one pays the penalty).
- The same per project package (what approval would commit from each budget), reserve drawn
  below quota, and the same plan made by the hand planner's rule, for comparison.

Every amount is a sum of line amounts to the fen (`supply.core.money.line_amount`), as the
exports write them, so a KPI and its export total agree to the fen. Amounts are JSON numbers
with at most two decimals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from optimizer import Plan
from supply.core.money import fen, line_amount
from supply.planning import MatchingProblem

OUTCOMES = ("on_time", "late", "unmet")
NO_PACKAGE = "(none)"  # projects that belong to no package


def _shares(plan: Plan, problem: MatchingProblem) -> dict[str, tuple[str, int, int]]:
    """Per demand with an allocation or a shortfall: its outcome (unmet if any of it is unmet,
    else late if any of it is late), its late and its unmet quantity.

    Read from the allocations alone (what is not served is unmet), so that a plan made without
    its reasons — the baseline — counts the same as one with them: the checker holds a plan's
    `late` and `unmet` lists to its allocations."""
    served: dict[str, float] = defaultdict(float)
    late: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        served[a.demand] += a.quantity
        if a.late_days:
            late[a.demand] += a.quantity
    shares = {}
    for key, demand in problem.demands.items():
        got = served.get(key)
        unmet = demand.quantity - int(got or 0)
        late_quantity = int(late.get(key, 0))
        if unmet > 0:
            shares[key] = ("unmet", late_quantity, unmet)
        elif late_quantity:
            shares[key] = ("late", late_quantity, 0)
        elif got is not None:
            shares[key] = ("on_time", 0, 0)
    return shares


@lru_cache(maxsize=1 << 16)
def _line_amount(unit_cost: Decimal, quantity: int) -> Decimal:
    # A week repeats its few prices and quantities: each amount is worked out once.
    return line_amount(unit_cost, quantity)


def _yuan(amount: Decimal) -> float:
    return float(fen(amount))


def _outcome_counts() -> dict[str, Any]:
    return {
        "lines": 0,
        **{f"{o}_lines": 0 for o in OUTCOMES},
        "value": Decimal(0),
        **{f"{o}_value": Decimal(0) for o in OUTCOMES},
        "refused_lines": 0,
        "refused_value": Decimal(0),
    }


_LINES = {o: f"{o}_lines" for o in OUTCOMES}
_VALUES = {o: f"{o}_value" for o in OUTCOMES}


def outcome_kpis(
    problem: MatchingProblem,
    plan: Plan,
    *,
    prices: Mapping[str, Decimal],
    group: Mapping[str, str] | None = None,
    refused: Collection[str] = (),
    shares: Mapping[str, tuple[str, int, int]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Lines and value (at standard price) on time, late and unmet: `total`, and per group of
    demands when `group` maps demand → group name; the `refused` demands (refused before
    matching) apart, as `refused_lines` and `refused_value`. (`shares`: the plan's `_shares`,
    if already worked out.)"""
    if shares is None:
        shares = _shares(plan, problem)
    buckets: dict[str, dict[str, Any]] = defaultdict(_outcome_counts)
    buckets["total"] = _outcome_counts()  # even with no demand
    zero = Decimal(0)
    for key, demand in problem.demands.items():
        price = prices.get(demand.material, zero)
        value = _line_amount(price, demand.quantity)
        names = ["total"] + ([group.get(key, "?")] if group is not None else [])
        if key in refused:
            for name in names:
                bucket = buckets[name]
                bucket["refused_lines"] += 1
                bucket["refused_value"] += value
            continue
        outcome, late, unmet = shares.get(key, ("unmet", 0, 0))
        parts = (
            ("on_time", demand.quantity - late - unmet),
            ("late", late),
            ("unmet", unmet),
        )
        amounts = [(_VALUES[o], _line_amount(price, q) if q else zero) for o, q in parts]
        for name in names:
            bucket = buckets[name]
            bucket["lines"] += 1
            bucket[_LINES[outcome]] += 1
            bucket["value"] += value
            for field, amount in amounts:
                bucket[field] += amount
    return {
        name: {k: _yuan(v) if isinstance(v, Decimal) else v for k, v in bucket.items()}
        for name, bucket in buckets.items()
    }


def spend_kpis(problem: MatchingProblem, plan: Plan) -> dict[str, Any]:
    """What the plan pays by source (lines, spend), its total, and the below-quota penalty the
    engine priced in (not paid: the objective's cost is spend + penalty)."""
    by_source: dict[str, dict[str, Any]] = defaultdict(lambda: {"lines": 0, "spend": Decimal(0)})
    used: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        ref = problem.sources[a.source]
        by_source[ref.kind]["lines"] += 1
        by_source[ref.kind]["spend"] += _line_amount(ref.unit_cost, int(a.quantity))
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
    rate = Decimal(repr(problem.instance.policy.reserve_below_quota_penalty))
    spend = sum((row["spend"] for row in by_source.values()), Decimal(0))
    return {
        "by_source": {
            kind: {"lines": row["lines"], "spend": _yuan(row["spend"])}
            for kind, row in sorted(by_source.items())
        },
        "spend": _yuan(spend),
        "reserve_below_quota": {
            "positions_drawn_below": positions,
            "units_below_before": below_before,
            "units_below_after": below_after,
            "penalty_per_unit": _yuan(rate),
            "penalty": _yuan(rate * Decimal(repr(below_after))),
        },
    }


def compute_kpis(
    problem: MatchingProblem,
    plan: Plan,
    baseline: Plan,
    project_types: Mapping[str, str],
    *,
    prices: Mapping[str, Decimal],
    refused: Collection[str] = (),
) -> dict[str, Any]:
    """Summarise a plan (and the baseline's on the same instance) as JSON-ready numbers;
    `prices` are the materials' standard prices (the measure of value), `refused` the demands
    refused before matching (unmet in both plans, counted apart)."""
    kind_of = {
        key: "replenishment"
        if demand.replenish_warehouse_id
        else project_types.get(demand.project_id, "?")
        for key, demand in problem.demands.items()
    }
    shares = _shares(plan, problem)
    outcomes = outcome_kpis(
        problem, plan, prices=prices, group=kind_of, refused=refused, shares=shares
    )
    return {
        "totals": outcomes.pop("total"),
        "by_project_type": dict(sorted(outcomes.items())),
        **spend_kpis(problem, plan),
        "by_package": package_kpis(problem, plan, shares),
        "objective": plan.objective.model_dump(),
        "baseline": _baseline(problem, baseline, prices, refused),
    }


def package_kpis(
    problem: MatchingProblem,
    plan: Plan,
    shares: Mapping[str, tuple[str, int, int]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per project package: its lines on time, late and unmet, and the cost the run plans for it
    by source (what approval would commit from its budget); replenishment has no package."""
    if shares is None:
        shares = _shares(plan, problem)
    outcome = {key: share[0] for key, share in shares.items()}
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
        costs[demand.package or NO_PACKAGE][ref.kind] += _line_amount(
            ref.unit_cost, int(a.quantity)
        )
    for package, bucket in rows.items():
        by_kind = costs.get(package, {})
        bucket["cost_by_source"] = {k: _yuan(v) for k, v in sorted(by_kind.items())}
        bucket["cost"] = _yuan(sum(by_kind.values(), Decimal(0)))
    return dict(sorted(rows.items()))


def _baseline(
    problem: MatchingProblem,
    plan: Plan,
    prices: Mapping[str, Decimal],
    refused: Collection[str],
) -> dict[str, Any]:
    spend = spend_kpis(problem, plan)
    return {
        "method": "hand planner's rule (greedy)",
        "objective": plan.objective.model_dump(),
        **outcome_kpis(problem, plan, prices=prices, refused=refused)["total"],
        "spend": spend["spend"],
        "penalty": spend["reserve_below_quota"]["penalty"],
    }
