"""The province's central matching: files checked whole, the city engine's optimum (against the
independent CP-SAT reference), the band floor, the weights, and what is written."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from optimizer import check_plan
from supply.calendar_store import load_calendar
from supply.core.errors import ImportRejected
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.province.matching import (
    BandRule,
    Upload,
    build_instance,
    line_instance,
    match,
    read_inputs,
)
from supply.province.service import match_files
from supply.weekly.export import agreement_requirements
from tests.conftest import sheet_rows, xlsx_bytes
from tests.optimizer.reference import reference_tiers

BATCH = "2026-W49"
MATCH_DAY = date(2026, 12, 2)  # cutoff Mon 11-30, two working days later
AGREEMENT_HEADER = [
    "协议编号", "行号", "供应商", "物料编码", "单位", "协议单价", "预估数量", "执行下限(%)",
    "执行上限(%)", "已下单数量", "有效期起", "有效期止", "供货周期(天)", "交货地点",
]  # fmt: skip


def line(
    demand: str,
    material: str,
    quantity: int,
    need_by: date,
    *,
    project: str = "P-1",
    voltage: str = "10kV",
    priority: str = "normal",
    warehouse: str = "WH-1",
) -> dict[str, Any]:
    """A row of a city's plan as the weekly run exports it (`PLAN_COLUMNS`)."""
    return {
        "kind": "agreement", "demand": demand, "project_id": project, "project_name": "工程",
        "project_type": "area_new", "material": material, "material_name": material,
        "unit": "台", "quantity": quantity, "source_id": "", "warehouse_id": warehouse,
        "warehouse_name": "", "supplier": "", "unit_cost": Decimal(0), "arrival": need_by,
        "need_by": need_by, "late_days": 0, "reason": "", "reason_zh": "", "cause": "",
        "emergency_cause": "", "replenish_warehouse_id": None, "voltage_class": voltage,
        "priority": priority,
    }  # fmt: skip


def city(name: str, rows: list[dict[str, Any]], batch: str = BATCH) -> Upload:
    return Upload(
        f"{batch}_{name}_协议库存需求计划.xlsx", agreement_requirements(rows, batch, name)
    )


def agreement(
    no: str,
    material: str,
    price: int,
    *,
    estimate: int = 100,
    ordered: int = 0,
    valid_to: date = date(2027, 6, 30),
    lead: int = 5,
    site: str = "SITE-A",
    supplier: str = "甲公司",
) -> list[object]:
    return [no, 1, supplier, material, "台", price, estimate, 80, 120, ordered,
            "2026-01-01", valid_to.isoformat(), lead, site]  # fmt: skip


def agreements(*rows: list[object]) -> Upload:
    return Upload("省级协议库存.xlsx", xlsx_bytes([AGREEMENT_HEADER, *rows], title="协议库存"))


def transport(pairs: dict[tuple[str, str], int]) -> Upload:
    rows: list[list[object]] = [["交货地点", "地市", "运输天数"]]
    rows += [[site, c, days] for (site, c), days in sorted(pairs.items())]
    return Upload("省内运输天数.xlsx", xlsx_bytes(rows, title="运输天数"))


def read(cities: list[Upload], lines: Upload, days: Upload) -> Any:
    return read_inputs(
        batch_id=BATCH, agreements=lines, transport=days, cities=cities,
        calendar=load_calendar(), policy=DeadlinePolicy(),
    )  # fmt: skip


def test_every_problem_of_every_file_is_named_and_nothing_is_matched(tmp_path: Path) -> None:
    good = city("济南", [line("P-1/1", "DT-400", 2, date(2026, 12, 20))])
    bad = city(
        "青岛",
        [
            line("P-2/1", "DT-400", 2, date(2026, 12, 20), voltage="20kV"),
            line("P-2/2", "DT-400", 1, date(2026, 12, 20), priority="urgent"),
        ],
    )
    again = city("济南", [line("P-9/1", "DT-400", 1, date(2026, 12, 20))])
    far = city("烟台", [line("Y-1/1", "DT-400", 1, date(2026, 12, 20))])
    lines = agreements(agreement("XY-1", "DT-400", 1000, site="SITE-B"))
    days = transport({("SITE-B", "济南"): 1})  # none to 烟台
    with pytest.raises(ImportRejected) as caught:
        match_files(
            batch_id=BATCH, agreements=lines, transport=days, cities=[good, bad, again, far],
            out_dir=tmp_path / "out", settings=Settings(),
        )  # fmt: skip
    texts = [p.text for p in caught.value.problems]
    qingdao = "2026-W49_青岛_协议库存需求计划.xlsx · 项目明细"
    # A bad priority in a plan the weekly run wrote is '' (not one of its labels): row 3.
    assert any(qingdao in t and "第 2 行 电压等级" in t and "20kV" in t for t in texts)
    assert any(qingdao in t and "第 3 行 优先级" in t for t in texts)
    assert any("济南 的计划已在 2026-W49_济南_协议库存需求计划.xlsx" in t for t in texts)
    assert any("省内运输天数.xlsx · 运输天数" in t and "SITE-B 到 烟台" in t for t in texts)
    assert not (tmp_path / "out").exists()


def test_a_plan_of_another_batch_is_refused() -> None:
    other = city("济南", [line("P-1/1", "DT-400", 2, date(2026, 12, 20))], batch="2026-W48")
    with pytest.raises(ImportRejected) as caught:
        read([other], agreements(agreement("XY-1", "DT-400", 1000)),
             transport({("SITE-A", "济南"): 1}))  # fmt: skip
    assert any("需求汇总表 第 2 行 批次: 批次 2026-W48 不是 2026-W49" in p.text
               for p in caught.value.problems)  # fmt: skip


def small_province() -> tuple[list[Upload], Upload, Upload]:
    """Three cities short of DT-400; lines of different prices, sites and validity; two lines
    alike (青岛 Q-1/1 and Q-2/1: one material, need-by and weight)."""
    need = MATCH_DAY + timedelta(days=8)
    cities = [
        city("济南", [line("P-1/1", "DT-400", 30, need, priority="provincial_key"),
                      line("P-1/2", "CB-1", 20, need + timedelta(days=3)),
                      line("P-2/1", "DT-400", 25, need, voltage="0.4kV")]),
        city("青岛", [line("Q-1/1", "DT-400", 60, need - timedelta(days=3)),
                      line("Q-2/1", "DT-400", 40, need - timedelta(days=3), project="Q-2"),
                      line("Q-1/2", "CB-1", 35, need, priority="city_key")]),
        city("威海", [line("W-1/1", "DT-400", 20, need + timedelta(days=5), voltage="35kV"),
                      line("W-1/2", "CB-1", 10, need)]),
    ]  # fmt: skip
    lines = agreements(
        agreement("XY-1", "DT-400", 1000, estimate=50, ordered=10, site="SITE-A"),
        agreement("XY-2", "DT-400", 1050, estimate=60, ordered=5, site="SITE-B",
                  valid_to=MATCH_DAY + timedelta(days=20)),
        agreement("XY-3", "DT-400", 900, estimate=20, ordered=0, site="SITE-B", lead=12),
        agreement("XY-4", "CB-1", 300, estimate=40, ordered=0, site="SITE-A", lead=2),
        agreement("XY-5", "CB-1", 280, estimate=30, ordered=36, site="SITE-B"),
    )  # fmt: skip
    days = {("SITE-A", c): d for c, d in (("济南", 1), ("青岛", 2), ("威海", 3))}
    days |= {("SITE-B", c): d for c, d in (("济南", 3), ("青岛", 1), ("威海", 1))}
    return cities, lines, transport(days)


def test_the_matching_is_the_lexicographic_optimum_of_the_independent_reference() -> None:
    result = match(read(*small_province()))
    assert check_plan(result.instance, result.plan).feasible
    # Lines alike are one demand of the engine's instance; split back over the lines, the plan
    # is the optimum of the instance with one demand per line, by the independent reference.
    instance, plan = line_instance(result)
    assert len(instance.demands) > len(result.instance.demands)  # some lines were grouped
    report = check_plan(instance, plan)
    assert report.feasible, report.problems
    doc = json.loads(json.dumps(instance.model_dump(mode="json", by_alias=True)))
    assert report.tiers() == pytest.approx(reference_tiers(doc))
    assert report.tiers() == pytest.approx(check_plan(result.instance, result.plan).tiers())
    assert result.plan.status == "optimal"
    # XY-5 is at its upper band already: it takes no order; no line passes its upper band.
    assert "XY-5/1" not in {s.id for s in result.instance.sources}
    used: dict[str, float] = {}
    for a in result.plan.allocations:
        used[a.source] = used.get(a.source, 0) + a.quantity
    for source in result.instance.sources:
        assert used.get(source.id, 0) <= (source.quantity or 0)


def test_weights_put_priority_first_and_voltage_between_equal_priorities() -> None:
    inputs = read(*small_province())
    instance, groups, _ = build_instance(inputs, BandRule())
    weight = {d.id: d.weight for d in instance.demands}
    by_demand = {(line.city, line.demand): key for key, lines in groups.items() for line in lines}
    assert weight[by_demand["济南", "P-1/1"]] == 4 * 4 + 1  # 省级重点, 10 kV
    assert weight[by_demand["济南", "P-2/1"]] == 4 * 2 + 0  # 一般, 0.4 kV
    assert weight[by_demand["威海", "W-1/1"]] == 4 * 2 + 2  # 一般, 35 kV
    # Fewer DT-400 can be had than asked (bands); the provincial key line is met in full.
    result = match(inputs)
    assert sum(d.quantity for d in instance.demands if d.material == "DT-400") > sum(
        s.quantity or 0 for s in instance.sources if s.material == "DT-400"
    )
    unmet = {u.demand for u in result.plan.unmet}
    assert by_demand["济南", "P-1/1"] not in unmet


def floor_case(*, cheap_lead: int, ending_lead: int) -> Any:
    need = MATCH_DAY + timedelta(days=10)
    return read(
        [city("济南", [line("P-1/1", "DT-400", 10, need)])],
        agreements(
            agreement("CHEAP", "DT-400", 1000, estimate=100, ordered=90, lead=cheap_lead),
            agreement("ENDING", "DT-400", 1040, estimate=100, ordered=70, lead=ending_lead,
                      valid_to=MATCH_DAY + timedelta(days=15)),
        ),
        transport({("SITE-A", "济南"): 1}),
    )  # fmt: skip


def test_a_line_ending_below_its_band_wins_over_a_cheaper_one_while_it_is_on_time() -> None:
    result = match(floor_case(cheap_lead=3, ending_lead=3))
    assert {(a.source, a.quantity) for a in result.plan.allocations} == {("ENDING/1", 10)}
    ending = next(s for s in result.instance.sources if s.id == "ENDING/1")
    assert (ending.floor, ending.floor_penalty) == (10, 104.0)  # 80 − 70, 10 % of 1,040
    # Without the floor rule the cheaper line wins: the floor is what decided.
    plain = match(floor_case(cheap_lead=3, ending_lead=3), BandRule(penalty_pct=Decimal(0)))
    assert {a.source for a in plain.plan.allocations} == {"CHEAP/1"}


def test_lateness_still_ranks_above_the_band_floor() -> None:
    result = match(floor_case(cheap_lead=3, ending_lead=20))  # ENDING would come 14 days late
    assert {(a.source, a.quantity) for a in result.plan.allocations} == {("CHEAP/1", 10)}


def test_the_results_are_written_per_city_in_the_import_format_with_a_summary(
    tmp_path: Path,
) -> None:
    cities, lines, days = small_province()
    report = match_files(batch_id=BATCH, agreements=lines, transport=days, cities=cities,
                         out_dir=tmp_path, settings=Settings())  # fmt: skip
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    names = {p.name for p in tmp_path.iterdir()}
    assert {f"{BATCH}_{c}_省公司匹配结果.xlsx" for c in ("济南", "青岛", "威海")} <= names
    matched = 0
    for c in ("济南", "青岛", "威海"):
        rows = sheet_rows(tmp_path / f"{BATCH}_{c}_省公司匹配结果.xlsx", "匹配结果")
        assert list(rows[0][:7]) == ["物料编码", "交货仓库", "协议编号", "行号", "供应商", "数量",
                                     "预计到货日期"]  # fmt: skip
        matched += sum(int(r[5]) for r in rows[1:])
        for r in rows[1:]:  # the arrival: matching day + lead time + transport to the city
            assert r[6] is not None
    assert matched == sum(a["quantity"] for a in plan["allocations"])
    by_city = {c["city"]: c for c in report.figures["cities"]}
    assert sum(c["matched"] for c in by_city.values()) == matched
    for c in by_city.values():
        assert c["on_time"] + c["late"] + c["unmet_lines"] == c["lines"]
    summary = sheet_rows(tmp_path / f"{BATCH}_省公司匹配汇总.xlsx", "按协议行")
    header = list(summary[0])
    week = {f"{r[0]}/{r[1]}": r[header.index("本周匹配")] for r in summary[1:-1]}
    used: dict[str, int] = {}
    for a in plan["allocations"]:
        used[a["source"]] = used.get(a["source"], 0) + a["quantity"]
    assert {k: v for k, v in week.items() if v} == used
