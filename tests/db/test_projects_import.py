"""Project workbook import and export on SQLite and PostgreSQL: all or nothing, upsert, states."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from catalogs.models import AgreementLine, upper_quantity
from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.core.errors import ImportRejected, InvalidInput
from supply.demand.models import DemandLine, DemandStatus
from supply.packages.models import Package
from supply.policy import DeadlinePolicy
from supply.projects.files import SheetKind
from supply.projects.importing import ProjectImportReport, export_projects, import_projects
from supply.projects.models import Project
from supply.projects.service import cancel_project

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
PACKAGES = [
    ["项目包编号", "项目包名称", "年度", "预算(元)"],
    ["PK-1", "环翠区项目包", 2026, 5_000_000],
]
PROJECTS = [
    ["项目编号", "项目名称", "工程类型", "所在地点", "行政审批日期", "项目包编号", "重点工程"],
    ["P-1", "海景花园新建台区", "新建台区", "huancui", "2026-11-16", "PK-1", "市级重点"],
    ["P-2", "王某某居民新装", "表前线", "wendeng", "2026/11/26", None, None],
]
LINES = [
    ["项目编号", "行号", "物料编码", "单位", "需求数量"],
    ["P-1", 1, "DT-OIL-S13-400", "台", 1],
    ["P-1", 2, "OHL10-JKLYJ-70", "千米", 1.2],
    ["P-2", 1, "CBLV-4x50", "米", 60],
]


@pytest.fixture
def run(catalog_session: Session) -> Callable[..., ProjectImportReport]:
    """Import sheets given as rows (header first) as one workbook, at a moment."""

    def run(
        sheets: dict[str, list[list[object]]], *, now: datetime = NOW, user: str = "李工"
    ) -> ProjectImportReport:
        return import_projects(
            session=catalog_session,
            content=workbook(sheets),
            file_name="项目.xlsx",
            calendar=default_calendar(),
            policy=DeadlinePolicy(),
            now=now,
            user=user,
        )

    return run


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """Write each named sheet's rows (header first) into one .xlsx workbook."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def counts(report: ProjectImportReport) -> dict[str, tuple[int, int, int]]:
    return {
        name: (c.inserted, c.updated, c.unchanged)
        for name, c in (
            ("packages", report.packages),
            ("projects", report.projects),
            ("lines", report.lines),
        )
    }


def test_a_workbook_is_inserted_then_unchanged_then_updated_by_key(
    catalog_session: Session, run: Callable[..., ProjectImportReport]
) -> None:
    sheets = {"项目包": PACKAGES, "项目": PROJECTS, "需求明细": LINES}
    assert counts(run(sheets)) == {
        "packages": (1, 0, 0),
        "projects": (2, 0, 0),
        "lines": (3, 0, 0),
    }
    later = NOW + timedelta(hours=3)
    assert counts(run(sheets, now=later)) == {
        "packages": (0, 0, 1),
        "projects": (0, 0, 2),
        "lines": (0, 0, 3),
    }
    changed = [row[:] for row in LINES] + [["P-2", 2, "MBOX-1P-4", None, 1]]
    changed[3][4] = 90
    report = run({"需求明细": changed}, now=later, user="王工")
    assert counts(report)["lines"] == (1, 1, 2)
    catalog_session.expire_all()
    stored = {(x.project_id, x.line_no): x for x in catalog_session.exec(select(DemandLine)).all()}
    assert stored[("P-1", 2)].quantity == 1200  # 1.2 千米, in metres
    assert stored[("P-2", 1)].quantity == 90
    # A changed line keeps its submission moment; a new one is submitted by this import.
    assert stored[("P-2", 1)].submitted_at == NOW and stored[("P-2", 1)].submitted_by == "李工"
    assert stored[("P-2", 2)].submitted_at == later and stored[("P-2", 2)].submitted_by == "王工"
    project = catalog_session.get(Project, "P-1")
    assert project is not None and project.priority == "city_key"
    assert (project.deadline, project.need_by, project.created_by) == (
        date(2026, 12, 7),
        date(2026, 11, 30),
        "李工",
    )


def test_a_workbook_with_any_bad_row_writes_nothing_and_names_every_problem(
    catalog_session: Session, run: Callable[..., ProjectImportReport]
) -> None:
    projects = [*PROJECTS, ["P-3", "石岛35千伏工程", "35kV", "shidao", "2026-10-15", "PK-1", None]]
    lines = [*LINES, ["P-1", 3, "SPECIAL-1", None, 2], ["P-4", 1, "JP-400", None, -1]]
    with pytest.raises(ImportRejected) as caught:
        run({"项目包": PACKAGES, "项目": projects, "需求明细": lines})
    texts = [p.text for p in caught.value.problems]
    assert len(texts) == 4
    assert "sheet projects row 4 completion_date: a hv_35kv project needs" in texts[0]
    assert "sheet lines row 5 material_code: material SPECIAL-1 is not in the material" in texts[1]
    assert "sheet lines row 6 project_id: project P-4 is neither" in texts[2]
    assert texts[3] == (
        "需求明细表 第 6 行 需求数量: -1 不能为负 / sheet lines row 6 quantity: must not be negative"
    )
    assert "4 problem(s); nothing was imported" in caught.value.message
    for model in (Package, Project, DemandLine):
        assert catalog_session.exec(select(model)).first() is None


def test_a_line_that_is_planned_cannot_be_changed_by_a_file_but_may_be_repeated(
    catalog_session: Session, run: Callable[..., ProjectImportReport]
) -> None:
    run({"项目包": PACKAGES, "项目": PROJECTS, "需求明细": LINES})
    line = catalog_session.exec(
        select(DemandLine).where(DemandLine.project_id == "P-1", DemandLine.line_no == 1)
    ).one()
    line.status = DemandStatus.PLANNED
    catalog_session.add(line)
    catalog_session.commit()
    assert counts(run({"需求明细": LINES}))["lines"] == (0, 0, 3)
    changed = [row[:] for row in LINES]
    changed[1][4] = 2
    with pytest.raises(ImportRejected, match="line 1 of project P-1 is planned"):
        run({"需求明细": changed})


def test_a_cancelled_project_is_not_changed_by_a_file(
    catalog_session: Session, run: Callable[..., ProjectImportReport]
) -> None:
    run({"项目包": PACKAGES, "项目": PROJECTS})
    cancel_project(session=catalog_session, project_id="P-2", now=NOW, user="test")
    assert counts(run({"项目": PROJECTS}))["projects"] == (0, 0, 2)
    renamed = [row[:] for row in PROJECTS]
    renamed[2][1] = "改名"
    with pytest.raises(ImportRejected, match="project P-2 is cancelled; it cannot be changed"):
        run({"项目": renamed})
    with pytest.raises(ImportRejected, match="project P-2 is cancelled; no lines can be added"):
        run({"需求明细": [LINES[0], LINES[3]]})


def test_a_csv_file_is_one_sheet_which_must_be_named(
    catalog_session: Session,
    run: Callable[..., ProjectImportReport],
    make_csv: Callable[..., bytes],
) -> None:
    run({"项目包": PACKAGES, "项目": PROJECTS})

    def csv_import(sheet: SheetKind | None) -> ProjectImportReport:
        return import_projects(
            session=catalog_session,
            content=make_csv(LINES, encoding="gb18030"),
            file_name="需求.csv",
            sheet=sheet,
            calendar=default_calendar(),
            policy=DeadlinePolicy(),
            now=NOW,
            user="李工",
        )

    with pytest.raises(InvalidInput, match="say which"):
        csv_import(None)
    assert counts(csv_import(SheetKind.LINES))["lines"] == (3, 0, 0)


def test_a_workbook_without_a_known_sheet_or_rows_is_rejected_as_a_whole(
    run: Callable[..., ProjectImportReport],
) -> None:
    with pytest.raises(ImportRejected) as caught:
        run({"Sheet1": PROJECTS})
    [problem] = caught.value.problems
    assert problem.row is None and "项目 (projects)" in problem.message_en
    with pytest.raises(ImportRejected, match="header but no data rows"):
        run({"项目": PROJECTS[:1], "需求明细": LINES[:1]})


def test_an_unknown_sheet_beside_known_ones_is_ignored_and_reported(
    run: Callable[..., ProjectImportReport],
) -> None:
    report = run({"项目包": PACKAGES, "说明": [["备注"], ["测试"]], "项目": PROJECTS})
    assert report.ignored_sheets == ["说明"] and counts(report)["projects"] == (2, 0, 0)


def test_export_writes_what_import_reads_back_unchanged(week_session: Session) -> None:
    content = export_projects(session=week_session)
    report = import_projects(
        session=week_session,
        content=content,
        file_name="export.xlsx",
        calendar=default_calendar(),
        policy=DeadlinePolicy(),
        now=NOW,
        user="李工",
    )
    projects = len(week_session.exec(select(Project)).all())
    lines = len(week_session.exec(select(DemandLine)).all())
    assert counts(report) == {
        "packages": (0, 0, 15),
        "projects": (0, 0, projects),
        "lines": (0, 0, lines),
    }
    csv = export_projects(session=week_session, fmt="csv", sheet=SheetKind.LINES, status="active")
    header, first = csv.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("项目编号,行号,物料编码,物料名称,单位,需求数量")
    assert first.split(",")[-2] == "待匹配"  # the status, in Chinese, for the reader
    with pytest.raises(InvalidInput, match="say which sheet"):
        export_projects(session=week_session, fmt="csv")


def test_a_stored_line_is_not_refused_once_its_agreement_lines_are_used_up(
    run: Callable[..., ProjectImportReport], catalog_session: Session
) -> None:
    # CB10-3x120 is catalogued only through agreement lines.
    lines = [*LINES, ["P-1", 3, "CB10-3x120", "米", 300]]
    run({"项目包": PACKAGES, "项目": PROJECTS, "需求明细": lines})
    for line in catalog_session.exec(
        select(AgreementLine).where(AgreementLine.material_code == "CB10-3x120")
    ):
        line.ordered_quantity = upper_quantity(line)  # the province matched all of it
        catalog_session.add(line)
    catalog_session.commit()
    again = run({"项目包": PACKAGES, "项目": PROJECTS, "需求明细": lines})
    assert counts(again)["lines"] == (0, 0, 4)
    # A new line of it is a material outside every catalog now: it must be listed (R1.4).
    with pytest.raises(ImportRejected) as rejected:
        run({"项目": PROJECTS, "需求明细": [*lines, ["P-2", 2, "CB10-3x120", "米", 50]]})
    assert [(p.row, p.column_en) for p in rejected.value.problems] == [(6, "material_code")]
