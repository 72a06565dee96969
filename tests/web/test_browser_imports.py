"""导入 in a real browser against `gridsupply serve` on the demo database: the planner opens the
page from the menu, uploads a catalog file with bad cells through the form and reads every
problem by sheet, row and column — the service's own list, computed on a copy of the database —
with nothing imported; a form sent without a file is told so under the field. The last test
refreshes docs/screenshots/imports.png and imports-problems.png.

Only rejected uploads are made: what other browser tests read stays as the demo left it (a
rejected attempt adds its import record and audit event, nothing else).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import Session

from catalogs.importing import import_catalog
from catalogs.models import CatalogKind
from supply.core.db import make_engine
from supply.core.errors import ImportRejected, RowProblem
from tests.web.browsing import (
    SCREENSHOTS,
    WIDTH,
    menu_of,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from tests.web.conftest import DEMO_NOW, Served

pytestmark = pytest.mark.slow

ROWS: list[list[object]] = [
    ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
    ["WH-WEB-1", "网页测试库", "县级周转库", "wendeng"],
    ["WH-WEB-2", "网页测试库二", "省级大库", "wendeng"],  # no such level
    ["WH-WEB-3", None, "仓储点", "shidao"],  # no name
    ["WH-WEB-1", "重复", "仓储点", "shidao"],  # the key twice
]


def bad_file(folder: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "仓库"
    for row in ROWS:
        sheet.append(row)
    path = folder / "仓库-有误.xlsx"
    book.save(path)
    return path


def service_problems(served: Served, folder: Path, content: bytes) -> list[RowProblem]:
    """What the import service says of the file, on a copy of the served database."""
    copy = folder / "copy.db"
    shutil.copy(served.database, copy)
    engine = make_engine(f"sqlite:///{copy}")
    try:
        with Session(engine) as session, pytest.raises(ImportRejected) as caught:
            import_catalog(
                session=session, kind=CatalogKind.WAREHOUSES, content=content,
                file_name="copy.xlsx", imported_by="test", now=datetime.fromisoformat(DEMO_NOW),
            )  # fmt: skip
    finally:
        engine.dispose()
    return caught.value.problems


def warehouses_and_records(served: Served) -> tuple[int, int, tuple[Any, ...]]:
    with sqlite3.connect(served.database) as db:
        [(warehouses,)] = db.execute("SELECT count(*) FROM warehouse").fetchall()
        [(records,)] = db.execute("SELECT count(*) FROM import_record").fetchall()
        newest = db.execute(
            "SELECT status, problems, imported_by, file_name FROM import_record "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return warehouses, records, tuple(newest or ())


def problem_row(row: Any) -> tuple[str, str, str, str]:
    """A row of the problems table: sheet, row, column, and the Chinese message."""
    sheet, number, column = (cell.strip() for cell in row.locator("td").all_inner_texts()[1:4])
    return sheet, number, column, row.locator("td.message").inner_text().split("\n")[0].strip()


def upload_bad_file(page: Any, path: Path) -> None:
    form = page.locator("form.upload", has_text="目录文件")
    form.get_by_label("类别").select_option("warehouses")
    form.get_by_label("文件").set_input_files(str(path))
    form.get_by_role("button", name="导入目录").click()
    page.wait_for_load_state("networkidle")


def test_the_planner_uploads_a_bad_catalog_file_and_reads_every_problem(
    served: Served, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page
    sign_in(page, served, "planner")
    assert "导入" in menu_of(page)
    page.locator("nav.menu").get_by_role("link", name="导入").click()
    page.wait_for_url(served.base + "/imports")
    assert page.locator("h1").first.inner_text() == "导入"
    no_horizontal_scroll(page)
    # a form without its file: said under the field, nothing sent to the service
    before = warehouses_and_records(served)
    page.locator("form.upload", has_text="目录文件").get_by_role("button", name="导入目录").click()
    page.wait_for_load_state("networkidle")
    errors = page.locator("form.upload", has_text="目录文件").locator(".field-error")
    assert errors.all_inner_texts() == [
        "请选择导入类别 / choose what the file holds",
        "请选择要导入的文件 / choose a file to import",
    ]
    assert warehouses_and_records(served)[:2] == before[:2]
    # the bad file: every problem, where the spreadsheet has it
    path = bad_file(tmp_path)
    upload_bad_file(page, path)
    result = page.locator("#result")
    assert "未导入：仓库-有误.xlsx" in result.locator("h2").inner_text()
    shown = [problem_row(row) for row in result.locator("table.problems tbody tr").all()]
    problems = service_problems(served, tmp_path, path.read_bytes())
    expected = [
        (p.sheet_zh or "—", "—" if p.row is None else str(p.row), p.column_zh or "—", p.message_zh)
        for p in problems
    ]
    assert shown == expected and len(shown) >= 3
    assert {(r, c) for _, r, c, _ in shown} >= {("3", "仓库级别"), ("4", "仓库名称"), ("5", "—")}
    warehouses, records, newest = warehouses_and_records(served)
    assert warehouses == before[0]  # nothing imported
    assert records == before[1] + 1  # the attempt is on record
    assert newest == ("rejected", len(shown), "planner", "仓库-有误.xlsx")
    no_horizontal_scroll(page)
    # the record of imports lists it; its page shows the first problems
    page.get_by_role("link", name="查看全部导入记录 →").click()
    page.wait_for_url(served.base + "/imports")
    row = page.locator("#records tbody tr").first
    assert "仓库-有误.xlsx" in row.inner_text() and "被拒绝" in row.inner_text()
    page.locator("#records").get_by_label("状态").select_option("rejected")
    page.locator("#records").get_by_role("button", name="筛选").click()
    page.wait_for_url("**/imports?*status=rejected*")
    assert set(page.locator("#records tbody tr td:nth-child(6)").all_inner_texts()) == {"被拒绝"}
    row.locator("td").first.get_by_role("link").click()
    page.wait_for_url("**/imports/records/*")
    assert page.locator("ol.problems li").all_inner_texts() == [p.text for p in problems][:5]


def test_screenshots_of_the_imports_page(served: Served, chromium: Any, tmp_path: Path) -> None:
    """docs/screenshots/imports.png (the page and its record of imports) and
    imports-problems.png (a rejected file's problems), at 1366×768 with the browser's clock at
    the server's moment and motion reduced."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 768}, locale="zh-CN", reduced_motion="reduce"
    )
    context.clock.set_fixed_time(datetime.fromisoformat(DEMO_NOW))
    try:
        page = context.new_page()
        sign_in(page, served, "planner")
        page.goto(served.base + "/imports")
        screenshot(page, "imports")
        upload_bad_file(page, bad_file(tmp_path))
        assert page.locator("table.problems tbody tr").count() >= 3
        screenshot(page, "imports-problems")
    finally:
        context.close()
