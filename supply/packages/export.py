"""The draft application for supplementary funds (补充资金申请), Excel with Chinese headers; and
the package list with its figures as Excel (项目包预算执行).

One row per package whose forecast exceeds its budget, with the figures that justify it
(budget, committed, pending, forecast, the overrun asked for), and the projects behind each on a
second sheet with their filings, written by the one export writer (`supply.core.sheets`).
`funding_workbook` is pure; `funding_application` reads the database and calls it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import NamedTuple

from sqlmodel import Session, col, select

from supply.core.clock import SHANGHAI
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.packages.budget import package_figures
from supply.packages.filings import filing_status
from supply.packages.models import FILING_STATUS_ZH, Filing, FilingPublic, PackageFigures
from supply.packages.service import PackageFilter, get_package_or_raise, package_summaries
from supply.projects.models import PROJECT_STATUS_ZH, ProjectStatus

SUMMARY_SHEET = "补充资金申请"
PROJECTS_SHEET = "项目明细"
NOTE_SHEET = "说明"

SUMMARY_COLUMNS = [
    Column("项目包编号"), Column("项目包名称"), Column("年度", "int"), Column("类别"),
    *(Column(f"{name}(元)", "money", total=True) for name in (
        "预算", "已占用", "待发生", "预计总额", "剩余预算", "预计超支", "申请补充资金",
    )),
    Column("项目数", "int", total=True),
]  # fmt: skip
PROJECT_COLUMNS = [
    Column("项目包编号"), Column("项目编号"), Column("项目名称"), Column("项目状态"),
    Column("已占用(元)", "money", total=True), Column("待发生(元)", "money", total=True),
    Column("预计总额(元)", "money", total=True), Column("备案状态"), Column("备案截止日", "date"),
    Column("备案文号"),
]  # fmt: skip


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
            f.package_id, f.name, f.year, f.kind, f.budget, f.committed, f.pending, f.forecast,
            f.remaining, f.overrun, f.overrun, len(f.projects),
        ]
        for f in over
    ]  # fmt: skip
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
                    p.committed,
                    p.pending,
                    p.forecast,
                    FILING_STATUS_ZH[filing_status(found, today=today)] if found else "",
                    found.due_on if found else None,
                    (found.reference or "") if found else "",
                ]
            )
    note = [
        ["编制日期", today.isoformat()],
        ["超支项目包数", str(len(over))],
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
    return write_xlsx(
        [
            Sheet(SUMMARY_SHEET, SUMMARY_COLUMNS, summary, totals=bool(over)),
            Sheet(PROJECTS_SHEET, PROJECT_COLUMNS, projects, totals=bool(projects)),
            Sheet(NOTE_SHEET, [Column("项目"), Column("内容")], note),
        ]
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
    """The draft application for supplementary funds for every package over budget (of `year`,
    of `package_ids`); a package id that does not exist is NotFound."""
    for package_id in package_ids or ():
        get_package_or_raise(session=session, package_id=package_id)
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


PACKAGES_SHEET = "项目包预算执行"
PACKAGE_COLUMNS = [
    Column("项目包编号"), Column("项目包名称"), Column("年度", "int"), Column("类别"),
    *(Column(f"{name}(元)", "money", total=True) for name in (
        "预算", "已占用", "待发生", "剩余预算", "预计总额", "预计超支",
    )),
    Column("项目数", "int", total=True),
]  # fmt: skip


def export_packages(*, session: Session, where: PackageFilter) -> bytes:
    """The packages `where` selects, in its order, with their figures, as .xlsx bytes (names and
    kinds as text, whatever they start with)."""
    rows = [
        [
            s.id, s.name, s.year, s.kind, s.budget, s.committed, s.pending, s.remaining,
            s.forecast, s.overrun, s.projects,
        ]
        for s in package_summaries(session=session, where=where)
    ]  # fmt: skip
    return write_xlsx([Sheet(PACKAGES_SHEET, PACKAGE_COLUMNS, rows, totals=bool(rows))])


FILINGS_SHEET = "备案"
FILING_COLUMNS = [
    Column("编号 / id", "int"),
    Column("项目包 / package"),
    Column("项目包名称 / package name"),
    Column("项目 / project"),
    Column("项目名称 / project name"),
    Column("超支(元) / overrun", "money", total=True),
    Column("评审日期 / review", "date"),
    Column("备案截止 / due", "date"),
    Column("状态 / status"),
    Column("备案时间 / filed at"),
    Column("备案人 / filed by"),
    Column("省公司备案文号 / reference"),
]


def export_filings(filings: Sequence[FilingPublic]) -> bytes:
    """The filings as the page lists them (its filter, its order), as .xlsx bytes; names and the
    province's reference as text."""
    rows = [
        [
            f.id, f.package_id, f.package_name, f.project_id, f.project_name, f.overrun,
            f.review_on, f.due_on, FILING_STATUS_ZH[f.status],
            f.filed_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if f.filed_at else None,
            f.filed_by, f.reference,
        ]
        for f in filings
    ]  # fmt: skip
    return write_xlsx([Sheet(FILINGS_SHEET, FILING_COLUMNS, rows, totals=bool(rows))])
