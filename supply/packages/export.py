"""The draft application for supplementary funds (补充资金申请), Excel with Chinese headers.

One row per package whose forecast exceeds its budget, with the figures that justify it
(budget, committed, pending, forecast, the overrun asked for), and the projects behind each on a
second sheet with their filings. Written with the weekly exports' writer (`xlsxwriter`).
`funding_workbook` is pure; `funding_application` reads the database and calls it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import pandas as pd
from sqlmodel import Session, col, select

from supply.core.money import fen
from supply.packages.budget import PackageFigures, package_figures
from supply.packages.filings import filing_status
from supply.packages.models import FILING_STATUS_ZH, Filing
from supply.projects.models import PROJECT_STATUS_ZH, ProjectStatus
from supply.weekly.export import workbook

SUMMARY_SHEET = "补充资金申请"
PROJECTS_SHEET = "项目明细"
NOTE_SHEET = "说明"

SUMMARY_COLUMNS = [
    "项目包编号", "项目包名称", "年度", "类别", "预算(元)", "已占用(元)", "待发生(元)",
    "预计总额(元)", "剩余预算(元)", "预计超支(元)", "申请补充资金(元)", "项目数",
]  # fmt: skip
PROJECT_COLUMNS = [
    "项目包编号", "项目编号", "项目名称", "项目状态", "已占用(元)", "待发生(元)", "预计总额(元)",
    "备案状态", "备案截止日", "备案文号",
]  # fmt: skip


def _yuan(amount: Decimal) -> float:
    # Excel holds binary floats; the exact amounts stay in the database.
    return float(fen(amount))


def funding_workbook(
    figures: Sequence[PackageFigures], filings: Sequence[Filing], *, today: date
) -> bytes:
    """The application for every package of `figures` over budget, as .xlsx bytes."""
    over = [f for f in figures if f.overrun > 0]
    latest: dict[tuple[str, str], Filing] = {}
    for filing in sorted(filings, key=lambda f: (f.created_at, f.id or 0)):
        latest[filing.package_id, filing.project_id] = filing
    summary = [
        [
            f.package_id, f.name, f.year, f.kind, _yuan(f.budget), _yuan(f.committed),
            _yuan(f.pending), _yuan(f.forecast), _yuan(f.remaining), _yuan(f.overrun),
            _yuan(f.overrun), len(f.projects),
        ]
        for f in over
    ]  # fmt: skip
    if over:
        summary.append(
            [
                "合计", "", None, "",
                *(_yuan(sum((getattr(f, name) for f in over), Decimal(0))) for name in (
                    "budget", "committed", "pending", "forecast", "remaining", "overrun",
                    "overrun",
                )),
                sum(len(f.projects) for f in over),
            ]
        )  # fmt: skip
    projects = []
    for package in over:
        for p in sorted(package.projects, key=lambda p: (-p.forecast, p.project_id)):
            found = latest.get((package.package_id, p.project_id))
            projects.append(
                [
                    package.package_id,
                    p.project_id,
                    p.project_name,
                    PROJECT_STATUS_ZH.get(ProjectStatus(p.status), p.status),
                    _yuan(p.committed),
                    _yuan(p.pending),
                    _yuan(p.forecast),
                    FILING_STATUS_ZH[filing_status(found, today=today)] if found else "",
                    found.due_on if found else None,
                    (found.reference or "") if found else "",
                ]
            )
    note = [
        ["编制日期", today],
        ["超支项目包数", len(over)],
        [
            "依据",
            "项目包预计总额(已占用 + 待发生)超出预算：先实施、后备案，并申请补充资金 / "
            "packages whose forecast (committed + pending) exceeds the budget",
        ],
        [
            "口径",
            "已占用：已预留或已出库的实物储备(标准单价)与供应商寄存(结算单价)、已批准周计划的协议库存"
            "与紧急采购、紧急需求的承诺；待发生：尚无来源的需求，按预计来源单价",
        ],
    ]
    if not over:
        note.append(["结果", "没有预计超支的项目包 / no package's forecast exceeds its budget"])
    return workbook(
        {
            SUMMARY_SHEET: pd.DataFrame(summary, columns=SUMMARY_COLUMNS),
            PROJECTS_SHEET: pd.DataFrame(projects, columns=PROJECT_COLUMNS),
            NOTE_SHEET: pd.DataFrame(note, columns=["项目", "内容"]),
        }
    )


class FundingApplication(NamedTuple):
    """The draft application (.xlsx bytes) and the packages over budget it applies for."""

    content: bytes
    over: list[PackageFigures]


def funding_application(
    *,
    session: Session,
    today: date,
    year: int | None = None,
    package_ids: Collection[str] | None = None,
) -> FundingApplication:
    """The draft application for supplementary funds for every package over budget."""
    figures = package_figures(session=session, year=year, package_ids=package_ids)
    over = [f for f in figures if f.overrun > 0]
    filings = (
        session.exec(
            select(Filing).where(col(Filing.package_id).in_([f.package_id for f in over]))
        ).all()
        if over
        else []
    )
    return FundingApplication(funding_workbook(figures, list(filings), today=today), over)
