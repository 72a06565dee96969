"""库存与定额 in a real browser (Debian's chromium through Playwright) against `gridsupply serve` on
the demo database: the chart holds what the database holds (read from the ECharts instance, not
from pixels) and follows the table when it is sorted; marketing confirms the year's draft quota
catalog from the page; the screenshots of the page's views for docs/screenshots/.

The served database is shared by every browser test of the session: each test reads what it
compares with from the database when it compares, and depends on nothing another test changes.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from typing import Any

import pytest

from tests.web.browsing import WIDTH, no_horizontal_scroll, screenshot, sign_in
from tests.web.conftest import DEMO_NOW, Served

pytestmark = pytest.mark.slow

YEAR = 2026
CHART = "echarts.getInstanceByDom(document.getElementById('chart-stock')).getOption()"
# Money columns are integer millionths of a yuan on SQLite (supply.core.money).
POSITIONS_SQL = """
WITH confirmed AS (
  SELECT q.warehouse_id, q.material_code, q.quantity FROM quota q
  JOIN quota_catalog c ON c.id = q.catalog_id WHERE c.year = ? AND c.status = 'confirmed'),
pairs AS (
  SELECT warehouse_id, material_code FROM reserve_stock
  UNION SELECT warehouse_id, material_code FROM confirmed),
held AS (
  SELECT warehouse_id, material_code, sum(quantity) AS quantity FROM hold
  WHERE status = 'held' AND stock_kind = 'reserve' GROUP BY warehouse_id, material_code)
SELECT p.warehouse_id, p.material_code, coalesce(s.quantity, 0), coalesce(h.quantity, 0),
       coalesce(c.quantity, 0), m.standard_price
FROM pairs p JOIN material m ON m.code = p.material_code
LEFT JOIN reserve_stock s ON s.warehouse_id = p.warehouse_id AND s.material_code = p.material_code
LEFT JOIN confirmed c ON c.warehouse_id = p.warehouse_id AND c.material_code = p.material_code
LEFT JOIN held h ON h.warehouse_id = p.warehouse_id AND h.material_code = p.material_code
"""


def positions_in_database(served: Served) -> dict[tuple[str, str], dict[str, int]]:
    """Every warehouse and material with stock or a confirmed quota: on hand, held, quota, and
    the shortfall's value in millionths of a yuan."""
    with sqlite3.connect(served.database) as db:
        rows = db.execute(POSITIONS_SQL, (YEAR,)).fetchall()
    return {
        (w, m): {
            "on_hand": have,
            "held": held,
            "quota": quota,
            "value": price * max(0, quota - have),
        }
        for w, m, have, held, quota, price in rows
    }


def shown_keys(page: Any) -> list[tuple[str, str]]:
    keys = page.locator("#positions tbody tr[data-key]").evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )
    return [tuple(k.split("|")) for k in keys]


def chart_series(page: Any) -> tuple[list[str], dict[str, list[int]], list[bool]]:
    """The chart's categories, its series' values by name, and which on-hand bars are red."""
    option = page.evaluate(CHART)
    series = {s["name"]: s["data"] for s in option["series"]}
    values = {
        name: [d["value"] if isinstance(d, dict) else d for d in data]
        for name, data in series.items()
    }
    red = [
        isinstance(d, dict) and d.get("itemStyle", {}).get("color") == "#c62828"
        for d in series["实物库存"]
    ]
    return option["xAxis"][0]["data"], values, red


def assert_chart_is_the_database(page: Any, served: Served) -> list[tuple[str, str]]:
    keys = shown_keys(page)
    categories, values, red = chart_series(page)
    database = positions_in_database(served)
    assert keys and categories == [f"{m}\n{w}" for w, m in keys]
    assert values == {
        "实物库存": [database[k]["on_hand"] for k in keys],
        "已保留": [database[k]["held"] for k in keys],
        "储备定额": [database[k]["quota"] for k in keys],
    }
    assert red == [database[k]["on_hand"] < database[k]["quota"] for k in keys]
    return keys


def test_screenshots_of_the_stock_pages(served: Served, chromium: Any) -> None:
    """docs/screenshots/stock*.png at 1366×768, with the browser's clock at the server's moment
    and motion reduced (the chart is drawn without its animation)."""
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 768}, locale="zh-CN", reduced_motion="reduce"
    )
    context.clock.set_fixed_time(datetime.fromisoformat(DEMO_NOW))
    try:
        page = context.new_page()
        sign_in(page, served, "planner")
        page.goto(served.base + "/stock")
        page.locator("#chart-stock canvas").wait_for()
        screenshot(page, "stock")
        page.goto(served.base + "/stock/agreements")
        screenshot(page, "stock-agreements")
        page.evaluate("document.getElementById('agreements').scrollIntoView()")
        screenshot(page, "stock-agreements-lines")
        page.goto(served.base + "/stock/consignment")
        screenshot(page, "stock-consignment")
        context.clear_cookies()
        sign_in(page, served, "marketing")
        page.goto(served.base + "/stock/quotas")
        screenshot(page, "stock-quotas")
    finally:
        context.close()


def test_the_chart_holds_what_the_database_holds_and_follows_the_table(
    served: Served, browser_page: Any
) -> None:
    page = browser_page
    sign_in(page, served, "planner")
    assert "库存与定额" in page.locator("nav.menu").inner_text()
    page.locator("nav.menu").get_by_role("link", name="库存与定额").click()
    page.wait_for_url(served.base + "/stock")
    page.locator("#chart-stock canvas").wait_for()
    keys = assert_chart_is_the_database(page, served)
    # the first page: the largest shortfall value first, as the database computes it
    database = positions_in_database(served)
    expected = sorted(database, key=lambda k: (-database[k]["value"], k))[: len(keys)]
    assert keys == expected
    assert page.locator("#positions tr.below").count() == sum(
        database[k]["on_hand"] < database[k]["quota"] for k in keys
    )
    # sorted by on hand, largest first: the table and the chart change together
    page.locator("#positions thead").get_by_role("link", name="实物库存").click()
    page.wait_for_url(re.compile(r"sort=on_hand"))
    page.locator("#positions thead").get_by_role("link", name=re.compile("实物库存")).click()
    page.wait_for_url(re.compile(r"sort=-on_hand"))
    page.locator("#chart-stock canvas").wait_for()
    resorted = assert_chart_is_the_database(page, served)
    database = positions_in_database(served)
    on_hand = [database[k]["on_hand"] for k in resorted]
    assert on_hand == sorted(on_hand, reverse=True)
    assert on_hand[0] == max(v["on_hand"] for v in database.values())
    assert resorted != keys
    no_horizontal_scroll(page)


def draft_of_the_year(served: Served) -> tuple[int, int] | None:
    with sqlite3.connect(served.database) as db:
        found = db.execute(
            "SELECT id, version FROM quota_catalog WHERE year = ? AND status = 'draft'", (YEAR,)
        ).fetchone()
    return (int(found[0]), int(found[1])) if found else None


def test_marketing_confirms_the_year_s_quota_catalog_from_the_page(
    served: Served, browser_page: Any
) -> None:
    page = browser_page
    sign_in(page, served, "viewer")  # reads the catalog, may not confirm it
    page.goto(served.base + "/stock/quotas")
    assert page.get_by_role("button", name="确认定额目录").count() == 0
    draft = draft_of_the_year(served)
    page.context.clear_cookies()
    sign_in(page, served, "marketing")
    page.goto(served.base + "/stock/quotas")
    no_horizontal_scroll(page)
    if draft is None:  # the demo's draft was confirmed already: nothing left to confirm
        assert page.get_by_role("button", name="确认定额目录").count() == 0
        with sqlite3.connect(served.database) as db:
            [(version, by)] = db.execute(
                "SELECT version, confirmed_by FROM quota_catalog WHERE year = ? AND "
                "status = 'confirmed'",
                (YEAR,),
            ).fetchall()
        row = page.locator("#quotas tr.status-confirmed").inner_text()
        assert f"第 {version} 版" in row and by in row
        return
    catalog_id, version = draft
    row = page.locator(f"#quotas tr[data-catalog='{catalog_id}']")
    assert "草稿" in row.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())  # 确定确认吗？
    row.get_by_role("button", name="确认定额目录").click()
    page.wait_for_url(re.compile(r"done=confirmed"))
    assert f"第 {version} 版定额目录已确认" in page.locator(".notice").inner_text()
    row = page.locator(f"#quotas tr[data-catalog='{catalog_id}']")
    assert "已确认" in row.inner_text() and "marketing" in row.inner_text()
    assert row.get_by_role("button").count() == 0
    with sqlite3.connect(served.database) as db:
        [(status, by)] = db.execute(
            "SELECT status, confirmed_by FROM quota_catalog WHERE id = ?", (catalog_id,)
        ).fetchall()
        events = db.execute(
            "SELECT actor FROM audit_event WHERE action = 'quotas.confirm' AND object_id = ?",
            (str(catalog_id),),
        ).fetchall()
    assert (status, by) == ("confirmed", "marketing")
    assert events == [("marketing",)]
    page.goto(served.base + "/stock")  # the catalog in force is the one just confirmed
    assert f"{YEAR} 年第 {version} 版" in page.locator(".stock-head .facts").inner_text()
