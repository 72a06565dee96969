"""The draft application for supplementary funds, opened with openpyxl and read cell by cell."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from supply.calendar_store import load_calendar
from supply.core.clock import SHANGHAI
from supply.packages.budget import budget_check, package_figures
from supply.packages.export import (
    NOTE_SHEET,
    PROJECTS_SHEET,
    SUMMARY_SHEET,
    funding_application,
    funding_workbook,
)
from supply.packages.filings import file_filing, record_filings
from supply.policy import DeadlinePolicy
from tests.conftest import sheet_rows
from tests.packages.world import build_budget_world

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(session: Session) -> Session:
    build_budget_world(session)
    return session


rows = sheet_rows


def test_the_application_lists_each_package_over_budget_and_its_projects(
    world: Session,
) -> None:
    # Filings for P1 and P2, reviewed Mon 11-23 (due Wed 11-25); P2's is filed.
    warnings = budget_check(session=world, additions={"P1": Decimal(1), "P2": Decimal(1)})
    filings = record_filings(
        session=world,
        warnings=warnings,
        review_date=date(2026, 11, 23),
        now=NOW,
        by="张工",
        calendar=load_calendar(),
        policy=DeadlinePolicy(),
    )
    assert [(f.project_id, f.overrun) for f in filings] == [
        ("P1", Decimal(52380)),  # 152,380 (the 1 moves from pending), 100,000 of room
        ("P2", Decimal(1001)),  # no room left
    ]
    world.commit()
    file_filing(session=world, filing_id=filings[1].id or 0, reference="备-9", by="张工", now=NOW)

    content, over = funding_application(session=world, today=date(2026, 11, 26))
    assert [(f.package_id, f.overrun) for f in over] == [("PK-A", Decimal(53380))]
    assert load_workbook(io.BytesIO(content)).sheetnames == [
        SUMMARY_SHEET,
        PROJECTS_SHEET,
        NOTE_SHEET,
    ]
    summary = rows(content, SUMMARY_SHEET)
    assert summary[0] == (
        "项目包编号", "项目包名称", "年度", "类别", "预算(元)", "已占用(元)", "待发生(元)",
        "预计总额(元)", "剩余预算(元)", "预计超支(元)", "申请补充资金(元)", "项目数",
    )  # fmt: skip
    # PK-A only: PK-B (200 of 500) and PK-C (nothing) are within their budgets.
    assert summary[1] == (
        "PK-A", "PK-A 项目包", 2026, "业扩配套", 100000, 78690, 74690, 153380, 21310, 53380,
        53380, 2,
    )  # fmt: skip
    assert summary[2] == (
        "合计 / total (1 行)", None, None, None, 100000, 78690, 74690, 153380, 21310, 53380,
        53380, 2,
    )  # fmt: skip
    assert len(summary) == 3
    projects = rows(content, PROJECTS_SHEET)
    assert projects[0] == (
        "项目包编号", "项目编号", "项目名称", "项目状态", "已占用(元)", "待发生(元)",
        "预计总额(元)", "备案状态", "备案截止日", "备案文号",
    )  # fmt: skip
    assert projects[1] == (
        "PK-A", "P1", "项目 P1", "在建", 77690, 74690, 152380, "已逾期",
        datetime(2026, 11, 25), None,
    )  # fmt: skip
    assert projects[2] == (
        "PK-A", "P2", "项目 P2", "已完工", 1000, 0, 1000, "已备案",
        datetime(2026, 11, 25), "备-9",
    )  # fmt: skip
    assert projects[3][:7] == ("合计 / total (2 行)", None, None, None, 78690, 74690, 153380)
    assert len(projects) == 4
    note = {
        r[0]: r[1] for r in rows(content, NOTE_SHEET)[1:] if r[0] in ("编制日期", "超支项目包数")
    }
    assert note == {"编制日期": "2026-11-26", "超支项目包数": "1"}


def test_amounts_are_rounded_to_the_fen_and_an_empty_application_says_so(
    world: Session,
) -> None:
    [b] = package_figures(session=world, package_ids=["PK-B"])
    over = b.model_copy(
        update={
            "budget": Decimal("100.004"),
            "overrun": Decimal("99.996"),
            "remaining": Decimal("100.004"),
        }
    )
    summary = rows(funding_workbook([over], [], today=date(2026, 11, 26)), SUMMARY_SHEET)
    assert summary[1][4] == 100.0 and summary[1][9] == 100.0
    empty, none_over = funding_application(
        session=world, today=date(2026, 11, 26), package_ids=["PK-B"]
    )
    assert none_over == []
    assert rows(empty, SUMMARY_SHEET) == [rows(empty, SUMMARY_SHEET)[0]]
    assert ("结果", "没有预计超支的项目包 / no package's forecast exceeds its budget") in rows(
        empty, NOTE_SHEET
    )
