"""The weekly run and its approval with packages (SQLite and PostgreSQL): the per-package KPIs and
export, and the budget check at approval — warnings returned, filings opened, figures consistent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from supply.core.clock import SHANGHAI, FixedClock
from supply.packages.budget import package_figures
from supply.packages.models import Filing, FilingStatus
from supply.projects.models import Project
from supply.weekly.approval import approve_run
from supply.weekly.run import run_weekly
from tests.conftest import sheet_rows
from tests.packages.world import add_package
from tests.signin import act_as
from tests.weekly.world import (
    BEFORE_CUTOFF,
    CALENDAR,
    POLICY,
    add_project,
    load_world,
    settings_for,
)

D = Decimal
APPROVED_AT = datetime(2026, 11, 30, 14, 0, tzinfo=SHANGHAI)  # Monday


@pytest.fixture
def world(session: Session) -> Session:
    """The weekly tests' three projects, P-CAP and P-NEW in package PK-W (60,000), P-LV in PK-L."""
    load_world(session)
    add_package(session, "PK-W", "60000")
    add_package(session, "PK-L", "100000")
    add_project(
        session,
        "P-CAP",
        kind="area_capacity_increase",
        approved=date(2026, 11, 26),
        location="wendeng",
        lines=[("DT-400", 1)],
    )
    add_project(
        session,
        "P-NEW",
        kind="area_new",
        approved=date(2026, 11, 20),
        location="huancui",
        lines=[("DT-400", 1)],
    )
    add_project(
        session,
        "P-LV",
        kind="lv_extension",
        approved=date(2026, 11, 27),
        location="wendeng",
        voltage="0.4kV",
        lines=[("MTR-1P", 5)],
    )
    for project_id, package_id in (("P-CAP", "PK-W"), ("P-NEW", "PK-W"), ("P-LV", "PK-L")):
        project = session.get(Project, project_id)
        assert project is not None
        project.package_id = package_id
        session.add(project)
    session.commit()
    return session


def test_kpis_and_the_export_have_a_section_per_package(world: Session, tmp_path: Path) -> None:
    outcome = run_weekly(
        engine=world.get_bind(),  # type: ignore[arg-type]
        at=BEFORE_CUTOFF,
        now=BEFORE_CUTOFF,
        user="物资部",
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path / "runs")),
    )
    # Both transformers from the wendeng reserve (45,000 each), the meters from consignment (190).
    assert outcome.run.kpis["by_package"] == {
        "PK-L": {
            "lines": 1,
            "on_time_lines": 1,
            "late_lines": 0,
            "unmet_lines": 0,
            "cost_by_source": {"consignment": 950.0},
            "cost": 950.0,
        },
        "PK-W": {
            "lines": 2,
            "on_time_lines": 2,
            "late_lines": 0,
            "unmet_lines": 0,
            "cost_by_source": {"reserve": 90000.0},
            "cost": 90000.0,
        },
    }
    book = load_workbook(outcome.exports["packages"])
    assert book.sheetnames == ["项目包汇总", "项目明细"]
    summary = sheet_rows(outcome.exports["packages"], "项目包汇总")
    assert summary == [
        ("项目包编号", "需求行数", "按时", "延迟", "未满足", "实物储备(元)", "供应商寄存(元)",
         "协议库存(元)", "紧急采购(元)", "本次计划金额(元)"),
        ("PK-L", 1, 1, 0, 0, 0, 950, 0, 0, 950),
        ("PK-W", 2, 2, 0, 0, 90000, 0, 0, 0, 90000),
        ("合计 / total (2 行)", 3, 3, 0, 0, 90000, 950, 0, 0, 90950),
    ]  # fmt: skip
    detail = sheet_rows(outcome.exports["packages"], "项目明细")
    assert [r[:3] for r in detail[1:-1]] == [
        ("PK-L", "P-LV", 1),
        ("PK-W", "P-CAP", 1),
        ("PK-W", "P-NEW", 1),
    ]
    assert outcome.exports["packages"].name == "2026-W49_项目包汇总.xlsx"

    # Before approval the draft prices the pending demand: 90,950 of which PK-W's 90,000.
    [w] = package_figures(session=world, package_ids=["PK-W"])
    assert (w.committed, w.pending, w.forecast, w.overrun) == (D(0), D(90000), D(90000), D(30000))

    approval = approve_run(
        session=world,
        batch_id="2026-W49",
        user="物资部 李工",
        now=APPROVED_AT,
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path / "runs")),
    )
    assert approval.status == "approved"
    # PK-W: 90,000 committed against 60,000. By project id P-CAP takes 45,000 of the budget,
    # P-NEW the 15,000 left and is 30,000 over. PK-L (950 of 100,000) does not warn.
    [warning] = approval.budget_warnings
    assert (warning.package_id, warning.forecast_before, warning.forecast_after) == (
        "PK-W",
        D(90000),
        D(90000),
    )
    assert [(p.project_id, p.addition, p.overrun) for p in warning.projects] == [
        ("P-NEW", D(45000), D(30000))
    ]
    [filing] = approval.filings
    assert (filing.project_id, filing.overrun, filing.review_on, filing.due_on, filing.status) == (
        "P-NEW",
        D(30000),
        date(2026, 11, 30),
        date(2026, 12, 2),
        FilingStatus.DUE,
    )
    assert filing.package_name == "PK-W 项目包" and filing.project_name == "项目 P-NEW"
    [stored] = world.exec(select(Filing)).all()
    assert (stored.created_by, stored.overrun) == ("物资部 李工", D(30000))

    # After approval the holds carry the cost: the forecast the warning gave, now committed.
    world.expire_all()
    w, l_ = package_figures(session=world, package_ids=["PK-W", "PK-L"])[::-1]
    assert (w.package_id, w.committed, w.pending, w.forecast) == ("PK-W", D(90000), D(0), D(90000))
    assert (l_.package_id, l_.committed, l_.pending) == ("PK-L", D(950), D(0))


def test_the_http_approval_answer_carries_the_warning_and_the_filing(
    world: Session, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(world, str(tmp_path / "runs"))
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(APPROVED_AT)
    act_as(app)
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False) as client:
        made = client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
        assert made.status_code == 201, made.text
        assert "packages" in made.json()["exports"]
        approved = client.post("/api/v1/plans/batches/2026-W49/approve")
        assert approved.status_code == 200, approved.text
        body = approved.json()
        assert body["status"] == "approved"
        [warning] = body["budget_warnings"]
        assert (warning["package_id"], Decimal(warning["overrun"])) == ("PK-W", D(30000))
        assert [p["project_id"] for p in warning["projects"]] == ["P-NEW"]
        [filing] = body["filings"]
        assert (filing["project_id"], filing["due_on"], filing["status"]) == (
            "P-NEW",
            "2026-12-02",
            "due",
        )
        listed = client.get("/api/v1/filings", params={"due_this_week": True}).json()
        assert [f["id"] for f in listed["items"]] == [filing["id"]]
