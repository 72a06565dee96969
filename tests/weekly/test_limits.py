"""Lines the planner cannot take never stop the weekly run: each is refused with its reason.

A database may hold numbers past today's limits (stored before them): a line of 20,000,000,000
metres, an agreement priced at 100 billion yuan. The Monday run (service and command line, on
SQLite and PostgreSQL) plans every other line as usual and lists the bad one as unmet, with a
reason that names the line and what to fix, in the plan, its exports and its KPIs; approving the
run (which checks package budgets) works too. The screen itself is pure and checked on its own.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app
from catalogs.models import AgreementLine
from supply.availability import AgreementItem, MaterialItem, SupplyState
from supply.core.db import dispose_engines
from supply.core.errors import ImportRejected
from supply.core.money import MAX_AMOUNT, MAX_EMERGENCY_PRICE, MAX_PRICE
from supply.core.units import MAX_QUANTITY
from supply.limits import Dearest, drop_oversized, largest_quantity, screen
from supply.packages.budget import package_figures
from supply.planning import DemandItem, MatchingProblem, build_instance
from supply.projects.models import Project
from supply.weekly.approval import approve_run
from supply.weekly.models import LineKind, PlanLine
from supply.weekly.province import import_province_match
from tests.conftest import xlsx_bytes
from tests.packages.world import add_package
from tests.weekly.test_weekly_run import run, world  # noqa: F401  (the world fixture)
from tests.weekly.world import BEFORE_CUTOFF, CALENDAR, POLICY, add_project, settings_for

HUGE = 20_000_000_000  # metres of cable: accepted before the limits, over MAX_QUANTITY now


def _unmet(session: Session, run_id: int) -> dict[str, tuple[int, str]]:
    return {
        f"{line.project_id}/{line.material_code}": (line.quantity, line.reason)
        for line in session.exec(
            select(PlanLine).where(PlanLine.run_id == run_id, PlanLine.kind == LineKind.UNMET)
        )
    }


def test_a_line_past_the_quantity_limit_is_refused_and_every_other_line_planned(
    world: Session,  # noqa: F811
    tmp_path: Path,
) -> None:
    add_package(world, "PK-S", "1000")  # a small budget: approval checks it, with the line open
    add_project(world, "P-BIG", kind="area_new", approved=date(2026, 11, 20),
                location="huancui", lines=[("CB10-300", HUGE), ("MTR-1P", 2)])  # fmt: skip
    project = world.get(Project, "P-BIG")
    assert project is not None
    project.package_id = "PK-S"
    world.add(project)
    world.commit()

    outcome = run(world, tmp_path)
    unmet = _unmet(world, outcome.run.id)
    quantity, reason = unmet["P-BIG/CB10-300"]
    assert quantity == HUGE
    assert "line P-BIG/1: quantity 20,000,000,000 is above the limit of 100,000,000" in reason
    assert "correct or split the line" in reason
    planned = {
        (line.project_id, line.material_code, line.kind)
        for line in world.exec(select(PlanLine).where(PlanLine.run_id == outcome.run.id))
    }
    assert ("P-BIG", "MTR-1P", "consignment") in planned  # its other line is planned
    assert ("P-CAP", "DT-400", "reserve") in planned  # and so is everyone else's
    # Counted apart, in the plan and in the baseline alike: the refused line is neither unmet
    # among the planned lines nor on time by value (it was, in the baseline), and its
    # 11.2 trillion yuan do not swamp the value KPIs.
    for figures in (outcome.run.kpis["totals"], outcome.run.kpis["baseline"]):
        assert figures["refused_lines"] == 1 and figures["unmet_lines"] == 0
        assert figures["refused_value"] == HUGE * 560  # at CB10-300's standard price
        assert figures["lines"] == 4 and figures["value"] < 10**6
        assert figures["on_time_value"] + figures["late_value"] == pytest.approx(figures["value"])
    assert outcome.run.demand_lines == 5

    exported = load_workbook(outcome.exports["late_unmet"], read_only=True)
    texts = [str(c) for s in exported.worksheets for r in s.iter_rows(values_only=True) for c in r]
    assert any("quantity 20,000,000,000 is above the limit" in t for t in texts)

    approved = approve_run(
        session=world,
        batch_id="2026-W49",
        user="主任",
        now=BEFORE_CUTOFF,
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path)),
    )
    assert approved.status == "approved"
    [figures] = package_figures(session=world, package_ids=["PK-S"])
    assert figures.pending == 0  # the refused line adds nothing it could never be


def test_an_agreement_priced_past_the_limit_refuses_its_material_s_lines_only(
    world: Session,  # noqa: F811
    tmp_path: Path,
) -> None:
    agreement = world.exec(select(AgreementLine).where(AgreementLine.line_no == 2)).one()
    agreement.unit_price = Decimal(10) ** 11  # CB10-300, stored before the price limit
    world.add(agreement)
    add_project(world, "P-CB", kind="area_new", approved=date(2026, 11, 20),
                location="huancui", lines=[("CB10-300", 30)])  # fmt: skip
    outcome = run(world, tmp_path)
    unmet = _unmet(world, outcome.run.id)
    assert set(unmet) == {"P-CB/CB10-300"}
    assert (
        "agreement SD-2026-01/2, 100,000,000,000.00 CNY, is above the price limit"
        in (unmet["P-CB/CB10-300"][1])
    )
    assert "correct the catalog" in unmet["P-CB/CB10-300"][1]
    assert outcome.run.kpis["totals"]["on_time_lines"] == 3  # the world's own lines


def test_the_command_line_run_reports_and_does_not_fail(
    world: Session,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_project(world, "P-BIG", kind="area_new", approved=date(2026, 11, 20),
                location="huancui", lines=[("CB10-300", HUGE)])  # fmt: skip
    url = world.get_bind().url.render_as_string(hide_password=False)  # type: ignore[union-attr]
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", url)
    monkeypatch.setenv("GRIDSUPPLY_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    try:
        done = CliRunner().invoke(app, ["plan", "run", "--at", BEFORE_CUTOFF.isoformat()])
    finally:
        dispose_engines()
    assert done.exit_code == 0, done.output
    assert done.exception is None and "run_dir:" in done.output


def test_a_province_matching_row_past_the_quantity_limit_is_named(
    world: Session,  # noqa: F811
    tmp_path: Path,
) -> None:
    run(world, tmp_path)
    approve_run(
        session=world,
        batch_id="2026-W49",
        user="主任",
        now=BEFORE_CUTOFF,
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path)),
    )
    content = xlsx_bytes(
        [
            ["物料编码", "交货仓库", "协议编号", "行号", "数量", "预计到货日期"],
            ["DT-400", "WH-CENTRAL", "SD-2026-01", 1, MAX_QUANTITY + 1, "2026-12-20"],
        ]
    )
    with pytest.raises(ImportRejected) as rejected:
        import_province_match(session=world, batch_id="2026-W49", content=content,
                              file_name="m.xlsx", user="省公司", now=BEFORE_CUTOFF)  # fmt: skip
    assert [p.text for p in rejected.value.problems] == [
        "第 2 行 数量: 100,000,001 超过上限 100,000,000 / row 2 quantity: 100,000,001 is above "
        "the limit of 100,000,000 base units"
    ]


# ---------------------------------------------------------------- the screen, pure


def _supply(price: Decimal = Decimal(100)) -> SupplyState:
    return SupplyState(
        materials={"M": MaterialItem("M", "物料", "台", "10kV", price, 10, 1000, heavy=False)},
        warehouse_location={"WH": "here"},
        transport={},
        reserve=[],
        consignment=[],
        agreements=[AgreementItem(1, "A", 1, "S", "M", 10, Decimal(90), 5, "WH")],
        central_warehouse="WH",
    )


def _line(key: str, quantity: int) -> DemandItem:
    return DemandItem(key, key.split("/")[0], "M", quantity, date(2026, 12, 1), "10kV", "here", 2)


def _dearest(cost: Decimal, en: str = "the emergency price of M") -> dict[str, Dearest]:
    return {"M": Dearest(cost, "最贵", en)}


def test_the_screen_takes_lines_at_the_limits_and_refuses_one_past_them() -> None:
    dearest = _dearest(Decimal(1100))  # emergency: 100 × (1 + 1000 %)
    below = int(MAX_AMOUNT / 1100)  # 9,090,909 × 1,100 is below MAX_AMOUNT
    kept, refused = screen(
        [_line("P/1", MAX_QUANTITY // 10_000), _line("P/2", below),
         _line("P/3", below + 1), _line("P/4", MAX_QUANTITY + 1)],
        dearest,
    )  # fmt: skip
    assert [i.key for i in kept] == ["P/1", "P/2"]
    assert [(r.item.key, "above the limit" in r.reason) for r in refused] == [
        ("P/3", True),
        ("P/4", True),
    ]
    assert "10,000,000,000 CNY for one line" in refused[0].reason
    assert "100,000,000 base units" in refused[1].reason

    kept, refused = screen([_line("P/1", 1)], _dearest(MAX_EMERGENCY_PRICE + 1, "agreement A/1"))
    assert kept == [] and "agreement A/1" in refused[0].reason
    kept, _ = screen([_line("P/1", 1)], _dearest(MAX_EMERGENCY_PRICE))
    assert [i.key for i in kept] == ["P/1"]  # the largest price is still plannable


def test_a_line_costing_exactly_the_amount_limit_is_refused_as_a_budget_is() -> None:
    # One boundary for amounts: below MAX_AMOUNT (the API's budget is `lt` too).
    assert largest_quantity(_dearest(Decimal(1000))["M"]) == 9_999_999
    kept, refused = screen([_line("P/1", 10_000_000), _line("P/2", 9_999_999)],
                           _dearest(Decimal(1000)))  # fmt: skip
    assert [i.key for i in kept] == ["P/2"]
    assert "at or above the limit of 10,000,000,000 CNY" in refused[0].reason
    assert largest_quantity(_dearest(Decimal(300))["M"]) == 33_333_333  # × 300 = 9,999,999,900
    assert largest_quantity(_dearest(Decimal(3))["M"]) == MAX_QUANTITY  # 3,333,333,333 is past it
    assert largest_quantity(_dearest(Decimal("0.000001"))["M"]) == MAX_QUANTITY


def test_a_material_too_dear_to_plan_exactly_with_so_many_lines_is_refused() -> None:
    # At the price limit with six decimal places, scaled by 10**6 into the engine's integers:
    # a hundred lines fit its headroom, five thousand do not — the optimizer says so
    # (optimizer.oversized) and every line of the material is refused, the others kept.
    supply = _supply(price=MAX_PRICE - Decimal("0.000001"))

    def problem(count: int) -> MatchingProblem:
        return build_instance(
            demands=[_line(f"P{n}/1", 1) for n in range(count)],
            supply=supply,
            plan_date=date(2026, 11, 30),
            order_day=date(2026, 12, 2),
            penalty=Decimal(0),
        )

    few, refused = drop_oversized(problem(100))
    assert refused == [] and len(few.instance.demands) == 100
    many, refused = drop_oversized(problem(5000))
    assert many.instance.demands == [] and many.instance.sources == []
    assert len(refused) == 5000 and len(many.demands) == 5000  # still known, to answer them
    assert "material M cannot be planned exactly: E:M unit_cost" in refused[0].reason
    mine, refused = drop_oversized(problem(5000), lines={"P1/1"})  # an urgent request's own
    assert [r.item.key for r in refused] == ["P1/1"] and mine.instance.demands == []
