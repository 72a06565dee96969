"""The independent checker catches every kind of broken plan, and recomputes the tiers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from optimizer import Instance, Plan, check_plan, read_plan, solve_document, validate_instance


def _pair(tiny: dict) -> tuple[Instance, dict[str, Any]]:
    instance = validate_instance(tiny)
    assert not isinstance(instance, list)
    return instance, solve_document(tiny).model_dump(mode="json", by_alias=True)


def as_plan(plan: dict) -> Plan:
    """Read an edited plan document the way `gridsupply check` reads a file."""
    return read_plan(json.dumps(plan))


def _alloc(plan: dict, demand: str, source: str) -> dict:
    return next(a for a in plan["allocations"] if a["demand"] == demand and a["source"] == source)


def test_the_optimal_plan_checks_clean(tiny: dict) -> None:
    instance, plan = _pair(tiny)
    report = check_plan(instance, as_plan(plan))
    assert report.feasible
    assert report.tiers() == (0.0, 0.0, 628150.0)


BREAKAGES: dict[str, tuple[Callable[[dict], None], str]] = {
    "over-allocates a source": (
        lambda p: _alloc(p, "D4", "A-2026-017").update(source="R-HC-TR400", arrival="2026-11-30"),
        "source R-HC-TR400: 4.0 taken but only 2",
    ),
    "gives a demand more than asked": (
        lambda p: _alloc(p, "D5", "R-RS-MB").update(quantity=3),
        "demand D5: 5.0 supplied but only 3",
    ),
    "wrong arrival": (
        lambda p: _alloc(p, "D2", "R-HC-TR400").update(arrival="2026-11-30"),
        "arrival should be 2026-12-01",
    ),
    "wrong late days": (
        lambda p: _alloc(p, "D2", "R-HC-TR400").update(late_days=2),
        "late_days should be 0",
    ),
    "35 kV from reserve": (
        lambda p: _alloc(p, "D3", "E-C35").update(source="R-HC-C35", arrival="2026-12-01"),
        "a 35kV demand cannot use reserve",
    ),
    "wrong material": (
        lambda p: _alloc(p, "D5", "R-RS-MB").update(source="R-HC-C35", arrival="2026-12-02"),
        "material METER-BOX cannot come from a source of CABLE-35-300",
    ),
    "unknown source": (
        lambda p: _alloc(p, "D5", "R-RS-MB").update(source="GHOST"),
        "unknown source",
    ),
    "fraction on a whole-number instance": (
        lambda p: _alloc(p, "D3", "E-C35").update(quantity=299.5),
        "fractional quantity 299.5",
    ),
    "silent shortfall": (
        lambda p: p["allocations"].remove(_alloc(p, "D4", "A-2026-017")),
        "demand D4: 2.0 unmet but the plan's unmet list says None",
    ),
    "misstated cost": (
        lambda p: p["objective"].update(cost=600000),
        "objective cost: plan says 600000.0, recomputed 628150.0",
    ),
    "late line not listed": (
        lambda p: _alloc(p, "D2", "R-HC-TR400").update(
            source="E-TR400", arrival="2026-12-21", late_days=17
        ),
        "demand D2: 17 days late but the late list says None",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_checker_catches(tiny: dict, breakage: str) -> None:
    instance, plan = _pair(tiny)
    change, expected = BREAKAGES[breakage]
    change(plan)
    report = check_plan(instance, as_plan(plan))
    assert not report.feasible
    assert any(expected in problem for problem in report.problems), report.problems


def test_late_and_reason_bookkeeping(tiny: dict) -> None:
    tiny["demands"][3]["need_by"] = "2026-12-10"  # D4 can now only be late (agreement 12-12)
    instance, plan = _pair(tiny)
    assert [(e["demand"], e["late_days"]) for e in plan["late"]] == [("D4", 2)]
    assert check_plan(instance, as_plan(plan)).feasible

    plan["late"][0]["late_days"] = 1
    assert any("2 days late" in p for p in check_plan(instance, as_plan(plan)).problems)
    plan["late"][0]["late_days"] = 2
    plan["late"][0]["reason"] = " "
    assert any("no reason" in p for p in check_plan(instance, as_plan(plan)).problems)
    plan["late"] = []
    assert any("late list says None" in p for p in check_plan(instance, as_plan(plan)).problems)


def test_quota_penalty_is_recomputed(tiny: dict) -> None:
    instance, plan = _pair(tiny)
    # Take the meter boxes all from reserve: 3 of 5 leave 2, two below the quota of 4.
    for a in [a for a in plan["allocations"] if a["demand"] == "D5"]:
        plan["allocations"].remove(a)
    plan["allocations"].append(
        {
            "demand": "D5",
            "source": "R-RS-MB",
            "quantity": 3,
            "arrival": "2026-11-30",
            "late_days": 0,
        }
    )
    report = check_plan(instance, as_plan(plan))
    assert report.cost == 628150 - 2650 + 3 * 850 + 2 * 5000
