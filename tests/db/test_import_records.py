"""A rejected import is kept on record, marked rejected, and changes nothing else.

On the sample catalogs (SQLite and PostgreSQL): a catalog file and a project workbook with one bad
row among good ones each leave exactly one import record, status `rejected`, with the problem
count and the first problems, while every catalog, project and line row stays as it was; an
accepted import is recorded `accepted` with what it changed. The province's matching result is
covered in tests/weekly/test_weekly_run.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, SQLModel, col, select

from catalogs.importing import import_catalog
from catalogs.models import (
    TABLES,
    CatalogKind,
    ImportKind,
    ImportRecord,
    ImportStatus,
    QuotaCatalog,
)
from catalogs.records import get_import, list_imports
from supply.calendar import default_calendar
from supply.core.errors import ImportRejected, NotFound
from supply.demand.models import DemandLine
from supply.packages.models import Package
from supply.policy import DeadlinePolicy
from supply.projects.importing import import_projects
from supply.projects.models import Project
from supply.sample.week import SAMPLE_LOADED_AT
from tests.conftest import xlsx_bytes
from tests.db.test_projects_import import LINES, PACKAGES, PROJECTS, workbook

NOW = SAMPLE_LOADED_AT


def _snapshot(session: Session, models: list[type[SQLModel]]) -> dict[str, list[dict[str, Any]]]:
    session.expire_all()
    return {
        model.__name__: sorted((row.model_dump() for row in session.exec(select(model))), key=repr)
        for model in models
    }


CATALOG_MODELS: list[type[SQLModel]] = [*TABLES.values(), QuotaCatalog]


def _records(session: Session) -> list[ImportRecord]:
    session.expire_all()
    return list(session.exec(select(ImportRecord).order_by(col(ImportRecord.id))))


@pytest.mark.parametrize(
    ("kind", "rows", "problem"),
    [
        (
            CatalogKind.RESERVE,
            [["仓库编码", "物料编码", "库存数量"],
             ["WH-CENTRAL", "DT-OIL-S13-400", 99],  # a good row: would change the stock
             ["WH-CENTRAL", "DT-OIL-S13-400x", 1]],
            "第 3 行 物料编码: 物料编码 DT-OIL-S13-400x 不在物料主数据中",
        ),
        (
            CatalogKind.QUOTAS,  # would start a new draft version of the quota catalog
            [["年度", "仓库编码", "物料编码", "储备定额"],
             [2026, "WH-CENTRAL", "DT-OIL-S13-400", 7],
             [2026, "WH-XX", "DT-OIL-S13-400", 1]],
            "第 3 行 仓库编码: 仓库 WH-XX 不存在",
        ),
    ],
)  # fmt: skip
def test_a_rejected_catalog_import_leaves_one_rejected_record_and_changes_no_row(
    catalog_session: Session, kind: CatalogKind, rows: list[list[object]], problem: str
) -> None:
    before_records = _records(catalog_session)
    before = _snapshot(catalog_session, CATALOG_MODELS)
    with pytest.raises(ImportRejected):
        import_catalog(
            session=catalog_session,
            kind=kind,
            content=xlsx_bytes(rows),
            file_name="坏文件.xlsx",
            imported_by="李工",
            now=NOW,
        )
    after_records = _records(catalog_session)
    assert [r.id for r in after_records[: len(before_records)]] == [r.id for r in before_records]
    [record] = after_records[len(before_records) :]
    assert (record.kind, record.status, record.file_name, record.imported_by) == (
        kind.value,
        ImportStatus.REJECTED,
        "坏文件.xlsx",
        "李工",
    )
    assert (record.rows, record.problems, record.inserted, record.updated) == (2, 1, 0, 0)
    assert record.first_problems.startswith(problem)
    assert _snapshot(catalog_session, CATALOG_MODELS) == before

    page = list_imports(session=catalog_session, status=ImportStatus.REJECTED)
    assert [r.id for r in page.items] == [record.id]
    assert get_import(session=catalog_session, import_id=record.id or 0).status == "rejected"
    with pytest.raises(NotFound):
        get_import(session=catalog_session, import_id=10**6)


def test_rejected_and_accepted_project_workbooks_are_both_on_record(
    catalog_session: Session,
) -> None:
    models: list[type[SQLModel]] = [Package, Project, DemandLine]
    before = _snapshot(catalog_session, models)
    bad_lines = [*LINES, ["P-1", 3, "NO-SUCH-MATERIAL", "台", 1]]

    def load(lines: list[list[object]]) -> None:
        import_projects(
            session=catalog_session,
            content=workbook({"项目包": PACKAGES, "项目": PROJECTS, "需求明细": lines}),
            file_name="项目.xlsx",
            calendar=default_calendar(),
            policy=DeadlinePolicy(),
            now=NOW,
            user="李工",
        )

    with pytest.raises(ImportRejected):
        load(bad_lines)
    assert _snapshot(catalog_session, models) == before
    [rejected] = [r for r in _records(catalog_session) if r.kind == ImportKind.PROJECTS]
    assert (rejected.status, rejected.rows, rejected.problems) == ("rejected", 7, 1)
    assert "sheet lines row 5 material_code" in rejected.first_problems

    load(LINES)
    records = [r for r in _records(catalog_session) if r.kind == ImportKind.PROJECTS]
    assert [r.status for r in records] == ["rejected", "accepted"]
    accepted = records[1]
    assert (accepted.rows, accepted.inserted, accepted.problems) == (6, 6, 0)
    assert "项目 projects +2" in accepted.note and "需求明细 lines +3" in accepted.note
