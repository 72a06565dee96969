"""The weekly exports of the sample week, row by row against the plans they come from.

The run is the demo's (the Weihai sample week, batch 2026-W49); every row of every export is
matched to an allocation or an unmet rest of `plan.json` or `replenishment-plan.json`, every
amount is exact to the fen with a money format, and every total equals the sum of its column
and the run's KPIs to the fen.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from api.commands.demo import SAMPLE_RUN_AT
from catalogs.models import AgreementLine
from optimizer.contract import HIGH_VOLTAGE
from supply.availability import catalogued_materials
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core.db import make_engine
from supply.core.money import line_amount
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.weekly.models import PlanLine
from supply.weekly.run import RunOutcome, run_weekly
from tests.conftest import sheet_rows

TOTAL = "合计 / total"


@dataclass
class Run:
    outcome: RunOutcome
    url: str
    instance: dict[str, Any]
    plan: dict[str, Any]
    replenishment_instance: dict[str, Any]
    replenishment_plan: dict[str, Any]

    def book(self, name: str, sheet: str) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
        """The header and the data rows of an export's sheet (the totals row left out)."""
        rows = sheet_rows(self.outcome.exports[name], sheet)
        data = [r for r in rows[1:] if not str(r[0] or "").startswith(TOTAL)]
        return rows[0], data

    def sources(self) -> dict[str, dict[str, Any]]:
        return {
            s["id"]: s for s in self.instance["sources"] + self.replenishment_instance["sources"]
        }


@pytest.fixture(scope="module")
def run(sqlite_sample_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("exports")
    db = folder / "week.db"
    shutil.copy(sqlite_sample_templates["week"], db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    try:
        outcome = run_weekly(
            engine=engine,
            at=SAMPLE_RUN_AT,
            now=SAMPLE_RUN_AT,
            user="物资部 李工",
            calendar=load_calendar(),
            policy=policy_from_settings(),
            settings=Settings(database_url=url, runs_dir=str(folder / "runs")),
        )
    finally:
        engine.dispose()

    def read(name: str) -> dict[str, Any]:
        return json.loads((outcome.run_dir / name).read_text(encoding="utf-8"))

    return Run(
        outcome,
        url,
        read("instance.json"),
        read("plan.json"),
        read("replenishment-instance.json"),
        read("replenishment-plan.json"),
    )


def day(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else None  # type: ignore[return-value]


def allocations(run: Run, *kinds: str, replenishment: bool | None = None) -> Counter[tuple]:
    """(demand, source, quantity, arrival, late days) of the plans' allocations of some kinds."""
    sources = run.sources()
    plans = {False: run.plan, True: run.replenishment_plan}
    found: Counter[tuple] = Counter()
    for is_replenishment, plan in plans.items():
        if replenishment is not None and replenishment != is_replenishment:
            continue
        for a in plan["allocations"]:
            if sources[a["source"]]["kind"] in kinds:
                found[
                    a["demand"],
                    a["source"],
                    a["quantity"],
                    date.fromisoformat(a["arrival"]),
                    a["late_days"],
                ] += 1
    return found


def test_the_requirement_plan_rows_are_the_plans_agreement_allocations(run: Run) -> None:
    header, rows = run.book("agreement_requirements", "项目明细")
    at = {name: header.index(name) for name in header}
    exported = Counter(
        (
            r[at["需求行"]],
            r[at["参考协议行"]],
            r[at["数量"]],
            day(r[at["预计到货日期"]]),
            r[at["延迟天数"]],
        )
        for r in rows
    )
    expected = allocations(run, "agreement")
    assert exported == expected
    # Replenishment rows name their own line: REPL:<warehouse>:<the row's material>.
    replenishing = [r for r in rows if str(r[at["需求行"]]).startswith("REPL:")]
    assert replenishing, "the sample week replenishes some reserve through agreement stock"
    for r in replenishing:
        assert r[at["需求行"]].endswith(f":{r[at['物料编码']]}")  # type: ignore[union-attr]

    header, summary = run.book("agreement_requirements", "需求汇总")
    at = {name: header.index(name) for name in header}
    per_row: Counter[tuple] = Counter()
    lines: Counter[tuple] = Counter()
    sources = run.sources()
    for _, source, quantity, *_ in expected.elements():
        material = sources[source]["material"]
        per_row[material] += quantity
        lines[material] += 1
    summed: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    for r in summary:  # a row per material and delivery warehouse
        summed[r[at["物料编码"]]] += r[at["需求数量"]]
        counted[r[at["物料编码"]]] += r[at["需求行数"]]
    assert summed == per_row and counted == lines


def test_the_issue_list_rows_are_the_plans_reserve_and_consignment_allocations(run: Run) -> None:
    book = load_workbook(run.outcome.exports["issue_list"], read_only=True)
    exported: Counter[tuple] = Counter()
    sources = run.sources()
    for name in book.sheetnames:
        header, rows = run.book("issue_list", name)
        at = {h: header.index(h) for h in header}
        for r in rows:
            exported[
                r[at["物料编码"]], r[at["数量"]], r[at["来源"]], day(r[at["预计到货日期"]])
            ] += 1
    kind_zh = {"reserve": "实物储备", "consignment": "供应商寄存"}
    expected = Counter(
        (sources[s]["material"], q, kind_zh[sources[s]["kind"]], arrival)
        for _, s, q, arrival, _ in allocations(run, "reserve", "consignment").elements()
    )
    assert exported == expected


def test_the_emergency_list_rows_are_the_plans_emergency_allocations(run: Run) -> None:
    header, rows = run.book("emergency", "紧急采购")
    at = {h: header.index(h) for h in header}
    sources = run.sources()
    expected = Counter(
        (sources[s]["material"], q, arrival, late)
        for _, s, q, arrival, late in allocations(run, "emergency").elements()
    )
    exported = Counter(
        (r[at["物料编码"]], r[at["数量"]], day(r[at["预计到货日期"]]), r[at["延迟天数"]])
        for r in rows
    )
    assert exported == expected


def test_the_late_and_unmet_list_is_every_late_allocation_and_unmet_rest(run: Run) -> None:
    header, rows = run.book("late_unmet", "延迟与未满足")
    at = {h: header.index(h) for h in header}
    expected: Counter[tuple] = Counter()
    for plan in (run.plan, run.replenishment_plan):
        for a in plan["allocations"]:
            if a["late_days"]:
                expected["延迟 late", a["quantity"], a["late_days"]] += 1
        for u in plan["unmet"]:
            expected["未满足 unmet", u["quantity"], None] += 1
    exported = Counter(
        (r[at["情况"]], r[at["数量"]], r[at["延迟天数"]] if r[at["情况"]] == "延迟 late" else None)
        for r in rows
    )
    assert exported == expected
    assert all(r[at["原因"]] and r[at["原因(英文) / reason"]] for r in rows)  # R8: says why


def test_the_replenishment_list_is_the_replenishment_plan(run: Run) -> None:
    header, rows = run.book("replenishment", "补库")
    at = {h: header.index(h) for h in header}
    plan = run.replenishment_plan
    expected = Counter((a["demand"], a["quantity"], a["source"]) for a in plan["allocations"])
    expected.update((u["demand"], u["quantity"], "") for u in plan["unmet"])
    exported = Counter(
        (f"REPL:{r[at['补库仓库']]}:{r[at['物料编码']]}", r[at["数量"]], r[at["来源编号"]] or "")
        for r in rows
    )
    assert exported == expected


def test_replenishment_no_agreement_covers_is_said_in_the_planners_words(run: Run) -> None:
    header, rows = run.book("replenishment", "补库")
    at = {h: header.index(h) for h in header}
    with_agreement = {
        s["material"] for s in run.replenishment_instance["sources"] if s["kind"] == "agreement"
    }
    unmet = [r for r in rows if r[at["来源"]] == "未满足"]
    assert unmet
    for r in unmet:
        material, warehouse = r[at["物料编码"]], r[at["补库仓库"]]
        text = str(r[at["说明"]])
        if material not in with_agreement:
            assert r[at["原因类别"]] == "无协议库存可补库 (no_agreement)"
            assert f"{material}" in text and f"{warehouse}" in text and "agreements" in text
            assert "in the instance" not in text  # the engine's words are replaced


def test_amounts_are_exact_to_the_fen_and_totals_add_up(run: Run) -> None:
    for name, path in run.outcome.exports.items():
        book = load_workbook(path)
        values = load_workbook(path, data_only=True)
        for sheet in book.worksheets:
            header = [c.value for c in sheet[1]]
            money = [i for i, h in enumerate(header) if str(h).endswith("(元)")]
            if not money or sheet.max_row < 2:
                continue
            assert sheet.auto_filter.ref, f"{name}/{sheet.title} has an autofilter"
            rows = list(sheet.iter_rows(min_row=2))
            *data, total = rows
            assert str(total[0].value).startswith(TOTAL), f"{name}/{sheet.title}"
            for i in money:
                cells = [r[i] for r in data if r[i].value is not None]
                places = 6 if "单价" in str(header[i]) else 2  # unit prices per base unit
                for cell in cells:
                    assert isinstance(cell.value, int | float)
                    assert round(cell.value, places) == cell.value, (name, cell.coordinate)
                    assert cell.number_format.startswith("#,##0.00"), (name, cell.coordinate)
                if places == 6:
                    continue
                exact = sum((Decimal(repr(c.value)) for c in cells), Decimal(0))
                cached = values[sheet.title].cell(row=total[i].row, column=i + 1).value
                assert total[i].value.startswith("=SUBTOTAL(109,")  # follows the autofilter
                assert Decimal(repr(cached)) == exact, (name, sheet.title, header[i])


def test_package_totals_equal_the_kpis_to_the_fen(run: Run) -> None:
    kpis = run.outcome.run.kpis["by_package"]
    header, rows = run.book("packages", "项目包汇总")
    at = {h: header.index(h) for h in header}
    kinds = {"reserve": "实物储备(元)", "consignment": "供应商寄存(元)",
             "agreement": "协议库存(元)", "emergency": "紧急采购(元)"}  # fmt: skip
    for r in rows:
        package = "(none)" if r[at["项目包编号"]] == "(无项目包)" else r[at["项目包编号"]]
        figures = kpis[package]
        assert Decimal(repr(r[at["本次计划金额(元)"]])) == Decimal(repr(figures["cost"]))
        for kind, column in kinds.items():
            assert Decimal(repr(r[at[column]])) == Decimal(
                repr(figures["cost_by_source"].get(kind, 0.0))
            )
        assert (r[at["按时"]], r[at["延迟"]], r[at["未满足"]]) == (
            figures["on_time_lines"],
            figures["late_lines"],
            figures["unmet_lines"],
        )
    assert len(rows) == len(kpis)


def test_spend_and_the_below_quota_penalty_make_the_objectives_cost(run: Run) -> None:
    kpis = run.outcome.run.kpis
    sources = run.sources()
    spend = sum(
        (
            line_amount(Decimal(repr(sources[a["source"]]["unit_cost"])), a["quantity"])
            for a in run.plan["allocations"]
        ),
        Decimal(0),
    )
    assert Decimal(repr(kpis["spend"])) == spend
    assert kpis["spend"] == pytest.approx(sum(s["spend"] for s in kpis["by_source"].values()))
    penalty = kpis["reserve_below_quota"]["penalty"]
    assert penalty > 0  # the sample week draws reserve below quota
    # The objective's cost is what is paid plus the penalty (each line's amount to the fen).
    assert kpis["objective"]["cost"] == pytest.approx(
        kpis["spend"] + penalty, abs=0.01 * len(run.plan["allocations"])
    )
    for bucket in (kpis["totals"], *kpis["by_project_type"].values()):
        assert "quantity" not in bucket  # never metres plus transformer units
        parts = sum(bucket[f"{o}_value"] for o in ("on_time", "late", "unmet"))
        assert parts == pytest.approx(bucket["value"], abs=0.01 * bucket["lines"])
        assert bucket["lines"] == sum(bucket[f"{o}_lines"] for o in ("on_time", "late", "unmet"))


def test_each_emergency_line_is_labelled_with_a_cause_true_of_the_plan(run: Run) -> None:
    """Each cause is checked against the facts it states, recomputed from the instance and
    the plan: what each source of the material has left after the plan, and when it would
    arrive at the line (ready day + transport days; 35/110 kV lines cannot use reserve or
    consignment)."""
    engine = make_engine(run.url)
    try:
        with Session(engine) as session:
            lines = session.exec(
                select(PlanLine).where(
                    PlanLine.run_id == run.outcome.run.id, PlanLine.kind == "emergency"
                )
            ).all()
            listed = {
                f"{d.project_id}/{d.line_no}": d.feasibility_listed
                for d in session.exec(select(DemandLine))
            }
            catalogued = catalogued_materials(session=session, today=run.outcome.run.plan_date)
            valid = {
                a.material_code
                for a in session.exec(select(AgreementLine))
                if a.valid_from <= run.outcome.run.province_match_on <= a.valid_to
            }
    finally:
        engine.dispose()
    assert lines
    demands = {d["id"]: d for d in run.instance["demands"]}
    days = {(t["from"], t["to"]): t["days"] for t in run.instance["transport"]}
    used: Counter[str] = Counter()
    for a in run.plan["allocations"]:
        used[a["source"]] += a["quantity"]

    def arrival(source: dict[str, Any], demand: dict[str, Any]) -> date | None:
        if demand["voltage_class"] in HIGH_VOLTAGE and source["kind"] in ("reserve", "consignment"):
            return None
        same = source["location"] == demand["location"]
        trip = 0 if same else days.get((source["location"], demand["location"]))
        return None if trip is None else date.fromisoformat(source["ready"]) + timedelta(trip)

    causes: Counter[str] = Counter()
    for line in lines:
        demand = demands[line.demand_key]
        material = demand["material"]
        causes[line.emergency_cause] += 1
        others = [
            (s, s["quantity"] - used[s["id"]], arrival(s, demand))
            for s in run.instance["sources"]
            if s["material"] == material and s["kind"] != "emergency"
        ]
        left = [(s, rest, when) for s, rest, when in others if rest > 0 and when is not None]
        cause = line.emergency_cause
        if cause in ("listed", "not_listed"):
            assert material not in catalogued
            assert listed[line.demand_key] == (cause == "listed")
            continue
        assert material in catalogued
        if cause == "kept_for_quota":
            assert any(s["kind"] == "reserve" and rest <= s["quota"] for s, rest, _ in left)
        elif cause in ("stock_late", "agreement_late"):
            kinds = {"agreement"} if cause == "agreement_late" else {"reserve", "consignment"}
            assert any(s["kind"] in kinds and when > line.arrival for s, _, when in left)
        elif cause == "unused":
            assert any(when <= line.arrival for _, _, when in left)
        else:  # nothing that could serve the line has stock left
            assert not left
            if cause == "agreement_exhausted":
                assert material in valid
            elif cause == "not_eligible":
                assert demand["voltage_class"] in HIGH_VOLTAGE and material not in valid
                assert any(s["kind"] in ("reserve", "consignment") for s, _, _ in others)
            else:
                assert cause == "stock_exhausted" and material not in valid
    # Catalog materials bought in an emergency are told apart from listed ones.
    assert causes["listed"] < sum(causes.values())
    header, rows = run.book("emergency", "紧急采购")
    at = header.index("紧急采购原因")
    exported = Counter(str(r[at]).rsplit("(", 1)[1].rstrip(")") for r in rows)
    assert exported == causes
    header, by_cause = run.book("emergency", "按原因汇总")
    assert {str(r[0]).rsplit("(", 1)[1].rstrip(")"): r[1] for r in by_cause} == dict(causes)
