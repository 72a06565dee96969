"""导入 pages in process, on the sample catalogs: a file with bad cells shows every problem by
sheet, row and column (the service's own list) and changes nothing; a good file imports and the
page's counts are the database's; the record of imports sorts, filters, pages and downloads;
each kind's file comes back in the format its import reads; permissions, CSRF, bad forms and
uploads over the limit are refused."""

from __future__ import annotations

import contextlib
import html
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from api.deps import get_settings
from catalogs.columns import SPECS
from catalogs.importing import import_catalog
from catalogs.models import CatalogKind, ImportRecord, Warehouse
from supply.calendar import default_calendar
from supply.core.audit import AuditEvent
from supply.core.clock import SHANGHAI
from supply.core.errors import ImportRejected, RowProblem
from supply.core.settings import get_settings as read_settings
from supply.demand.models import DemandLine
from supply.packages.models import Package
from supply.policy import DeadlinePolicy
from supply.projects.importing import import_projects
from supply.projects.models import Project
from tests.conftest import xlsx_bytes
from tests.db.test_projects_import import LINES, PACKAGES, PROJECTS, workbook
from tests.web.conftest import app_on, browser_like, csrf_of, engine_with_roles, sign_in

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WAREHOUSE_HEADER = ["仓库编码", "仓库名称", "仓库级别", "所在地点"]


@pytest.fixture
def engine(tmp_path: Path, sqlite_sample_templates: dict[str, Path]) -> Iterator[Engine]:
    """The sample catalogs (SQLite) with a user per role (login = the role's name)."""
    with engine_with_roles(
        sqlite_sample_templates["catalogs"], tmp_path / "imports.db", now=NOW
    ) as engine:
        yield engine


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return app_on(engine, now=NOW)


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with browser_like(app) as client:
        yield client


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def token_of(web: TestClient) -> str:
    page = web.get("/imports")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def upload(web: TestClient, path: str, content: bytes, name: str = "file.xlsx", **data: str) -> Any:
    return web.post(
        path,
        data={"csrf_token": token_of(web), **data},
        files={"file": (name, content, XLSX)},
    )


def cells(fragment: str) -> list[str]:
    """The text of each <td> of a table row, tags removed."""
    found = re.findall(r"<td[^>]*>(.*?)</td>", fragment, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in found]


def counts_table(page: str) -> dict[str, list[int]]:
    """What an accepted import's table says: per sheet, rows read, inserted, updated, unchanged."""
    table = page.split('<table class="data compact counts">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    found = [cells(row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]
    return {r[0]: [int(v.replace(",", "")) for v in r[1:]] for r in found}


def problem_table(page: str) -> list[tuple[str, str, str, str]]:
    """The problems table as (sheet, row, column, Chinese message)."""
    table = page.split('<table class="data problems">', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S):
        message = re.search(r'<td class="message">(.*?)<span class="en">', row, flags=re.S)
        assert message
        _, sheet, number, column, _ = cells(row)
        rows.append((sheet, number, column, html.unescape(message.group(1)).strip()))
    return rows


def expected(problems: list[RowProblem]) -> list[tuple[str, str, str, str]]:
    """What the table should say of each problem the service found."""
    return [
        (p.sheet_zh or "—", "—" if p.row is None else str(p.row), p.column_zh or "—", p.message_zh)
        for p in problems
    ]


def field_error(page: str, field: str, action: str | None = None) -> str:
    """The message under the form field `field` ('' for none): in the label holding the field,
    of the form posting to `action` (the first form with that field for None)."""
    if action is not None:
        page = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    for label in re.findall(r"<label>(.*?)</label>", page, flags=re.S):
        if re.search(rf'<(input|select)[^>]* name="{field}"', label):
            found = re.search(r'<span class="field-error" role="alert">(.*?)</span>', label)
            return html.unescape(found.group(1)) if found else ""
    raise AssertionError(f"no field {field}")


def record_rows(page: str) -> list[list[str]]:
    table = page.split('<table class="data imports">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [cells(row) for row in re.findall(r"<tr class=\"\w+\">(.*?)</tr>", body, flags=re.S)]


# ------------------------------------------------------------------ a rejected file


def test_a_catalog_file_with_bad_cells_shows_every_problem_and_changes_nothing(
    web: TestClient, engine: Engine
) -> None:
    rows: list[list[object]] = [
        WAREHOUSE_HEADER,
        ["WH-NEW1", "新仓库一", "县级周转库", "wendeng"],
        ["WH-NEW2", "新仓库二", "省级大库", "wendeng"],  # no such level
        ["WH-NEW3", None, "仓储点", "nowhere"],  # no name
        ["WH-NEW1", "重复", "仓储点", "shidao"],  # the key again
    ]
    content = xlsx_bytes(rows)
    sign_in(web, "planner")
    before = {m: count(engine, m) for m in (Warehouse, ImportRecord, AuditEvent)}
    page = upload(web, "/imports/catalogs", content, "仓库.xlsx", kind="warehouses")
    assert page.status_code == 422
    shown = problem_table(page.text)
    # the cells planted, found on the page where the spreadsheet has them
    assert {("3", "仓库级别"), ("4", "仓库名称"), ("5", "—")} <= {(r, c) for _, r, c, _ in shown}
    assert count(engine, Warehouse) == before[Warehouse]  # nothing imported
    assert count(engine, ImportRecord) == before[ImportRecord] + 1  # the attempt, on record
    assert count(engine, AuditEvent) == before[AuditEvent] + 1  # and audited
    with Session(engine) as session:
        [record] = session.exec(select(ImportRecord).order_by(col(ImportRecord.id).desc())).all()[
            :1
        ]
        assert (record.status, record.problems, record.imported_by) == (
            "rejected", len(shown), "planner",
        )  # fmt: skip
        event = session.exec(
            select(AuditEvent).where(AuditEvent.object_type == "import")
            .order_by(col(AuditEvent.id).desc())
        ).first()  # fmt: skip
        assert event is not None and event.action == "import.rejected"
        assert event.object_id == str(record.id) and event.actor == "planner"
        # the service's own list, computed apart from the page: the same problems, in order
        with pytest.raises(ImportRejected) as caught:
            import_catalog(
                session=session, kind=CatalogKind.WAREHOUSES, content=content,
                file_name="again.xlsx", imported_by="test", now=NOW,
            )  # fmt: skip
    assert shown == expected(caught.value.problems) and len(shown) >= 3
    assert f"{len(shown)} 个问题，未导入任何数据" in html.unescape(page.text)


def test_a_project_workbook_with_bad_cells_names_each_sheet_row_and_column(
    web: TestClient, engine: Engine
) -> None:
    projects = [row[:] for row in PROJECTS]
    projects[2][2] = "电厂"  # no such project type (sheet 项目, row 3)
    projects[1][4] = "2026-13-40"  # not a date (sheet 项目, row 2)
    lines = [*LINES, ["P-1", 3, "NO-SUCH-MATERIAL", None, 2], ["P-2", 2, "CBLV-4x50", None, -5]]
    content = workbook({"项目包": PACKAGES, "项目": projects, "需求明细": lines})
    sign_in(web, "planner")
    before = {m: count(engine, m) for m in (Package, Project, DemandLine)}
    page = upload(web, "/imports/projects", content, "项目.xlsx")
    assert page.status_code == 422
    shown = problem_table(page.text)
    places = {(s, r, c) for s, r, c, _ in shown}
    assert {("项目", "3", "工程类型"), ("项目", "2", "行政审批日期"), ("需求明细", "5", "物料编码"),
            ("需求明细", "6", "需求数量")} <= places  # fmt: skip
    assert {m: count(engine, m) for m in before} == before  # all or nothing: nothing
    with Session(engine) as session, pytest.raises(ImportRejected) as caught:
        import_projects(
            session=session, content=content, file_name="again.xlsx",
            calendar=default_calendar(), policy=DeadlinePolicy(), now=NOW, user="test",
        )  # fmt: skip
    assert shown == expected(caught.value.problems)


# ------------------------------------------------------------------ an accepted file


def test_a_good_project_workbook_imports_and_the_page_counts_what_the_database_holds(
    web: TestClient, engine: Engine
) -> None:
    sign_in(web, "planner")
    before = {m: count(engine, m) for m in (Package, Project, DemandLine)}
    content = workbook({"项目包": PACKAGES, "项目": PROJECTS, "需求明细": LINES})
    page = upload(web, "/imports/projects", content, "项目.xlsx")
    assert page.status_code == 201, page.text
    shown = counts_table(page.text)
    added = {m: count(engine, m) - before[m] for m in before}
    assert shown == {
        "项目包": [len(PACKAGES) - 1, added[Package], 0, 0],
        "项目": [len(PROJECTS) - 1, added[Project], 0, 0],
        "需求明细": [len(LINES) - 1, added[DemandLine], 0, 0],
    }
    assert all(added.values())
    with Session(engine) as session:
        record = session.exec(select(ImportRecord).order_by(col(ImportRecord.id).desc())).first()
        assert record is not None and record.status == "accepted"
        assert record.inserted == sum(added.values())
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "import.accepted")
                             .order_by(col(AuditEvent.id).desc())).first()  # fmt: skip
        assert event is not None and event.object_id == str(record.id)
    assert f'href="/imports/records/{record.id}"' in page.text
    again = upload(web, "/imports/projects", content, "项目.xlsx")  # the same file: unchanged
    assert again.status_code == 201 and count(engine, DemandLine) == before[DemandLine] + 3
    assert counts_table(again.text)["需求明细"] == [3, 0, 0, 3]


def test_a_catalog_downloaded_from_the_page_imports_back_unchanged(
    web: TestClient, engine: Engine
) -> None:
    sign_in(web, "planner")
    download = web.get("/imports/templates/warehouses")
    assert download.status_code == 200 and download.headers["content-type"].startswith(XLSX)
    book = load_workbook(io.BytesIO(download.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == [c.zh for c in SPECS[CatalogKind.WAREHOUSES].columns]
    stored = count(engine, Warehouse)
    assert len(rows) - 1 == stored
    page = upload(web, "/imports/catalogs", download.content, "仓库.xlsx", kind="warehouses")
    assert page.status_code == 201
    assert counts_table(page.text) == {"仓库": [stored, 0, 0, stored]}
    projects = web.get("/imports/templates/projects")
    assert projects.status_code == 200
    assert load_workbook(io.BytesIO(projects.content)).sheetnames == ["项目包", "项目", "需求明细"]
    assert web.get("/imports/templates/gold").status_code == 422


# ------------------------------------------------------------------ the record of imports


def _records(engine: Engine) -> None:
    """Imports by several people: accepted and rejected, catalogs and a project workbook."""
    files = [
        ("b-仓库.xlsx", "zhang", [WAREHOUSE_HEADER, ["WH-A", "甲库", "仓储点", "wendeng"]]),
        ("=1+2.xlsx", "li", [WAREHOUSE_HEADER, ["WH-B", None, "仓储点", "wendeng"],
                             ["WH-C", "丙", "无此级别", "wendeng"]]),
        ("a-仓库.xlsx", "wang", [WAREHOUSE_HEADER, *[[f"WH-{i}", "库", "仓储点", "rushan"]
                                                      for i in range(5)]]),
        ("c-坏.xlsx", "zhao", [WAREHOUSE_HEADER, ["WH-D", "丁", "仓储点", "nowhere"]]),
    ]  # fmt: skip
    with Session(engine) as session:
        for name, who, rows in files:
            with contextlib.suppress(ImportRejected):  # a rejected one is on record too
                import_catalog(
                    session=session, kind=CatalogKind.WAREHOUSES, content=xlsx_bytes(rows),
                    file_name=name, imported_by=who, now=NOW,
                )  # fmt: skip
        import_projects(
            session=session, content=workbook({"项目包": PACKAGES, "项目": PROJECTS}),
            file_name="项目.xlsx", calendar=default_calendar(), policy=DeadlinePolicy(),
            now=NOW, user="qian",
        )  # fmt: skip


def test_the_record_of_imports_sorts_filters_and_downloads_as_excel(
    web: TestClient, engine: Engine
) -> None:
    _records(engine)
    with Session(engine) as session:
        stored = session.exec(select(ImportRecord)).all()
    sign_in(web, "admin")  # the page of imports: those who import (planner, admin)
    newest = record_rows(web.get("/imports").text)
    assert [int(r[0]) for r in newest] == sorted((r.id for r in stored), reverse=True)
    by_file = record_rows(web.get("/imports?sort=file").text)
    assert [r[4] for r in by_file] == [r.file_name for r in sorted(stored, key=lambda r: (r.file_name, -r.id))]  # fmt: skip
    by_rows = record_rows(web.get("/imports?sort=-rows").text)
    assert [int(r[0]) for r in by_rows] == [r.id for r in sorted(stored, key=lambda r: (-r.rows, -r.id))]  # fmt: skip
    rejected = record_rows(web.get("/imports?status=rejected").text)
    assert {int(r[0]) for r in rejected} == {r.id for r in stored if r.status == "rejected"}
    assert rejected and {r[5] for r in rejected} == {"被拒绝"}
    projects = record_rows(web.get("/imports?kind=projects").text)
    assert [r[3] for r in projects] == ["项目工作簿"] * sum(r.kind == "projects" for r in stored)
    bad = web.get("/imports?kind=gold&status=maybe")
    assert bad.status_code == 200 and len(record_rows(bad.text)) == len(stored)  # not applied
    assert "没有导入类别 gold" in field_error(bad.text, "kind", "/imports")
    assert "没有状态 maybe" in field_error(bad.text, "status", "/imports")
    fragment = web.get("/imports?sort=by", headers={"HX-Request": "true", "HX-Target": "records"})
    assert fragment.text.lstrip().startswith('<section class="card" id="records">')
    assert [r[2] for r in record_rows(fragment.text)] == sorted(r.imported_by for r in stored)
    download = web.get("/imports/export?status=rejected&sort=-file")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(download.content)).active
    ids = [row[0].value for row in sheet.iter_rows(min_row=2) if row[0].value is not None]
    assert ids == [r.id for r in sorted((r for r in stored if r.status == "rejected"),
                                        key=lambda r: (r.file_name, r.id), reverse=True)]  # fmt: skip
    formula = next(row[4] for row in sheet.iter_rows(min_row=2) if row[4].value == "=1+2.xlsx")
    assert formula.data_type == "s"  # a user's text, written as text: no formula


def test_the_record_pages_and_a_record_shows_its_problems(web: TestClient, engine: Engine) -> None:
    with Session(engine) as session:
        for i in range(52):
            try:
                import_catalog(
                    session=session, kind=CatalogKind.WAREHOUSES,
                    content=xlsx_bytes([WAREHOUSE_HEADER, [f"WH-X{i}", None, "仓储点", "x"]]),
                    file_name=f"{i}.xlsx", imported_by="zhang", now=NOW,
                )  # fmt: skip
            except ImportRejected as rejected:
                problems = rejected.problems
        last = session.exec(select(ImportRecord).order_by(col(ImportRecord.id).desc())).first()
        assert last is not None and last.id is not None
    total = count(engine, ImportRecord)
    assert total >= 52
    sign_in(web, "planner")
    first = web.get("/imports")
    assert len(record_rows(first.text)) == 50 and f"第 1–50 行，共 {total} 行" in first.text
    second = web.get("/imports?offset=50")
    assert len(record_rows(second.text)) == total - 50 and "上一页" in second.text
    one = web.get(f"/imports/records/{last.id}")
    assert one.status_code == 200
    listed = re.findall(r"<li>(.*?)</li>", one.text.split('<ol class="problems">', 1)[1])
    assert [html.unescape(x) for x in listed] == [p.text for p in problems]
    assert web.get("/imports/records/999999").status_code == 404


# ------------------------------------------------------------------ who may, and bad forms


def test_who_may_open_the_page_and_who_may_upload(web: TestClient, engine: Engine) -> None:
    content = xlsx_bytes([WAREHOUSE_HEADER, ["WH-Z", "库", "仓储点", "wendeng"]])
    before = (count(engine, ImportRecord), count(engine, Warehouse))
    sign_in(web, "admin")  # loads the departments' workbooks
    page = web.get("/imports")
    assert page.status_code == 200
    assert 'action="/imports/catalogs"' in page.text and 'action="/imports/projects"' in page.text
    token = csrf_of(page.text)
    sign_in(web, "viewer")  # reads catalogs and the records, imports nothing: no page of uploads
    refused = web.get("/imports")
    assert refused.status_code == 403 and "导入供应目录 (catalogs.import)" in refused.text
    token = csrf_of(refused.text)
    for path, permission in (("/imports/catalogs", "导入供应目录 (catalogs.import)"),
                             ("/imports/projects", "导入项目工作簿 (projects.import)")):  # fmt: skip
        answer = web.post(path, data={"csrf_token": token, "kind": "warehouses"},
                          files={"file": ("w.xlsx", content, XLSX)})  # fmt: skip
        assert answer.status_code == 403 and permission in answer.text
    sign_in(web, "project_manager")
    assert web.get("/imports").status_code == 403
    assert web.get("/imports/templates/projects").status_code == 200  # the format, to fill in
    assert (count(engine, ImportRecord), count(engine, Warehouse)) == before


def test_an_upload_without_the_csrf_token_is_refused(web: TestClient, engine: Engine) -> None:
    sign_in(web, "planner")
    content = xlsx_bytes([WAREHOUSE_HEADER, ["WH-Z", "库", "仓储点", "wendeng"]])
    before = (count(engine, Warehouse), count(engine, ImportRecord))
    for data in ({"kind": "warehouses"}, {"kind": "warehouses", "csrf_token": "forged"}):
        refused = web.post(
            "/imports/catalogs", data=data, files={"file": ("w.xlsx", content, XLSX)}
        )
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert (count(engine, Warehouse), count(engine, ImportRecord)) == before


@pytest.mark.parametrize(
    ("path", "data", "file", "field", "message"),
    [
        ("/imports/catalogs", {"kind": "warehouses"}, None, "file", "请选择要导入的文件"),
        ("/imports/projects", {}, ("", b"", XLSX), "file", "请选择要导入的文件"),
        ("/imports/catalogs", {"kind": "gold"}, "w.xlsx", "kind", "没有这种导入类别：gold"),
        ("/imports/catalogs", {}, "w.xlsx", "kind", "请选择导入类别"),
        ("/imports/catalogs", {"kind": "warehouses"}, "仓库.csv", "file", "不是 Excel 工作簿"),
        ("/imports/projects", {}, "项目.xls", "file", "不是 Excel 工作簿"),
    ],
)
def test_a_bad_form_is_named_under_its_field_and_changes_nothing(
    web: TestClient, engine: Engine, path: str, data: dict[str, str], file: Any, field: str,
    message: str,
) -> None:  # fmt: skip
    sign_in(web, "planner")
    content = xlsx_bytes([WAREHOUSE_HEADER, ["WH-Z", "库", "仓储点", "wendeng"]])
    files = {"file": file if isinstance(file, tuple) else (file, content, XLSX)} if file else {}
    before = (count(engine, Warehouse), count(engine, ImportRecord), count(engine, AuditEvent))
    answer = web.post(path, data={"csrf_token": token_of(web), **data}, files=files)
    assert answer.status_code == 422
    assert message in field_error(answer.text, field, path)
    after = (count(engine, Warehouse), count(engine, ImportRecord), count(engine, AuditEvent))
    assert after == before


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(
    web: TestClient, app: FastAPI, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [WAREHOUSE_HEADER] + [[f"WH-{i:04d}", f"仓库 {i} 号", "仓储点", "wendeng"]
                                 for i in range(400)]  # fmt: skip
    content = xlsx_bytes(rows)
    assert len(content) > 8192
    lowered = read_settings().model_copy(update={"max_upload_bytes": 8192})
    app.dependency_overrides[get_settings] = lambda: lowered
    sign_in(web, "planner")
    before = (count(engine, Warehouse), count(engine, ImportRecord))
    page = upload(web, "/imports/catalogs", content, "仓库.xlsx", kind="warehouses")
    assert page.status_code == 422
    assert "文件超过 8,192 字节，未读取" in field_error(page.text, "file")
    assert (count(engine, Warehouse), count(engine, ImportRecord)) == before
    assert "不超过 8,192 字节" in page.text
    # a request body over the server's limit is refused before the application reads it
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", "8192")
    token = token_of(web)
    body = web.post("/imports/catalogs", data={"csrf_token": token, "kind": "warehouses"},
                    files={"file": ("仓库.xlsx", content, XLSX)})  # fmt: skip
    assert body.status_code == 413  # as a page, saying what to do
    assert body.headers["content-type"].startswith("text/html")
    assert "文件过大" in body.text and "上传文件超过 8192 bytes" in body.text
    assert (count(engine, Warehouse), count(engine, ImportRecord)) == before
    del app.dependency_overrides[get_settings]
    monkeypatch.delenv("GRIDSUPPLY_MAX_UPLOAD_BYTES")
    taken = upload(web, "/imports/catalogs", content, "仓库.xlsx", kind="warehouses")
    assert taken.status_code == 201 and count(engine, Warehouse) == before[0] + 400
