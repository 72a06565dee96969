"""Every late and unmet line says, in plain words, what would have been on time and why not,
with a cause code; each statement is true of the plan (tests/optimizer/truth.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from optimizer import Plan, read_plan, solve, solve_document, validate_instance
from optimizer.contract import (
    CAUSES,
    LATE_CAUSES,
    UNMET_CAUSES,
    Instance,
    LateLine,
    UnmetLine,
)
from optimizer.explain import explain
from optimizer.network import build_matching
from tests.optimizer.truth import fact_problems, facts_of, false_statements, said_problems

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def _entries(plan: Plan) -> list[LateLine | UnmetLine]:
    return [*plan.late, *plan.unmet]


def _reasons(plan: Plan) -> dict[str, str]:
    return {e.demand: e.reason for e in _entries(plan)}


def _causes(plan: Plan) -> dict[str, str]:
    return {e.demand: e.cause for e in _entries(plan)}


def _line(ident: str, need_by: str, quantity: int = 1, **more: Any) -> dict[str, Any]:
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


def _source(
    ident: str, kind: str, ready: str, quantity: int | None, cost: float, **more: Any
) -> dict[str, Any]:
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


def _doc(
    demands: list[dict[str, Any]], sources: list[dict[str, Any]], penalty: float = 0
) -> dict[str, Any]:
    return {
        "version": 1,
        "plan_date": "2026-11-30",
        "demands": demands,
        "sources": sources,
        "transport": [],
        "policy": {"reserve_below_quota_penalty": penalty},
    }


def _solved(doc: dict[str, Any]) -> tuple[Instance, Plan]:
    instance = validate_instance(doc)
    assert not isinstance(instance, list), instance
    plan = solve(instance)
    assert plan.status == "optimal"
    assert false_statements(instance, plan) == []
    return instance, plan


def _explained(doc: dict[str, Any], flow: dict[tuple[str, str], int]) -> dict[str, dict[str, Any]]:
    """Explain a plan given by hand, (demand, source) -> quantity: not what the engine chooses."""
    instance = validate_instance(doc)
    assert not isinstance(instance, list), instance
    m = build_matching(instance)
    x = np.zeros(len(m.a_demand), dtype=np.int64)
    ids = [d.id for d in instance.demands], [s.id for s in instance.sources]
    for (d, s), q in flow.items():
        (arc,) = [a for a in m.arcs_of(ids[0].index(d)) if m.a_source[a] == ids[1].index(s)]
        x[arc] = q
    unmet, late = explain(m, x)
    return {e["demand"]: e for e in [*unmet, *late]}


def test_late_line_names_the_on_time_source_and_who_took_it(tiny: dict) -> None:
    # A third urgent transformer line: reserve (2 units) cannot cover all three on time.
    tiny["demands"].append(
        {
            "id": "D6",
            "project": "P-urgent",
            "material": "TR-400",
            "quantity": 1,
            "need_by": "2026-12-03",
            "voltage_class": "10kV",
            "location": "HC",
            "weight": 1,
        }
    )
    plan = solve_document(tiny)
    late = {e.demand: e for e in plan.late}
    assert set(late) == {"D1"}  # D1 (need-by 12-10) waits least: 12-12 is 2 days late
    assert late["D1"].late_days == 2
    reason = late["D1"].reason
    assert "needed by 12-10" in reason
    assert "reserve R-HC-TR400 (arrives 11-30) was used up by" in reason
    assert "D2 (weight 2, need-by 12-04)" in reason and "D6 (weight 1, need-by 12-03)" in reason
    assert reason.index("D2") < reason.index("D6")  # heavier weight named first
    assert "earliest other source agreement A-2026-017 arrives 12-12" in reason
    assert late["D1"].cause == "used_up"


def test_late_line_with_no_source_in_time_names_the_voltage_rule(tiny: dict) -> None:
    tiny["demands"][2]["need_by"] = "2026-12-05"  # 35 kV cable: agreement arrives 12-14
    plan = solve_document(tiny)
    reason = _reasons(plan)["D3"]
    assert "no eligible source arrives by then" in reason
    assert "35 kV demand cannot use reserve R-HC-C35" in reason
    assert "earliest other source agreement A-2026-031 arrives 12-14" in reason
    assert _causes(plan)["D3"] == "not_eligible"


def test_unmet_line_with_no_eligible_source(tiny: dict) -> None:
    tiny["sources"] = [s for s in tiny["sources"] if s["id"] not in {"A-2026-031", "E-C35"}]
    plan = solve_document(tiny)
    assert [(u.demand, u.quantity) for u in plan.unmet] == [("D3", 800)]
    assert _reasons(plan)["D3"] == "no eligible source: 35 kV demand cannot use reserve R-HC-C35"
    assert _causes(plan)["D3"] == "not_eligible"


def test_unmet_line_names_who_used_up_the_eligible_sources(tiny: dict) -> None:
    tiny["sources"] = [s for s in tiny["sources"] if s["id"] != "E-C35"]
    tiny["demands"].append(
        {
            "id": "D7",
            "project": "P-key",
            "material": "CABLE-35-300",
            "quantity": 300,
            "need_by": "2027-01-05",
            "voltage_class": "35kV",
            "location": "WD",
            "weight": 3,
        }
    )
    plan = solve_document(tiny)
    unmet = {u.demand: u.quantity for u in plan.unmet}
    assert unmet == {"D3": 600}  # the key project (weight 3) is served first
    reason = _reasons(plan)["D3"]
    assert "every eligible source is used up" in reason
    assert "agreement A-2026-031 (500) went to D7 (weight 3, need-by 2027-01-05)" in reason
    assert "no emergency procurement source for CABLE-35-300" in reason
    assert _causes(plan)["D3"] == "used_up"


def test_no_reason_is_empty_on_a_larger_instance() -> None:
    from tests.optimizer.conftest import load

    plan = solve_document(load("medium-400"))
    assert plan.late and plan.unmet
    assert all(len(e.reason) > 20 for e in _entries(plan))
    assert all("needed by" in e.reason for e in plan.late)


def test_a_cheaper_source_the_same_day_is_named_not_called_used_up() -> None:
    # The case (YK26-GQ-002/1): the reserve still has stock above its quota, but the
    # consignment arrives the same day and costs less; no one used the reserve up.
    doc = _doc(
        [_line("D1", "2026-11-30", 250)],
        [
            _source("R:CENTRAL", "reserve", "2026-12-01", 3399, 140, quota=3000),
            _source("C:36", "consignment", "2026-12-01", 300, 138.45),
        ],
        penalty=200,
    )
    _, plan = _solved(doc)
    assert [(a.source, a.quantity) for a in plan.allocations] == [("C:36", 250)]
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source reserve R:CENTRAL arrives 12-01; "
        "consignment C:36 arrives the same day at a lower cost (138.45 vs 140 per unit) "
        "and served this line"
    )
    assert _causes(plan)["D1"] == "none_in_time"


def test_reserve_kept_at_its_quota_says_so_with_the_penalty() -> None:
    # Cheaper than the agreement line arriving the same day (100 vs 120), dearer once the
    # penalty for drawing it below its quota is counted (100 + 50).
    doc = _doc(
        [_line("D1", "2026-11-30", 3)],
        [
            _source("R1", "reserve", "2026-12-01", 5, 100, quota=5),
            _source("A1", "agreement", "2026-12-01", 10, 120),
        ],
        penalty=50,
    )
    _, plan = _solved(doc)
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source reserve R1 arrives 12-01; "
        "it was kept for its quota (5 left, quota 5, penalty 50 per unit drawn below it); "
        "served from agreement A1 arriving 12-01"
    )
    assert _causes(plan)["D1"] == "none_in_time"  # the quota decided the source, not the delay


def test_lateness_outranks_the_quota_penalty() -> None:
    # The same reserve, on time: the optimum draws it below its quota rather than let the line
    # wait (the penalty is a cost, tier 3). So no optimal plan holds on-time reserve at its
    # quota while a line waits: `kept_for_quota` on a late line marks a plan made otherwise.
    doc = _doc(
        [_line("D1", "2026-11-30", 3)],
        [
            _source("R1", "reserve", "2026-11-30", 5, 100, quota=5),
            _source("A1", "agreement", "2026-12-01", 10, 120),
        ],
        penalty=50,
    )
    _, plan = _solved(doc)
    assert plan.late == [] and [a.source for a in plan.allocations] == ["R1"]


def test_a_plan_holding_on_time_reserve_at_its_quota_is_kept_for_quota() -> None:
    doc = _doc(
        [_line("D1", "2026-11-30", 3)],
        [
            _source("R1", "reserve", "2026-11-30", 5, 100, quota=5),
            _source("A1", "agreement", "2026-12-01", 10, 120),
        ],
        penalty=50,
    )
    entries = _explained(doc, {("D1", "A1"): 3})
    assert entries["D1"]["cause"] == "kept_for_quota"
    assert entries["D1"]["reason"] == (
        "needed by 11-30; reserve R1 (arrives 11-30) was kept for its quota "
        "(5 left, quota 5, penalty 50 per unit drawn below it); "
        "earliest other source agreement A1 arrives 12-01"
    )


def test_a_plan_leaving_on_time_stock_unused_says_it_still_had_it() -> None:
    doc = _doc(
        [_line("D1", "2026-11-30", 3)],
        [
            _source("A1", "agreement", "2026-11-30", 10, 100),
            _source("A2", "agreement", "2026-12-02", 10, 90),
        ],
    )
    entries = _explained(doc, {("D1", "A2"): 3})
    reason = entries["D1"]["reason"]
    assert reason.startswith("needed by 11-30; agreement A1 (arrives 11-30) still had 10 left;")
    assert "used up" not in reason
    # No code says "left unused": `used_up` is the label of last resort; no engine here makes
    # such a plan (test_properties: test_every_reason_is_true_of_its_plan).
    assert entries["D1"]["cause"] == "used_up"


def test_no_eligible_source_in_time() -> None:
    doc = _doc(
        [_line("D1", "2026-11-30", 2)],
        [_source("A1", "agreement", "2026-12-05", 10, 100)],
    )
    _, plan = _solved(doc)
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source agreement A1 arrives 12-05"
    )
    assert _causes(plan)["D1"] == "none_in_time"


def test_only_sources_ruled_out_at_35_kv_would_be_on_time() -> None:
    doc = _doc(
        [_line("D1", "2026-11-30", 2, voltage_class="35kV")],
        [
            _source("C1", "consignment", "2026-11-30", 10, 90),
            _source("R1", "reserve", "2026-11-30", 0, 90),  # no stock: not worth naming
            _source("A1", "agreement", "2026-12-05", 10, 100),
        ],
    )
    _, plan = _solved(doc)
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "35 kV demand cannot use consignment C1; "
        "earliest other source agreement A1 arrives 12-05"
    )
    assert _causes(plan)["D1"] == "not_eligible"


def test_no_source_of_the_material_at_all() -> None:
    doc = _doc([_line("D1", "2026-11-30", 2)], [])
    _, plan = _solved(doc)
    assert _reasons(plan)["D1"] == "no eligible source: no source of CBLV-4x50 in the instance"
    assert _causes(plan)["D1"] == "no_source"


def test_no_source_holds_stock_of_the_material() -> None:
    doc = _doc(
        [_line("D1", "2026-11-30", 2, voltage_class="110kV")],
        [
            _source("A1", "agreement", "2026-11-30", 0, 100),
            _source("R1", "reserve", "2026-11-30", 0, 100),
        ],
    )
    _, plan = _solved(doc)
    assert _reasons(plan)["D1"] == "no source of CBLV-4x50 has stock; agreement A1 has no stock"
    assert _causes(plan)["D1"] == "no_source"


def test_unmet_lines_name_who_used_the_source_up_and_never_this_line_wrongly() -> None:
    doc = _doc(
        [_line("D1", "2026-12-10", 4), _line("D2", "2026-12-01", 3, weight=3)],
        [_source("E1", "emergency", "2026-12-05", 5, 300)],
    )
    _, plan = _solved(doc)
    assert _reasons(plan)["D1"] == (
        "every eligible source is used up; emergency procurement E1 (5) went to "
        "D2 (weight 3, need-by 12-01)"
    )
    assert _causes(plan)["D1"] == "used_up"


def test_cause_vocabulary_and_the_plan_schema_agree() -> None:
    assert LATE_CAUSES == ("used_up", "kept_for_quota", "none_in_time", "not_eligible")
    assert UNMET_CAUSES == ("used_up", "not_eligible", "no_source")
    assert set(CAUSES) == set(LATE_CAUSES) | set(UNMET_CAUSES)
    schema = json.loads((CONTRACTS / "matching-plan.schema.json").read_text(encoding="utf-8"))
    listed = {
        k: schema["properties"][k]["items"]["properties"]["cause"]["enum"]
        for k in ("late", "unmet")
    }
    assert listed == {"late": [*LATE_CAUSES, ""], "unmet": [*UNMET_CAUSES, ""]}


def test_plans_written_before_causes_still_read() -> None:
    doc = _doc([_line("D1", "2026-11-30", 2), _line("D2", "2026-11-30", 2, material="X")], [])
    doc["sources"] = [_source("A1", "agreement", "2026-12-05", 1, 100)]
    old = solve_document(doc).model_dump(mode="json", by_alias=True)
    assert old["late"] and old["unmet"]
    for entry in [*old["late"], *old["unmet"]]:
        del entry["cause"]
    plan = read_plan(json.dumps(old))
    assert all(e.cause == "" for e in _entries(plan))


def test_the_truth_check_catches_the_old_false_used_up() -> None:
    doc = _doc(
        [_line("D1", "2026-11-30", 250)],
        [
            _source("R:CENTRAL", "reserve", "2026-12-01", 3399, 140, quota=3000),
            _source("C:36", "consignment", "2026-12-01", 300, 138.45),
        ],
        penalty=200,
    )
    instance, plan = _solved(doc)
    unmet, late = facts_of(instance, plan)
    other = late[0].earliest_other
    assert other is not None and other.status == "cheaper"
    # What the explainer used to say: the reserve "was used up by this line".
    lie = [
        dataclasses.replace(late[0], earliest_other=dataclasses.replace(other, status="used_up"))
    ]
    assert "D1/R:CENTRAL: it is not used up" in fact_problems(instance, plan, unmet, lie)
    old_words = plan.late[0].model_copy(
        update={
            "reason": "needed by 11-30; no eligible source arrives by then; earliest other "
            "source reserve R:CENTRAL arrives 12-01; it was used up by this line; served from "
            "consignment C:36 arriving 12-01"
        }
    )
    old = plan.model_copy(update={"late": [old_words]})
    assert said_problems(instance, old, unmet, late)
    held = dataclasses.replace(other, status="kept_for_quota", quota=3000, penalty=200)
    lie = [dataclasses.replace(late[0], earliest_other=held)]
    assert "D1/R:CENTRAL: it is not reserve held at its quota" in fact_problems(
        instance, plan, unmet, lie
    )
