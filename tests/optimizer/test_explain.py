"""Every late and unmet line says, in plain words, what would have been on time and why not —
in English and in the Chinese a materials planner reads — with a cause code; each statement is
true of the plan (tests/optimizer/truth.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from optimizer import Plan, read_plan, solve, solve_document, validate_instance
from optimizer.contract import (
    CAUSES,
    LATE_CAUSES,
    UNMET_CAUSES,
    LateLine,
    UnmetLine,
)
from tests.optimizer.cases import demand_line, explained, instance_doc, solved, source_row
from tests.optimizer.truth import ZH, fact_problems, facts_of, said_problems, words_problems

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def _entries(plan: Plan) -> list[LateLine | UnmetLine]:
    return [*plan.late, *plan.unmet]


def _reasons(plan: Plan) -> dict[str, str]:
    return {e.demand: e.reason for e in _entries(plan)}


def _zh(plan: Plan) -> dict[str, str]:
    return {e.demand: e.reason_zh for e in _entries(plan)}


def _causes(plan: Plan) -> dict[str, str]:
    return {e.demand: e.cause for e in _entries(plan)}


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
    assert late["D1"].reason_zh == (
        "需到货 12-10；实物储备 R-HC-TR400（11-30 到货）已被 D2（权重 2，需到货 12-04）、"
        "D6（权重 1，需到货 12-03）占用；最早的其他来源为协议库存 A-2026-017，12-12 到货"
    )


def test_late_line_with_no_source_in_time_names_the_voltage_rule(tiny: dict) -> None:
    tiny["demands"][2]["need_by"] = "2026-12-05"  # 35 kV cable: agreement arrives 12-14
    plan = solve_document(tiny)
    reason = _reasons(plan)["D3"]
    assert "no eligible source arrives by then" in reason
    assert "35 kV demand cannot use reserve R-HC-C35" in reason
    assert "earliest other source agreement A-2026-031 arrives 12-14" in reason
    assert _causes(plan)["D3"] == "not_eligible"
    assert _zh(plan)["D3"] == (
        "需到货 12-05；没有可用来源能按时到货；电压等级不可用：35 kV 项目不能使用实物储备 "
        "R-HC-C35；最早的其他来源为协议库存 A-2026-031，12-14 到货"
    )


def test_unmet_line_with_no_eligible_source(tiny: dict) -> None:
    tiny["sources"] = [s for s in tiny["sources"] if s["id"] not in {"A-2026-031", "E-C35"}]
    plan = solve_document(tiny)
    assert [(u.demand, u.quantity) for u in plan.unmet] == [("D3", 800)]
    assert _reasons(plan)["D3"] == "no eligible source: 35 kV demand cannot use reserve R-HC-C35"
    assert _zh(plan)["D3"] == "无可用来源，电压等级不可用：35 kV 项目不能使用实物储备 R-HC-C35"
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
    assert _zh(plan)["D3"] == (  # a date outside the plan's year in full
        "所有可用来源均已用完；协议库存 A-2026-031（共 500）已被 D7（权重 3，需到货 2027-01-05）"
        "占用；CABLE-35-300 没有紧急采购来源；电压等级不可用：35 kV 项目不能使用实物储备 R-HC-C35"
    )


def test_no_reason_is_empty_on_a_larger_instance() -> None:
    from tests.optimizer.conftest import load

    plan = solve_document(load("medium-400"))
    assert plan.late and plan.unmet
    assert all(len(e.reason) > 20 and len(e.reason_zh) > 10 for e in _entries(plan))
    assert all("needed by" in e.reason for e in plan.late)
    assert all(e.reason_zh.startswith("需到货 ") for e in plan.late)


def test_a_cheaper_source_the_same_day_is_named_not_called_used_up() -> None:
    # The case (YK26-GQ-002/1): the reserve still has stock above its quota, but the
    # consignment arrives the same day and costs less; no one used the reserve up.
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 250)],
        [
            source_row("R:CENTRAL", "reserve", "2026-12-01", 3399, 140, quota=3000),
            source_row("C:36", "consignment", "2026-12-01", 300, 138.45),
        ],
        penalty=200,
    )
    _, plan = solved(doc)
    assert [(a.source, a.quantity) for a in plan.allocations] == [("C:36", 250)]
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source reserve R:CENTRAL arrives 12-01; "
        "consignment C:36 arrives the same day at a lower cost (138.45 vs 140 per unit) "
        "and served this line"
    )
    assert _zh(plan)["D1"] == (
        "需到货 11-30；没有可用来源能按时到货；最早的其他来源为实物储备 R:CENTRAL，12-01 到货；"
        "供应商寄存 C:36 同日到货且单价更低（138.45 对 140 元/单位），已供本行"
    )
    assert _causes(plan)["D1"] == "none_in_time"


def test_reserve_kept_at_its_quota_says_so_with_the_penalty() -> None:
    # Cheaper than the agreement line arriving the same day (100 vs 120), dearer once the
    # penalty for drawing it below its quota is counted (100 + 50).
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 3)],
        [
            source_row("R1", "reserve", "2026-12-01", 5, 100, quota=5),
            source_row("A1", "agreement", "2026-12-01", 10, 120),
        ],
        penalty=50,
    )
    _, plan = solved(doc)
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source reserve R1 arrives 12-01; "
        "it was kept for its quota (5 left, quota 5, penalty 50 per unit drawn below it); "
        "served from agreement A1 arriving 12-01"
    )
    assert _zh(plan)["D1"] == (
        "需到货 11-30；没有可用来源能按时到货；最早的其他来源为实物储备 R1，12-01 到货；"
        "该来源保留至定额（剩余 5，定额 5，每低于定额一件罚 50 元）；"
        "实际由协议库存 A1 供货（12-01 到货）"
    )
    assert _causes(plan)["D1"] == "none_in_time"  # the quota decided the source, not the delay


def test_lateness_outranks_the_quota_penalty() -> None:
    # The same reserve, on time: the optimum draws it below its quota rather than let the line
    # wait (the penalty is a cost, tier 3). So no optimal plan holds on-time reserve at its
    # quota while a line waits: `kept_for_quota` on a late line marks a plan made otherwise.
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 3)],
        [
            source_row("R1", "reserve", "2026-11-30", 5, 100, quota=5),
            source_row("A1", "agreement", "2026-12-01", 10, 120),
        ],
        penalty=50,
    )
    _, plan = solved(doc)
    assert plan.late == [] and [a.source for a in plan.allocations] == ["R1"]


def test_a_plan_holding_on_time_reserve_at_its_quota_is_kept_for_quota() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 3)],
        [
            source_row("R1", "reserve", "2026-11-30", 5, 100, quota=5),
            source_row("A1", "agreement", "2026-12-01", 10, 120),
        ],
        penalty=50,
    )
    entries = explained(doc, {("D1", "A1"): 3})
    assert entries["D1"]["cause"] == "kept_for_quota"
    assert entries["D1"]["reason"] == (
        "needed by 11-30; reserve R1 (arrives 11-30) was kept for its quota "
        "(5 left, quota 5, penalty 50 per unit drawn below it); "
        "earliest other source agreement A1 arrives 12-01"
    )
    assert entries["D1"]["reason_zh"] == (
        "需到货 11-30；实物储备 R1（11-30 到货）保留至定额（剩余 5，定额 5，"
        "每低于定额一件罚 50 元）；最早的其他来源为协议库存 A1，12-01 到货"
    )


def test_a_plan_leaving_on_time_stock_unused_says_it_still_had_it() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 3)],
        [
            source_row("A1", "agreement", "2026-11-30", 10, 100),
            source_row("A2", "agreement", "2026-12-02", 10, 90),
        ],
    )
    entries = explained(doc, {("D1", "A2"): 3})
    reason = entries["D1"]["reason"]
    assert reason.startswith("needed by 11-30; agreement A1 (arrives 11-30) still had 10 left;")
    assert "used up" not in reason
    assert entries["D1"]["reason_zh"] == (
        "需到货 11-30；协议库存 A1（11-30 到货）尚余 10 未用；最早的其他来源为协议库存 A2，12-02 到货"
    )
    # No engine here makes such a plan (test_properties: test_every_reason_is_true_of_its_plan).
    assert entries["D1"]["cause"] == "stock_left"


def test_no_eligible_source_in_time() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2)],
        [source_row("A1", "agreement", "2026-12-05", 10, 100)],
    )
    _, plan = solved(doc)
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "earliest other source agreement A1 arrives 12-05"
    )
    assert _zh(plan)["D1"] == (
        "需到货 11-30；没有可用来源能按时到货；最早的其他来源为协议库存 A1，12-05 到货"
    )
    assert _causes(plan)["D1"] == "none_in_time"


def test_only_sources_ruled_out_at_35_kv_would_be_on_time() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2, voltage_class="35kV")],
        [
            source_row("C1", "consignment", "2026-11-30", 10, 90),
            source_row("R1", "reserve", "2026-11-30", 0, 90),  # no stock: not worth naming
            source_row("A1", "agreement", "2026-12-05", 10, 100),
        ],
    )
    _, plan = solved(doc)
    assert _reasons(plan)["D1"] == (
        "needed by 11-30; no eligible source arrives by then; "
        "35 kV demand cannot use consignment C1; "
        "earliest other source agreement A1 arrives 12-05"
    )
    assert _zh(plan)["D1"] == (
        "需到货 11-30；没有可用来源能按时到货；电压等级不可用：35 kV 项目不能使用供应商寄存 C1；"
        "最早的其他来源为协议库存 A1，12-05 到货"
    )
    assert _causes(plan)["D1"] == "not_eligible"


def test_no_source_of_the_material_at_all() -> None:
    doc = instance_doc([demand_line("D1", "2026-11-30", 2)], [])
    _, plan = solved(doc)
    assert _reasons(plan)["D1"] == "no eligible source: no source of CBLV-4x50 in the instance"
    assert _zh(plan)["D1"] == "无可用来源：本计划中没有 CBLV-4x50 的任何来源"
    assert _causes(plan)["D1"] == "no_source"


def test_no_source_holds_stock_of_the_material() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2, voltage_class="110kV")],
        [
            source_row("A1", "agreement", "2026-11-30", 0, 100),
            source_row("R1", "reserve", "2026-11-30", 0, 100),
        ],
    )
    _, plan = solved(doc)
    assert _reasons(plan)["D1"] == "no source of CBLV-4x50 has stock; agreement A1 has no stock"
    assert _zh(plan)["D1"] == "CBLV-4x50 的所有来源均无库存；协议库存 A1 无库存"
    assert _causes(plan)["D1"] == "no_source"


def test_unmet_lines_name_who_used_the_source_up_and_never_this_line_wrongly() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-12-10", 4), demand_line("D2", "2026-12-01", 3, weight=3)],
        [source_row("E1", "emergency", "2026-12-05", 5, 300)],
    )
    _, plan = solved(doc)
    assert _reasons(plan)["D1"] == (
        "every eligible source is used up; emergency procurement E1 (5) went to "
        "D2 (weight 3, need-by 12-01)"
    )
    assert _zh(plan)["D1"] == (
        "所有可用来源均已用完；紧急采购 E1（共 5）已被 D2（权重 3，需到货 12-01）占用"
    )
    assert _causes(plan)["D1"] == "used_up"


def test_cause_vocabulary_and_the_plan_schema_agree() -> None:
    assert LATE_CAUSES == (
        "used_up",
        "kept_for_quota",
        "stock_left",
        "none_in_time",
        "not_eligible",
    )
    assert UNMET_CAUSES == ("used_up", "stock_left", "not_eligible", "no_source")
    assert set(CAUSES) == set(LATE_CAUSES) | set(UNMET_CAUSES)
    schema = json.loads((CONTRACTS / "matching-plan.schema.json").read_text(encoding="utf-8"))
    listed = {
        k: schema["properties"][k]["items"]["properties"]["cause"]["enum"]
        for k in ("late", "unmet")
    }
    assert listed == {"late": [*LATE_CAUSES, ""], "unmet": [*UNMET_CAUSES, ""]}


def test_the_plan_schema_lists_every_field_of_late_and_unmet_lines() -> None:
    schema = json.loads((CONTRACTS / "matching-plan.schema.json").read_text(encoding="utf-8"))
    for key, model in (("late", LateLine), ("unmet", UnmetLine)):
        items = schema["properties"][key]["items"]
        assert set(items["properties"]) == set(model.model_fields), key
        # What a plan written before a field was added lacks is not required.
        optional = {name for name, field in model.model_fields.items() if not field.is_required()}
        assert set(items["required"]) == set(model.model_fields) - optional, key
        assert items["properties"]["reason_zh"]["type"] == "string"
    documented = (CONTRACTS / "matching-instance.md").read_text(encoding="utf-8")
    assert "`reason_zh`" in documented


def test_plans_written_before_causes_and_chinese_reasons_still_read() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2), demand_line("D2", "2026-11-30", 2, material="X")], []
    )
    doc["sources"] = [source_row("A1", "agreement", "2026-12-05", 1, 100)]
    old = solve_document(doc).model_dump(mode="json", by_alias=True)
    assert old["late"] and old["unmet"]
    for entry in [*old["late"], *old["unmet"]]:
        del entry["cause"], entry["reason_zh"]
    plan = read_plan(json.dumps(old))
    assert all(e.cause == "" and e.reason_zh == "" and e.reason for e in _entries(plan))


def test_explain_only_gives_both_languages_for_just_those_lines(tiny: dict) -> None:
    # An urgent request asks for the reasons of its own lines only (supply/requests).
    tiny["demands"][2]["need_by"] = "2026-12-05"  # D3 late; D1 and D3 compete with others
    instance = validate_instance(tiny)
    assert not isinstance(instance, list)
    full = solve(instance)
    assert {e.demand for e in _entries(full)} >= {"D3"}
    only = solve(instance, explain_only=["D3"])
    assert [e.demand for e in _entries(only)] == ["D3"]
    (line,) = _entries(only)
    (same,) = [e for e in _entries(full) if e.demand == "D3"]
    assert (line.reason, line.reason_zh, line.cause) == (same.reason, same.reason_zh, same.cause)
    assert line.reason_zh.startswith("需到货 12-05；")
    assert solve(instance, explain_only=[]).late == []


def test_the_truth_check_catches_the_old_false_used_up() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 250)],
        [
            source_row("R:CENTRAL", "reserve", "2026-12-01", 3399, 140, quota=3000),
            source_row("C:36", "consignment", "2026-12-01", 300, 138.45),
        ],
        penalty=200,
    )
    instance, plan = solved(doc)
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
    old_zh = plan.late[0].model_copy(
        update={
            "reason_zh": "需到货 11-30；没有可用来源能按时到货；最早的其他来源为实物储备 "
            "R:CENTRAL，12-01 到货；该来源已被本行占用；实际由供应商寄存 C:36 供货（12-01 到货）"
        }
    )
    assert said_problems(instance, plan.model_copy(update={"late": [old_zh]}), unmet, late)
    # The Chinese words are read against the facts as the English are: the source the same
    # day at a lower cost, named with both prices.
    text = plan.late[0].reason_zh
    assert words_problems(late[0], text, year=2026, words=ZH) == []
    for wrong in (
        text.replace("C:36", "C:37"),
        text.replace("138.45 对 140", "140 对 138.45"),
        text.replace("12-01 到货", "12-02 到货"),
        text.replace("需到货 11-30", "需到货 11-29"),
    ):
        assert words_problems(late[0], wrong, year=2026, words=ZH), wrong
    held = dataclasses.replace(other, status="kept_for_quota", quota=3000, penalty=200)
    lie = [dataclasses.replace(late[0], earliest_other=held)]
    assert "D1/R:CENTRAL: it is not reserve held at its quota" in fact_problems(
        instance, plan, unmet, lie
    )
