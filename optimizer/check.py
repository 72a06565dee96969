"""An independent plan checker: every contract rule, re-derived from the instance, no solver.

Deliberately shares no code with the model (`network`, `model`, `solve`): it recomputes
arrivals, lateness, totals and the three tiers with plain Python and exact fractions, so a bug
in the optimizer's arithmetic cannot also hide here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from optimizer.contract import Instance, LateLine, Objective, Plan, UnmetLine

# The contract's tolerances (relative) on tiers 1-2 and on tier 3.
TOLERANCE = (1e-6, 1e-6, 1e-5)


@dataclass
class CheckReport:
    """What the checker found: the problems (none means feasible) and the recomputed tiers."""

    problems: list[str] = field(default_factory=list)
    unmet_weighted: Fraction = Fraction(0)
    lateness_weighted: Fraction = Fraction(0)
    cost: Fraction = Fraction(0)

    @property
    def feasible(self) -> bool:
        return not self.problems

    def tiers(self) -> tuple[float, float, float]:
        return float(self.unmet_weighted), float(self.lateness_weighted), float(self.cost)


def _exact(value: float | int | None) -> Fraction | int:
    # Whole numbers stay Python ints: as exact as a Fraction, and far cheaper to add up.
    return _exact_float(value) if isinstance(value, float) else (value or 0)


@lru_cache(maxsize=1 << 16)  # a plan repeats its few prices, weights and quantities
def _exact_float(value: float) -> Fraction | int:
    # Decimal(repr) reads the number as written in JSON, not its nearest binary double.
    exact = Fraction(Decimal(repr(value)))
    return exact.numerator if exact.denominator == 1 else exact


def check_plan(instance: Instance, plan: Plan) -> CheckReport:
    """Verify a plan against its instance and recompute its three tiers."""
    report = CheckReport()
    problem = report.problems.append
    if plan.status == "invalid":
        problem("plan status is invalid: there is nothing to check")
        return report
    demands = {d.id: d for d in instance.demands}
    sources = {s.id: s for s in instance.sources}
    days = {(t.from_, t.to): t.days for t in instance.transport}
    whole = all(
        float(v).is_integer()
        for v in [d.quantity for d in instance.demands]
        + [s.quantity for s in instance.sources if s.quantity is not None]
    )

    served: dict[str, Fraction | int] = defaultdict(int)
    taken: dict[str, Fraction | int] = defaultdict(int)
    # The tiers are summed in locals (ints while every number is whole) and stored at the end.
    unmet_weighted: Fraction | int = 0
    lateness_weighted: Fraction | int = 0
    cost: Fraction | int = 0
    worst_late: dict[str, int] = defaultdict(int)
    seen_pairs: set[tuple[str, str]] = set()
    for i, alloc in enumerate(plan.allocations):
        where = f"allocation {i} ({alloc.demand} <- {alloc.source})"
        d, s = demands.get(alloc.demand), sources.get(alloc.source)
        if d is None or s is None:
            problem(f"{where}: unknown {'demand' if d is None else 'source'}")
            continue
        if (d.id, s.id) in seen_pairs:
            problem(f"{where}: the same demand and source appear twice")
        seen_pairs.add((d.id, s.id))
        if d.material != s.material:
            problem(f"{where}: material {d.material} cannot come from a source of {s.material}")
        if d.voltage_class in ("35kV", "110kV") and s.kind in ("reserve", "consignment"):
            problem(f"{where}: a {d.voltage_class} demand cannot use {s.kind}")
        qty = _exact(alloc.quantity)
        if qty <= 0:
            problem(f"{where}: quantity must be positive, got {alloc.quantity}")
        if whole and qty.denominator != 1:
            problem(f"{where}: whole-number instance but fractional quantity {alloc.quantity}")
        trip = 0 if s.location == d.location else days.get((s.location, d.location))
        if trip is None:
            problem(f"{where}: no transport from {s.location} to {d.location}")
            continue
        arrival = s.ready + timedelta(days=trip)
        if alloc.arrival != arrival:
            problem(f"{where}: arrival should be {arrival}, plan says {alloc.arrival}")
        late = max(0, (arrival - d.need_by).days)
        if alloc.late_days != late:
            problem(f"{where}: late_days should be {late}, plan says {alloc.late_days}")
        served[d.id] += qty
        taken[s.id] += qty
        worst_late[d.id] = max(worst_late[d.id], late)
        lateness_weighted += _exact(d.weight) * late * qty

    for source_id, qty in taken.items():  # each source's price times all taken from it
        cost += _exact(sources[source_id].unit_cost) * qty
    for s in instance.sources:
        if s.quantity is not None and taken[s.id] > _exact(s.quantity):
            problem(f"source {s.id}: {float(taken[s.id])} taken but only {s.quantity} available")
        if s.kind == "reserve" and s.quantity is not None:
            left = _exact(s.quantity) - taken[s.id]
            below = max(Fraction(0), _exact(s.quota) - left)
            cost += _exact(instance.policy.reserve_below_quota_penalty) * below
        if s.floor and s.floor_penalty:  # each unit of its floor left unused costs the penalty
            unused = max(Fraction(0), _exact(s.floor) - taken[s.id])
            cost += _exact(s.floor_penalty) * unused

    unmet_listed = {u.demand: _exact(u.quantity) for u in plan.unmet}
    late_listed = {entry.demand: entry.late_days for entry in plan.late}
    for name, listed in (
        ("unmet", [u.demand for u in plan.unmet]),
        ("late", [e.demand for e in plan.late]),
    ):
        for ident in listed:
            if ident not in demands:
                problem(f"{name} entry names unknown demand {ident}")
        if len(set(listed)) != len(listed):
            problem(f"{name} entries name a demand more than once")
    for d in instance.demands:
        short = _exact(d.quantity) - served[d.id]
        if short < 0:
            problem(f"demand {d.id}: {float(served[d.id])} supplied but only {d.quantity} asked")
        unmet_weighted += _exact(d.weight) * max(short, 0)
        if short > 0 and unmet_listed.get(d.id) != short:
            problem(
                f"demand {d.id}: {float(short)} unmet but the plan's unmet list says "
                f"{unmet_listed.get(d.id)}"
            )
        if short <= 0 and d.id in unmet_listed:
            problem(f"demand {d.id}: fully supplied but listed as unmet")
        if worst_late[d.id] and late_listed.get(d.id) != worst_late[d.id]:
            problem(
                f"demand {d.id}: {worst_late[d.id]} days late but the late list says "
                f"{late_listed.get(d.id)}"
            )
        if not worst_late[d.id] and d.id in late_listed:
            problem(f"demand {d.id}: on time but listed as late")
    entries: list[UnmetLine | LateLine] = [*plan.unmet, *plan.late]
    for entry in entries:
        if not entry.reason.strip():
            problem(f"demand {entry.demand}: no reason given (every late or unmet line needs one)")

    report.unmet_weighted = Fraction(unmet_weighted)
    report.lateness_weighted = Fraction(lateness_weighted)
    report.cost = Fraction(cost)
    _compare_objective(report, plan.objective)
    return report


def _compare_objective(report: CheckReport, stated: Objective) -> None:
    recomputed = report.tiers()
    names = ("unmet_weighted", "lateness_weighted", "cost")
    given = (stated.unmet_weighted, stated.lateness_weighted, stated.cost)
    for name, mine, theirs, tol in zip(names, recomputed, given, TOLERANCE, strict=True):
        if abs(mine - theirs) > tol * max(1.0, abs(mine)):
            report.problems.append(f"objective {name}: plan says {theirs}, recomputed {mine}")


def tiers_close(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """Whether two tier triples are equal within the contract's tolerances."""
    return all(
        abs(x - y) <= tol * max(1.0, abs(x), abs(y))
        for x, y, tol in zip(a, b, TOLERANCE, strict=True)
    )


def lex_compare(a: tuple[float, float, float], b: tuple[float, float, float]) -> int:
    """-1 if a is better than b by the tiers in order, 1 if worse, 0 if equal within tolerance."""
    for x, y, tol in zip(a, b, TOLERANCE, strict=True):
        if abs(x - y) > tol * max(1.0, abs(x), abs(y)):
            return -1 if x < y else 1
    return 0
