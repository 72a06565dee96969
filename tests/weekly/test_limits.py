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
from supply.core.money import MAX_AMOUNT, MAX_PRICE
from supply.core.units import MAX_QUANTITY
from supply.limits import MAX_UNIT_COST, screen
from supply.packages.budget import package_figures
from supply.planning import DemandItem
from supply.projects.models import Project
from supply.weekly.models import LineKind, PlanLine
from supply.weekly.province import import_province_match
from supply.weekly.service import approve_run
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
    assert outcome.run.kpis["totals"]["unmet_lines"] == 1
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


def _supply(
    *, price: Decimal = Decimal(100), agreement_price: Decimal = Decimal(90)
) -> SupplyState:
    return SupplyState(
        materials={"M": MaterialItem("M", "物料", "台", "10kV", price, 10, 1000, heavy=False)},
        warehouse_location={"WH": "here"},
        transport={},
        reserve=[],
        consignment=[],
        agreements=[AgreementItem(1, "A", 1, "S", "M", 10, agreement_price, 5, "WH")],
        central_warehouse="WH",
    )


def _line(key: str, quantity: int) -> DemandItem:
    return DemandItem(key, key.split("/")[0], "M", quantity, date(2026, 12, 1), "10kV", "here", 2)


def test_the_screen_takes_lines_at_the_limits_and_refuses_one_past_them() -> None:
    supply = _supply()
    at_limit = MAX_AMOUNT / (Decimal(100) * 11)  # emergency: 100 × (1 + 1000 %)
    kept, refused = screen(
        [_line("P/1", MAX_QUANTITY // 10_000), _line("P/2", int(at_limit)),
         _line("P/3", int(at_limit) + 1), _line("P/4", MAX_QUANTITY + 1)],
        supply,
    )  # fmt: skip
    assert [i.key for i in kept] == ["P/1", "P/2"]
    assert [(r.item.key, "above the limit" in r.reason) for r in refused] == [
        ("P/3", True),
        ("P/4", True),
    ]
    assert "10,000,000,000 CNY for one line" in refused[0].reason
    assert "100,000,000 base units" in refused[1].reason

    priced = _supply(price=MAX_PRICE, agreement_price=MAX_UNIT_COST + 1)
    kept, refused = screen([_line("P/1", 1)], priced)
    assert kept == [] and "agreement A/1" in refused[0].reason
    kept, _ = screen([_line("P/1", 1)], _supply(price=MAX_PRICE, agreement_price=MAX_PRICE))
    assert [i.key for i in kept] == ["P/1"]  # the largest price is still plannable


def test_the_screen_refuses_a_material_too_dear_to_plan_exactly_with_so_many_lines() -> None:
    supply = _supply(price=MAX_PRICE)  # emergency at 1.1 billion a unit, scaled by up to 10**6
    few = [_line(f"P{n}/1", 1) for n in range(100)]
    assert len(screen(few, supply)[0]) == 100
    many = [_line(f"P{n}/1", 1) for n in range(5000)]
    kept, refused = screen(many, supply)
    assert kept == [] and len(refused) == 5000
    assert "5,000 lines at unit costs up to 1,100,000,000.00 CNY" in refused[0].reason
