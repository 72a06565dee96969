"""`gridsupply packages …`, `gridsupply filings …` and the approval's budget warnings, on a real
SQLite file (the CLI opens its own sessions, as the other CLI tests do)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app
from supply.calendar_store import load_calendar
from supply.core.db import make_engine
from supply.packages.budget import budget_check
from supply.packages.filings import record_filings
from supply.policy import DeadlinePolicy
from supply.projects.models import Project
from tests.packages.test_weekly_packages import APPROVED_AT
from tests.packages.world import add_package, build_budget_world
from tests.weekly.world import add_project, load_world

runner = CliRunner()


def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: Path) -> str:
    shutil.copy(template, tmp_path / "cli.db")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", url)
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    monkeypatch.setenv("GRIDSUPPLY_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture
def budget_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> Path:
    """The budget world with one open filing: P3 in PK-B, 100 over, due 2026-10-09."""
    engine = make_engine(_workdir(tmp_path, monkeypatch, sqlite_template))
    with Session(engine) as session:
        build_budget_world(session)
        record_filings(
            session=session,
            warnings=budget_check(session=session, additions={"P3": Decimal(600)}),
            review_date=date(2026, 9, 30),
            now=APPROVED_AT,
            by="张工",
            calendar=load_calendar(),
            policy=DeadlinePolicy(),
        )
        session.commit()
    engine.dispose()
    return tmp_path


def test_packages_list_and_show_print_the_figures(budget_db: Path) -> None:
    listed = runner.invoke(app, ["packages", "list", "--year", "2026"])
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if "PK-A" in line)
    for figure in ("100,000.00", "78,690.00", "74,690.00", "21,310.00", "153,380.00", "53,380.00"):
        assert figure in row
    assert "PK-C" not in listed.output and "(2)" in listed.output
    shown = runner.invoke(app, ["packages", "show", "PK-A"])
    assert shown.exit_code == 0, shown.output
    p1 = next(line for line in shown.output.splitlines() if "P1 项目 P1" in line)
    assert "77,690.00" in p1 and "74,690.00" in p1 and "152,380.00" in p1
    missing = runner.invoke(app, ["packages", "show", "NOPE"])
    assert missing.exit_code == 1 and "project package NOPE does not exist" in missing.output


def test_packages_funding_writes_the_draft(budget_db: Path) -> None:
    done = runner.invoke(app, ["packages", "funding", "funding.xlsx"])
    assert done.exit_code == 0, done.output
    assert "1 packages over budget by 53,380.00 CNY: PK-A" in done.output
    sheet = load_workbook(budget_db / "funding.xlsx")["补充资金申请"]
    assert [c.value for c in sheet[2]][:3] == ["PK-A", "PK-A 项目包", 2026]
    within = runner.invoke(app, ["packages", "funding", "b.xlsx", "--package", "PK-B"])
    assert within.exit_code == 0 and "no package's forecast exceeds its budget" in within.output
    wrong = runner.invoke(app, ["packages", "funding", "funding.csv"])
    assert wrong.exit_code == 2 and "must end in .xlsx" in wrong.output
    unknown = runner.invoke(app, ["packages", "funding", "c.xlsx", "--package", "NOPE"])
    assert unknown.exit_code == 1 and not (budget_db / "c.xlsx").exists()


def test_filings_due_this_week_then_overdue_then_filed(budget_db: Path) -> None:
    due = runner.invoke(app, ["filings", "--due-this-week", "--on", "2026-10-05"])
    assert due.exit_code == 0, due.output
    assert "filings (1) as of 2026-10-05" in due.output
    row = next(line for line in due.output.splitlines() if "P3" in line)
    assert "2026-10-09" in row and "待备案 due" in row and "100.00" in row
    assert "(0)" in runner.invoke(app, ["filings", "--overdue", "--on", "2026-10-05"]).output
    late = runner.invoke(app, ["filings", "--overdue", "--on", "2026-10-10"])
    assert "已逾期 overdue" in late.output and "(1)" in late.output

    filed = runner.invoke(app, ["filings", "file", "1", "--reference", "备-18", "--by", "张工"])
    assert filed.exit_code == 0, filed.output
    assert "filing 1 filed: P3 (PK-B), 文号 reference 备-18, by 张工" in filed.output
    everything = runner.invoke(app, ["filings", "--on", "2026-10-12"]).output
    assert "已备案 filed" in everything and "备-18 (张工)" in everything
    again = runner.invoke(app, ["filings", "file", "1", "--reference", "备-19"])
    assert again.exit_code == 1 and "already filed" in again.output
    assert runner.invoke(app, ["filings", "file", "9", "--reference", "x"]).exit_code == 1
    blank = runner.invoke(app, ["filings", "file", "1", "--reference", " "])
    assert blank.exit_code == 2
    bad_day = runner.invoke(app, ["filings", "--on", "10/10/2026"])
    assert bad_day.exit_code == 2 and "--on must be a date" in bad_day.output


@pytest.fixture
def weekly_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> Path:
    """The weekly world: P-CAP and P-NEW in PK-W (60,000), P-LV in no package."""
    engine = make_engine(_workdir(tmp_path, monkeypatch, sqlite_template))
    with Session(engine) as session:
        load_world(session)
        add_package(session, "PK-W", "60000")
        for project_id, kind, approved, location in (
            ("P-CAP", "area_capacity_increase", date(2026, 11, 26), "wendeng"),
            ("P-NEW", "area_new", date(2026, 11, 20), "huancui"),
        ):
            add_project(
                session,
                project_id,
                kind=kind,
                approved=approved,
                location=location,
                lines=[("DT-400", 1)],
            )
            project = session.get(Project, project_id)
            assert project is not None
            project.package_id = "PK-W"
            session.add(project)
        session.commit()
    engine.dispose()
    return tmp_path


def test_plan_run_shows_packages_and_approve_shows_the_warning_and_filing(
    weekly_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch's own Monday: approval holds stock until today + 10 working days, inside the
    # bundled calendar whatever the real date (no test depends on today's date).
    monkeypatch.setenv("GRIDSUPPLY_FROZEN_NOW", "2026-11-30T11:30:00+08:00")
    today = date(2026, 11, 30)
    ran = runner.invoke(app, ["plan", "run", "--at", "2026-11-30T11:00:00+08:00"])
    assert ran.exit_code == 0, ran.output
    assert "by project package" in ran.output
    row = next(line for line in ran.output.splitlines() if line.strip("│ ").startswith("PK-W"))
    assert "90,000.00" in row
    approved = runner.invoke(app, ["plan", "approve", "2026-W49", "--by", "李工"])
    assert approved.exit_code == 0, approved.output
    assert "batch 2026-W49 approved by 李工" in approved.output
    assert "budget warning" in approved.output and "PK-W" in approved.output
    assert "over by 30,000.00" in approved.output
    assert "P-NEW 项目 P-NEW: 新增 adds 45,000.00, 超支 causes 30,000.00" in approved.output
    filing = next(
        line for line in approved.output.splitlines() if "P-NEW" in line and "待备案" in line
    )
    assert str(today) in filing and "30,000.00" in filing
