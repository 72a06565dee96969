"""An independent reference optimum: the contract's three tiers as sequential CP-SAT models.

Written straight from the contract text (not from the flow model): integer variables per eligible
pair, tier 1 minimised, fixed, tier 2 minimised, fixed, tier 3 minimised — tier 3 with the
below-quota penalty and each source's floor left unused, each a variable bounded below by its
shortfall. Small instances only (whole-number quantities and floors, money in cents).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ortools.sat.python import cp_model

CENTS = 100  # the strategies use money with at most two decimals


def reference_tiers(doc: dict[str, Any]) -> tuple[float, float, float]:
    """Return the lexicographically optimal (unmet_weighted, lateness_weighted, cost)."""
    days = {(t["from"], t["to"]): t["days"] for t in doc["transport"]}
    penalty = round(doc.get("policy", {}).get("reserve_below_quota_penalty", 0) * CENTS)
    model = cp_model.CpModel()
    total_qty = sum(d["quantity"] for d in doc["demands"])
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    late: dict[tuple[int, int], int] = {}
    for i, d in enumerate(doc["demands"]):
        for j, s in enumerate(doc["sources"]):
            if s["material"] != d["material"]:
                continue
            if d["voltage_class"] in ("35kV", "110kV") and s["kind"] in ("reserve", "consignment"):
                continue
            trip = 0 if s["location"] == d["location"] else days[(s["location"], d["location"])]
            arrival = date.fromisoformat(s["ready"]).toordinal() + trip
            late[i, j] = max(0, arrival - date.fromisoformat(d["need_by"]).toordinal())
            cap = d["quantity"] if s["quantity"] is None else min(d["quantity"], s["quantity"])
            x[i, j] = model.new_int_var(0, cap, f"x{i}_{j}")
    unmet_terms, late_terms, cost_terms = [], [], []
    for i, d in enumerate(doc["demands"]):
        served = sum(v for (a, _), v in x.items() if a == i)
        model.add(served <= d["quantity"])
        unmet_terms.append(d["weight"] * (d["quantity"] - served))
        late_terms += [d["weight"] * late[i, j] * v for (a, j), v in x.items() if a == i]
    for j, s in enumerate(doc["sources"]):
        used = sum(v for (_, b), v in x.items() if b == j)
        if s["quantity"] is not None:
            model.add(used <= s["quantity"])
        cost_terms += [round(s["unit_cost"] * CENTS) * v for (_, b), v in x.items() if b == j]
        if s["kind"] == "reserve" and penalty:
            below = model.new_int_var(0, total_qty + s.get("quota", 0), f"below{j}")
            model.add(below >= s.get("quota", 0) - (s["quantity"] - used))
            cost_terms.append(penalty * below)
        floor, floor_penalty = s.get("floor", 0), round(s.get("floor_penalty", 0) * CENTS)
        if floor and floor_penalty:  # each unit of the floor left unused costs its penalty
            short = model.new_int_var(0, floor, f"short{j}")
            model.add(short >= floor - used)
            cost_terms.append(floor_penalty * short)
    tiers = [sum(unmet_terms), sum(late_terms), sum(cost_terms)]
    values = []
    for tier in tiers:
        model.minimize(tier)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        status = solver.solve(model)
        assert status == cp_model.OPTIMAL, solver.status_name(status)
        best = round(solver.objective_value)
        values.append(best)
        model.add(tier == best)
    return float(values[0]), float(values[1]), values[2] / CENTS
