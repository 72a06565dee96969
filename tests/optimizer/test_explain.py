"""Every late and unmet line says, in plain words, what would have been on time and why not."""

from __future__ import annotations

from optimizer import solve_document


def _reasons(plan) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {e.demand: e.reason for e in [*plan.late, *plan.unmet]}


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


def test_late_line_with_no_source_in_time_names_the_voltage_rule(tiny: dict) -> None:
    tiny["demands"][2]["need_by"] = "2026-12-05"  # 35 kV cable: agreement arrives 12-14
    plan = solve_document(tiny)
    reason = _reasons(plan)["D3"]
    assert "no eligible source arrives by then" in reason
    assert "35 kV demand cannot use reserve R-HC-C35" in reason
    assert "earliest other source agreement A-2026-031 arrives 12-14" in reason


def test_unmet_line_with_no_eligible_source(tiny: dict) -> None:
    tiny["sources"] = [s for s in tiny["sources"] if s["id"] not in {"A-2026-031", "E-C35"}]
    plan = solve_document(tiny)
    assert [(u.demand, u.quantity) for u in plan.unmet] == [("D3", 800)]
    assert _reasons(plan)["D3"] == "no eligible source: 35 kV demand cannot use reserve R-HC-C35"


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


def test_no_reason_is_empty_on_a_larger_instance() -> None:
    from tests.optimizer.conftest import load

    plan = solve_document(load("medium-400"))
    assert plan.late and plan.unmet
    assert all(len(e.reason) > 20 for e in [*plan.late, *plan.unmet])
    assert all("needed by" in e.reason for e in plan.late)
