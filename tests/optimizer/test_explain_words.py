"""Each way a reason is worded, in English and in Chinese, rendered from the same facts: many
on-time sources, many takers, many sources ruled out, unlimited stock, the same cost the same
day, stock given to this line, and the unmet lines' own words."""

from __future__ import annotations

from typing import Any

from optimizer import Plan
from optimizer.contract import LateLine, UnmetLine
from tests.optimizer.cases import demand_line, explained, instance_doc, solved, source_row


def _said(plan: Plan, demand: str) -> tuple[str, str, str]:
    entries: list[LateLine | UnmetLine] = [*plan.late, *plan.unmet]
    (entry,) = [e for e in entries if e.demand == demand]
    return entry.cause, entry.reason, entry.reason_zh


def _said_by_hand(entry: dict[str, Any]) -> tuple[str, str, str]:
    return entry["cause"], entry["reason"], entry["reason_zh"]


def test_more_than_three_on_time_sources_used_up_are_counted() -> None:
    doc = instance_doc(
        [demand_line("D0", "2026-11-30", 5, weight=3), demand_line("D1", "2026-11-30", 1)],
        [
            *[source_row(f"A{i}", "agreement", "2026-11-30", 1, 100) for i in range(1, 6)],
            source_row("A6", "agreement", "2026-12-03", 10, 100),
        ],
    )
    _, plan = solved(doc)
    taken = "was used up by D0 (weight 3, need-by 11-30)"
    assert _said(plan, "D1") == (
        "used_up",
        f"needed by 11-30; agreement A1 (arrives 11-30) {taken}; agreement A2 (arrives 11-30) "
        f"{taken}; agreement A3 (arrives 11-30) {taken}; 2 more on-time sources were used up "
        "too; earliest other source agreement A6 arrives 12-03",
        "需到货 11-30；协议库存 A1（11-30 到货）已被 D0（权重 3，需到货 11-30）占用；"
        "协议库存 A2（11-30 到货）已被 D0（权重 3，需到货 11-30）占用；"
        "协议库存 A3（11-30 到货）已被 D0（权重 3，需到货 11-30）占用；"
        "另有 2 项按时来源也已被占用；最早的其他来源为协议库存 A6，12-03 到货",
    )


def test_more_on_time_sources_of_different_facts_are_counted_by_fact() -> None:
    doc = instance_doc(
        [demand_line("D0", "2026-11-30", 3, weight=3), demand_line("D1", "2026-11-30", 1)],
        [
            *[source_row(f"A{i}", "agreement", "2026-11-30", 1, 100) for i in range(1, 4)],
            source_row("A4", "agreement", "2026-11-30", 0, 100),
            source_row("A5", "agreement", "2026-11-30", 4, 100),
            source_row("A6", "agreement", "2026-12-03", 10, 100),
        ],
    )
    flow = {("D0", "A1"): 1, ("D0", "A2"): 1, ("D0", "A3"): 1, ("D1", "A6"): 1}
    cause, reason, zh = _said_by_hand(explained(doc, flow)["D1"])
    assert cause == "stock_left"  # one of them still had stock the plan left idle
    assert "; 2 more on-time sources: 1 still had stock, 1 had no stock; " in reason
    assert "；另有 2 项按时来源：1 项尚有库存，1 项无库存；" in zh


def test_a_source_taken_by_more_than_three_lines_names_three_and_counts_the_rest() -> None:
    doc = instance_doc(
        [
            *[demand_line(f"D{i}", "2026-11-30", 1, weight=2) for i in range(2, 7)],
            demand_line("D1", "2026-11-30", 1),
        ],
        [
            source_row("R1", "reserve", "2026-11-30", 5, 100),
            source_row("A1", "agreement", "2026-12-03", 10, 100),
        ],
    )
    _, plan = solved(doc)
    assert _said(plan, "D1") == (
        "used_up",
        "needed by 11-30; reserve R1 (arrives 11-30) was used up by D2 (weight 2, need-by 11-30), "
        "D3 (weight 2, need-by 11-30), D4 (weight 2, need-by 11-30) and 2 more; "
        "earliest other source agreement A1 arrives 12-03",
        "需到货 11-30；实物储备 R1（11-30 到货）已被 D2（权重 2，需到货 11-30）、"
        "D3（权重 2，需到货 11-30）、D4（权重 2，需到货 11-30）及另外 2 项需求占用；"
        "最早的其他来源为协议库存 A1，12-03 到货",
    )


def test_more_than_three_sources_ruled_out_at_35_kv_are_counted() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2, voltage_class="35kV")],
        [
            *[source_row(f"C{i}", "consignment", "2026-11-30", 10, 90) for i in range(1, 6)],
            source_row("A1", "agreement", "2026-12-05", 10, 100),
        ],
    )
    _, plan = solved(doc)
    assert _said(plan, "D1") == (
        "not_eligible",
        "needed by 11-30; no eligible source arrives by then; 35 kV demand cannot use "
        "consignment C1, consignment C2, consignment C3 and 2 more; "
        "earliest other source agreement A1 arrives 12-05",
        "需到货 11-30；没有可用来源能按时到货；电压等级不可用：35 kV 项目不能使用供应商寄存 C1、"
        "供应商寄存 C2、供应商寄存 C3，另有 2 项；最早的其他来源为协议库存 A1，12-05 到货",
    )


def test_on_time_sources_without_stock() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2)],
        [
            source_row("A0", "agreement", "2026-11-30", 0, 100),
            source_row("A1", "agreement", "2026-12-05", 10, 100),
        ],
    )
    _, plan = solved(doc)
    assert _said(plan, "D1") == (
        "none_in_time",
        "needed by 11-30; agreement A0 (arrives 11-30) has no stock; "
        "no eligible source with stock arrives by then; "
        "earliest other source agreement A1 arrives 12-05",
        "需到货 11-30；协议库存 A0（11-30 到货）无库存；按时到货的可用来源均无库存；"
        "最早的其他来源为协议库存 A1，12-05 到货",
    )


def test_unlimited_emergency_procurement_left_unused_still_had_stock() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2)],
        [
            source_row("E1", "emergency", "2026-11-30", None, 500),
            source_row("A1", "agreement", "2026-12-02", 10, 100),
        ],
    )
    assert _said_by_hand(explained(doc, {("D1", "A1"): 2})["D1"]) == (
        "stock_left",
        "needed by 11-30; emergency procurement E1 (arrives 11-30) still had stock (no limit); "
        "earliest other source agreement A1 arrives 12-02",
        "需到货 11-30；紧急采购 E1（11-30 到货）仍有库存（不限量）；"
        "最早的其他来源为协议库存 A1，12-02 到货",
    )


def test_a_source_the_same_day_at_the_same_cost() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 2)],
        [
            source_row("R1", "reserve", "2026-12-01", 10, 100),
            source_row("C1", "consignment", "2026-12-01", 10, 100),
        ],
    )
    assert _said_by_hand(explained(doc, {("D1", "C1"): 2})["D1"]) == (
        "none_in_time",
        "needed by 11-30; no eligible source arrives by then; earliest other source reserve R1 "
        "arrives 12-01; consignment C1 arrives the same day at the same cost (100 per unit) and "
        "served this line",
        "需到货 11-30；没有可用来源能按时到货；最早的其他来源为实物储备 R1，12-01 到货；"
        "供应商寄存 C1 同日到货且单价相同（100 元/单位），已供本行",
    )


def test_stock_given_to_this_line_all_or_in_part() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 5), demand_line("D2", "2026-11-30", 2, weight=2)],
        [
            source_row("R1", "reserve", "2026-11-30", 2, 100),
            source_row("R2", "reserve", "2026-11-30", 3, 100),
            source_row("A1", "agreement", "2026-12-03", 10, 100),
        ],
    )
    flow = {("D1", "R1"): 2, ("D1", "R2"): 1, ("D2", "R2"): 2, ("D1", "A1"): 2}
    assert _said_by_hand(explained(doc, flow)["D1"]) == (
        "used_up",
        "needed by 11-30; reserve R1 (arrives 11-30) had only 2, all given to this line; "
        "reserve R2 (arrives 11-30) was used up by D2 (weight 2, need-by 11-30) "
        "(this line got 1); earliest other source agreement A1 arrives 12-03",
        "需到货 11-30；实物储备 R1（11-30 到货）仅有 2，已全部供本行；"
        "实物储备 R2（11-30 到货）已被 D2（权重 2，需到货 11-30）占用（本行已取 1）；"
        "最早的其他来源为协议库存 A1，12-03 到货",
    )


def test_unmet_line_that_got_all_there_was() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 5)],
        [source_row("A1", "agreement", "2026-11-30", 2, 100)],
    )
    _, plan = solved(doc)
    assert _said(plan, "D1") == (
        "used_up",
        "every eligible source is used up; agreement A1 (2) went to this line; "
        "no emergency procurement source for CBLV-4x50",
        "所有可用来源均已用完；协议库存 A1（共 2）已全部供本行；CBLV-4x50 没有紧急采购来源",
    )


def test_unmet_line_whose_eligible_sources_have_no_stock_at_35_kv() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 5, voltage_class="35kV")],
        [
            source_row("A1", "agreement", "2026-11-30", 0, 100),
            source_row("R1", "reserve", "2026-11-30", 5, 100),
        ],
    )
    _, plan = solved(doc)
    assert _said(plan, "D1") == (
        "not_eligible",
        "no eligible source has stock; agreement A1 has no stock; "
        "35 kV demand cannot use reserve R1",
        "可用来源均无库存；协议库存 A1 无库存；电压等级不可用：35 kV 项目不能使用实物储备 R1",
    )


def test_unmet_line_beside_reserve_kept_for_its_quota() -> None:
    doc = instance_doc(
        [demand_line("D1", "2026-11-30", 5)],
        [source_row("R1", "reserve", "2026-11-30", 5, 100, quota=5)],
        penalty=50,
    )
    assert _said_by_hand(explained(doc, {})["D1"]) == (
        "stock_left",
        "reserve R1 was kept for its quota (5 left, quota 5, penalty 50 per unit drawn below it); "
        "no emergency procurement source for CBLV-4x50",
        "实物储备 R1 保留至定额（剩余 5，定额 5，每低于定额一件罚 50 元）；"
        "CBLV-4x50 没有紧急采购来源",
    )
