"""假设分析 in a real browser (Debian's chromium through Playwright) against `gridsupply serve` on
the demo database at the demo's moment: the planner types a cable supplier's delay into the form,
sees the what-if beside the demo's plan — KPIs, spend by source as a chart, the lines that turned
late with the delay in their reason — replays it, and the page fits 1366 px. Saves
docs/screenshots/whatif.png. Only the scenario (and its audit event) is written: the demo's plan
stays as it is for the other browser tests."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from tests.web.browsing import MENUS, menu_of, screenshot, sign_in
from tests.web.conftest import Served

pytestmark = pytest.mark.slow

SUPPLIER = "淄博华正电缆有限公司"  # a cable supplier of the demo's agreement lines


def test_a_planner_tries_a_supplier_delay_on_the_demo_week(
    browser_page: Any, served: Served
) -> None:
    page = browser_page
    with sqlite3.connect(served.database) as db:
        plan_lines = db.execute("SELECT count(*), sum(quantity) FROM plan_line").fetchone()
    sign_in(page, served, "planner")
    assert menu_of(page) == MENUS["planner"]
    page.locator("nav.menu a", has_text="假设分析").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/weekly/whatif")
    assert page.locator("nav.menu a[aria-current=page]").inner_text() == "假设分析"

    page.locator("select[name=batch]").select_option("2026-W49")
    page.locator("input[name=name]").fill("电缆供应商延迟 10 天")
    page.get_by_label("第 1 行 类型").select_option("supplier_delay")
    page.get_by_label("第 1 行 对象").fill(SUPPLIER)
    page.get_by_label("第 1 行 数值").fill("10")
    page.get_by_role("button", name="开始分析").click()
    page.wait_for_url(re.compile(r"/weekly/whatif/\d+$"))
    page.wait_for_load_state("networkidle")

    heading = page.locator("h1").inner_text()
    assert "电缆供应商延迟 10 天" in heading and "2026-W49" in heading
    assert f"供应商 {SUPPLIER} 交货延迟 10 天" in page.locator("ol.effects").inner_text()
    kpis = page.locator("table.kpis")
    assert "按时行数" in kpis.inner_text() and "支出合计" in kpis.inner_text()
    assert page.locator("#chart-spend canvas").count() == 1  # ECharts drew the chart
    worse = page.locator("table.whatif-lines tr.line-worse")
    assert worse.count() > 0
    first = worse.first.inner_text()
    assert "交货延迟 10 天" in first and "变差" in first

    page.get_by_role("button", name="重算").click()
    page.locator("#replay .notice").wait_for()
    assert "相同的计划" in page.locator("#replay").inner_text()
    screenshot(page, "whatif")

    with sqlite3.connect(served.database) as db:
        assert db.execute("SELECT count(*), sum(quantity) FROM plan_line").fetchone() == plan_lines
        [(name, lines)] = db.execute(
            "SELECT name, lines_changed FROM scenario ORDER BY id DESC LIMIT 1"
        ).fetchall()
    assert name == "电缆供应商延迟 10 天" and lines >= worse.count()
