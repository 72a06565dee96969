"""Floors (`Source.floor`, `Source.floor_penalty`): the units of a source that should be used, an
agreement line's shortfall to the lower end of its execution band, each left unused costing its
penalty in tier 3. Hand-made cases, each checked by the engine, the independent checker and the
CP-SAT reference; their reasons; their validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from optimizer import Plan, check_plan, solve_document, validate_instance
from optimizer.contract import Source
from tests.optimizer.cases import demand_line, explained, instance_doc, solved, source_row
from tests.optimizer.reference import reference_tiers
from tests.optimizer.truth import ZH, fact_problems, facts_of, words_problems

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def _tiers(doc: dict[str, Any]) -> tuple[Plan, tuple[float, float, float]]:
    """Solve; the checker's tiers of the plan equal the reference's."""
    instance, plan = solved(doc)
    report = check_plan(instance, plan)
    assert report.problems == []
    assert report.tiers() == reference_tiers(doc)
    return plan, report.tiers()


def _got(plan: Plan) -> dict[str, float]:
    return {a.source: a.quantity for a in plan.allocations}


def _two_lines(floor_penalty: float, *, floor_ready: str = "2026-12-01") -> dict[str, Any]:
    """Ten units needed by 12-05; agreement A1 at 100 without a floor, A2 at 105 with a floor of
    10 (its shortfall to 80 % of its estimate)."""
    return instance_doc(
        [demand_line("D1", "2026-12-05", 10)],
        [
            source_row("A1", "agreement", "2026-12-01", 20, 100),
            source_row(
                "A2", "agreement", floor_ready, 20, 105, floor=10, floor_penalty=floor_penalty
            ),
        ],
    )


def test_the_floor_makes_a_pricier_on_time_line_win() -> None:
    # 10 × 105 = 1,050 from A2, against 10 × 100 + 10 × 20 unused floor = 1,200 from A1.
    plan, tiers = _tiers(_two_lines(20))
    assert _got(plan) == {"A2": 10}
    assert tiers == (0, 0, 1050)


def test_a_floor_penalty_below_the_price_gap_leaves_the_cheaper_line() -> None:
    # 10 × 100 + 10 × 4 = 1,040 from A1, against 1,050 from A2.
    plan, tiers = _tiers(_two_lines(4))
    assert _got(plan) == {"A1": 10}
    assert tiers == (0, 0, 1040)


@pytest.mark.parametrize("floor_penalty", [20, 1_000_000])
def test_lateness_still_wins_over_the_floor(floor_penalty: float) -> None:
    # A2 would arrive three days late: the line is served on time from A1, whatever its floor
    # costs unused (tier 2 outranks tier 3).
    plan, tiers = _tiers(_two_lines(floor_penalty, floor_ready="2026-12-08"))
    assert _got(plan) == {"A1": 10}
    assert plan.late == []
    assert tiers == (0, 0, 1000 + 10 * floor_penalty)


def test_a_reserve_floor_below_its_quota_carries_both_penalties() -> None:
    # Reserve R1: 10 in stock, quota 8, floor 5 at 30 a unit, the below-quota penalty 20. Its
    # units cost 100 − 30 (two, above the quota level), then 100 − 30 + 20 (three, in the floor
    # and below the quota), then 100 + 20; agreement A1 costs 105. Eight units: five from R1,
    # three from A1: 500 + 315 + 3 × 20 below the quota = 875 (six from R1: 890; four: 890).
    doc = instance_doc(
        [demand_line("D1", "2026-12-05", 8)],
        [
            source_row("R1", "reserve", "2026-12-01", 10, 100, quota=8, floor=5, floor_penalty=30),
            source_row("A1", "agreement", "2026-12-01", 20, 105),
        ],
        penalty=20,
    )
    plan, tiers = _tiers(doc)
    assert _got(plan) == {"R1": 5, "A1": 3}
    assert tiers == (0, 0, 875)


def test_floors_of_sources_no_line_can_use_still_count() -> None:
    # A floor on a material nobody asks for, and on an unlimited emergency source, is a cost the
    # plan cannot avoid: it is in tier 3 all the same.
    doc = _two_lines(20)
    doc["sources"] += [
        source_row("A9", "agreement", "2026-12-01", 5, 50, material="X", floor=4, floor_penalty=7),
        source_row("E1", "emergency", "2026-12-20", None, 300, floor=2, floor_penalty=1.5),
    ]
    plan, tiers = _tiers(doc)
    assert _got(plan) == {"A2": 10}
    assert tiers == (0, 0, 1050 + 28 + 3)


def _late_floor_doc() -> dict[str, Any]:
    # Everything arrives 12-01, after need-by: the line waits a day whatever serves it, and A2's
    # floor, not the price, picks the source.
    return instance_doc(
        [demand_line("D1", "2026-11-30", 10)],
        [
            source_row("A1", "agreement", "2026-12-01", 20, 100),
            source_row("A2", "agreement", "2026-12-01", 20, 105, floor=10, floor_penalty=20),
        ],
    )


def test_a_late_line_served_toward_a_floor_says_so_not_cheaper() -> None:
    _, plan = solved(_late_floor_doc())
    assert _got(plan) == {"A2": 10}
    [late] = plan.late
    assert late.reason == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source agreement A1 arrives 12-01; "
        "agreement A2 arrives the same day and served this line to bring its agreement line "
        "toward its execution band (floor 10, 10 used, penalty 20 per unit short)"
    )
    assert late.reason_zh == (
        "需到货 11-30；没有可用来源能按时到货；最早的其他来源为协议库存 A1，12-01 到货；"
        "协议库存 A2 同日到货，为使协议执行量达到下限已供本行（下限 10，已用 10，每少用一件罚 20 元）"
    )
    assert late.cause == "none_in_time"
    assert "cheaper" not in late.reason and "lower cost" not in late.reason


def test_a_floor_of_another_kind_is_its_floor_not_a_band() -> None:
    doc = _late_floor_doc()
    doc["sources"][1]["kind"] = "consignment"
    _, plan = solved(doc)
    [late] = plan.late
    assert late.reason.endswith(
        "consignment A2 arrives the same day and served this line toward its floor "
        "(floor 10, 10 used, penalty 20 per unit short)"
    )
    assert late.reason_zh.endswith(
        "供应商寄存 A2 同日到货，为使用量达到下限已供本行（下限 10，已用 10，每少用一件罚 20 元）"
    )


def test_the_truth_check_catches_a_false_floor() -> None:
    instance, plan = solved(_late_floor_doc())
    unmet, late = facts_of(instance, plan)
    other = late[0].earliest_other
    assert other is not None and other.status == "floor"
    for wrong, problem in (
        ({"floor_used": 9}, "A2's floor, use or floor penalty"),
        ({"floor_penalty": 25}, "A2's floor, use or floor penalty"),
        ({"status": "cheaper"}, "A2 is not cheaper"),
    ):
        lie = [dataclasses.replace(late[0], earliest_other=dataclasses.replace(other, **wrong))]
        assert any(problem in p for p in fact_problems(instance, plan, unmet, lie)), wrong
    text = plan.late[0].reason_zh
    assert words_problems(late[0], text, year=2026, words=ZH) == []
    for changed in (
        text.replace("下限 10", "下限 11"),
        text.replace("为使协议执行量", "为使用量"),
        text.replace("罚 20", "罚 2"),
    ):
        assert words_problems(late[0], changed, year=2026, words=ZH), changed


def test_a_source_used_past_its_floor_is_no_floor_reason() -> None:
    # A hand-made plan: A2 gives 15, five past its floor; the cheaper A1 idle the same day is
    # then said to still have stock (not optimal, and not explained by A2's floor).
    doc = _late_floor_doc()
    doc["demands"].append(demand_line("D2", "2026-12-05", 5))
    reasons = explained(doc, {("D1", "A2"): 10, ("D2", "A2"): 5})
    assert reasons["D1"]["reason"].endswith(
        "earliest other source agreement A1 arrives 12-01; it still had 20 left; "
        "served from agreement A2 arriving 12-01"
    )


# --- validation ---------------------------------------------------------------------------------


def _errors(doc: dict[str, Any]) -> set[tuple[str, str]]:
    result = validate_instance(doc)
    assert isinstance(result, list), "expected the instance to be rejected"
    return {(e.id, e.field) for e in result}


def test_without_floors_an_instance_means_what_it_did() -> None:
    doc = _two_lines(20)
    for s in doc["sources"]:
        s.pop("floor", None), s.pop("floor_penalty", None)
    instance = validate_instance(doc)
    assert not isinstance(instance, list)
    assert all(s.floor == 0 and s.floor_penalty == 0 for s in instance.sources)
    assert _got(solve_document(doc)) == {"A1": 10}


def test_a_floor_above_the_quantity_is_refused_naming_id_and_field() -> None:
    doc = _two_lines(20)
    doc["sources"][1]["floor"] = 21
    assert _errors(doc) == {("A2", "floor")}
    [error] = solve_document(doc).errors
    assert "21 is more than the quantity 20" in error.message


@pytest.mark.parametrize(
    ("field", "value"), [("floor", -1), ("floor_penalty", -0.5), ("floor", "3"), ("floor", True)]
)
def test_floor_fields_are_non_negative_numbers(field: str, value: Any) -> None:
    doc = _two_lines(20)
    doc["sources"][1][field] = value
    assert _errors(doc) == {("A2", field)}


def test_floors_and_floor_penalties_too_large_to_plan_exactly_are_named() -> None:
    doc = _two_lines(20)
    doc["sources"].append(source_row("E1", "emergency", "2026-12-20", None, 300, floor=1e20))
    assert _errors(doc) == {("E1", "floor")}
    doc = _two_lines(1e19)
    assert _errors(doc) == {("A2", "floor_penalty")}
    # 5e17 fits alone; times the network's 4 nodes + 1 it is past the engine's headroom (2⁶¹).
    doc = _two_lines(5e17)
    plan = solve_document(doc)
    assert plan.status == "invalid"
    [error] = plan.errors
    assert (error.id, error.field) == ("A2", "floor_penalty")
    assert "network of CBLV-4x50" in error.message


def test_a_floor_penalty_with_the_below_quota_penalty_is_named_when_both_pass() -> None:
    # Each fits alone (× 5: 4 nodes + 1); the floor units below the quota carry both and do not.
    doc = instance_doc(
        [demand_line("D1", "2026-12-05", 8)],
        [
            source_row(
                "R1", "reserve", "2026-12-01", 10, 100, quota=8, floor=5, floor_penalty=2.5e17
            ),
            source_row("A1", "agreement", "2026-12-01", 20, 105),
        ],
        penalty=2.5e17,
    )
    plan = solve_document(doc)
    assert plan.status == "invalid"
    assert [(e.id, e.field) for e in plan.errors] == [("R1", "floor_penalty")]
    doc["policy"]["reserve_below_quota_penalty"] = 1e16
    assert solve_document(doc).status == "optimal"


def test_the_instance_schema_lists_every_field_of_a_source() -> None:
    schema = json.loads((CONTRACTS / "matching-instance.schema.json").read_text(encoding="utf-8"))
    items = schema["properties"]["sources"]["items"]
    assert set(items["properties"]) == set(Source.model_fields)
    optional = {name for name, field in Source.model_fields.items() if not field.is_required()}
    assert set(items["required"]) == set(Source.model_fields) - optional
    for name in ("floor", "floor_penalty"):
        assert items["properties"][name] == {"type": "number", "minimum": 0, "default": 0}
    documented = (CONTRACTS / "matching-instance.md").read_text(encoding="utf-8")
    assert "`floor`" in documented and "`floor_penalty`" in documented
