"""Small hand-made instances for the reason tests: a line, a source, an instance, and plans made
by the engine or by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer import Plan, solve, validate_instance
from optimizer.contract import Instance
from optimizer.explain import explain
from optimizer.network import build_matching
from optimizer.solve import allocations, objective
from tests.optimizer.truth import false_statements


def demand_line(ident: str, need_by: str, quantity: int = 1, **more: Any) -> dict[str, Any]:
    """A 10 kV line of cable CBLV-4x50 at HC, weight 1 unless `more` says otherwise."""
    line = {
        "id": ident,
        "project": "P",
        "material": "CBLV-4x50",
        "quantity": quantity,
        "need_by": need_by,
        "voltage_class": "10kV",
        "location": "HC",
        "weight": 1,
    }
    return line | more


def source_row(
    ident: str, kind: str, ready: str, quantity: int | None, cost: float, **more: Any
) -> dict[str, Any]:
    """A source of cable CBLV-4x50 at HC."""
    source = {
        "id": ident,
        "kind": kind,
        "material": "CBLV-4x50",
        "quantity": quantity,
        "location": "HC",
        "ready": ready,
        "unit_cost": cost,
    }
    return source | more


def instance_doc(
    demands: list[dict[str, Any]], sources: list[dict[str, Any]], penalty: float = 0
) -> dict[str, Any]:
    """An instance planned on 2026-11-30, everything at one place."""
    return {
        "version": 1,
        "plan_date": "2026-11-30",
        "demands": demands,
        "sources": sources,
        "transport": [],
        "policy": {"reserve_below_quota_penalty": penalty},
    }


def solved(doc: dict[str, Any]) -> tuple[Instance, Plan]:
    """Solve to optimality; every reason of the plan, in both languages, is true."""
    instance = validate_instance(doc)
    assert not isinstance(instance, list), instance
    plan = solve(instance)
    assert plan.status == "optimal"
    assert false_statements(instance, plan) == []
    return instance, plan


def explained(doc: dict[str, Any], flow: dict[tuple[str, str], int]) -> dict[str, dict[str, Any]]:
    """Explain a plan given by hand, (demand, source) -> quantity: not what the engine chooses;
    every reason of it, in both languages, is true."""
    instance = validate_instance(doc)
    assert not isinstance(instance, list), instance
    m = build_matching(instance)
    x = np.zeros(len(m.a_demand), dtype=np.int64)
    ids = [d.id for d in instance.demands], [s.id for s in instance.sources]
    for (d, s), q in flow.items():
        (arc,) = [a for a in m.arcs_of(ids[0].index(d)) if m.a_source[a] == ids[1].index(s)]
        x[arc] = q
    unmet, late = explain(m, x)
    plan = Plan.model_validate(
        {
            "status": "feasible",
            "objective": objective(m, x),
            "allocations": allocations(m, x),
            "unmet": unmet,
            "late": late,
        }
    )
    assert false_statements(instance, plan) == []
    return {e["demand"]: e for e in [*unmet, *late]}
