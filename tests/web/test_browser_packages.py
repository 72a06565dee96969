"""项目包与备案 and 用户 in a real browser (Debian's chromium through Playwright) against `gridsupply
serve` on the demo database at the demo's moment (Monday 2026-11-30 11:30).

The demo has no filing yet (filings open when an approval or an urgent request takes a package
over its budget), and the served database is shared with the other browser tests: this module
makes its own — a package of its own with a budget of 1 元 (as development, through the API) and
two urgent requests of wendeng's project manager for new projects in it (each opens a filing,
reviewed today, due two working days later); the holds they made are released again so that no
one else's stock changes. Development then files one through the page (a missing reference first,
named under its field). The chart's series are compared with the database and the API; the
administrator adds a user of this module's own through the form, who then signs in. The last
test saves docs/screenshots/packages.png and users.png.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from tests.web.browsing import MENUS, menu_of, no_horizontal_scroll, screenshot, sign_in
from tests.web.conftest import DEMO_NOW, VIEWPORT, Served

pytestmark = pytest.mark.slow

PACKAGE = "PK-WEB-BROWSER"
PROJECTS = ("YK26-WD-WEBP1", "YK26-WD-WEBP2")
NEW_LOGIN = "dev.browser"
NEW_PASSWORD = "browser-test-password-26"
WEEKDAYS = "一二三四五六日"


def api_headers(served: Served, login: str) -> dict[str, str]:
    """A bearer token for a demo user, from POST /api/v1/auth/token."""
    answer = httpx.post(
        served.base + "/api/v1/auth/token",
        data={"username": login, "password": f"{login}-demo-2026"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def query(served: Served, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(served.database) as db:
        return db.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def filings(served: Served) -> Iterator[list[int]]:
    """The two filings of this module's package (made through the API), earliest first."""
    development = api_headers(served, "development")
    made = httpx.post(
        served.base + "/api/v1/packages",
        headers=development,
        json={"id": PACKAGE, "name": "网页测试项目包（预算 1 元）", "year": 2026,
              "kind": "业扩配套", "budget": "1"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    manager = api_headers(served, "pm.wendeng")
    found = []
    for number, project_id in enumerate(PROJECTS, start=1):
        answer = httpx.post(
            served.base + "/api/v1/requests",
            headers={**manager, "Idempotency-Key": f"browser-packages-{number}"},
            json={
                "project": {
                    "id": project_id, "name": f"文登网页备案测试台区{number}",
                    "project_type": "area_capacity_increase", "location": "wendeng",
                    "approved_on": "2026-11-30", "package_id": PACKAGE,
                },
                "lines": [{"material_code": "MTR-1P-SMART", "quantity": 1}],
            },
            timeout=120,
        )  # fmt: skip
        assert answer.status_code in (200, 201), answer.text
        [filing] = answer.json()["filings"]
        found.append(filing["id"])
    holds = query(
        served,
        "SELECT h.id FROM hold h JOIN demand_line d ON d.id = h.demand_line_id "
        "WHERE d.project_id IN (?, ?) AND h.status = 'held'",
        *PROJECTS,
    )
    for (hold_id,) in holds:
        released = httpx.post(
            served.base + f"/api/v1/holds/{hold_id}/release",
            headers=manager,
            json={"reason": "网页测试：只为开立备案"},
        )
        assert released.status_code == 200, released.text
    yield found


def shown_day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.isoformat()} 周{WEEKDAYS[day.weekday()]}"


def test_development_files_a_filing_through_the_page(
    served: Served, browser_page: Any, filings: list[int]
) -> None:
    page = browser_page
    first, second = filings
    [(review, due, filed_at)] = query(
        served, "SELECT review_on, due_on, filed_at FROM filing WHERE id = ?", first
    )
    assert (review, filed_at) == ("2026-11-30", None)
    sign_in(page, served, "development")
    assert menu_of(page) == MENUS["development"]
    page.get_by_role("link", name="项目包与备案").click()
    page.wait_for_url(served.base + "/packages")
    row = page.locator(f'#filings tr[data-filing="{first}"]')
    text = row.inner_text()
    assert PROJECTS[0] in text and PACKAGE in text and "待备案" in text
    assert shown_day(due) in text and "还剩 2 个工作日" in text  # Mon → Wed: 2 working days
    assert "待办备案" in page.locator(".warn-text").inner_text()
    no_horizontal_scroll(page)
    # no reference: said under the field, nothing filed
    row.get_by_role("button", name="备案").click()
    page.wait_for_load_state("networkidle")
    row = page.locator(f'#filings tr[data-filing="{first}"]')
    assert "请填写省公司备案文号" in row.locator(".field-error").inner_text()
    assert query(served, "SELECT filed_at FROM filing WHERE id = ?", first) == [(None,)]
    # with the province's reference: filed, and said so
    row.get_by_label(f"备案文号（备案 {first}）").fill("鲁电发展备〔2026〕网页1号")
    row.get_by_role("button", name="备案").click()
    page.wait_for_url(f"{served.base}/packages?done=filed&filing={first}")
    assert f"备案 {first} 已登记" in page.locator(".notice").inner_text()
    assert page.locator(f'#filings tr[data-filing="{first}"]').count() == 0  # no longer open
    assert page.locator(f'#filings tr[data-filing="{second}"]').count() == 1
    [(by, reference)] = query(served, "SELECT filed_by, reference FROM filing WHERE id = ?", first)
    assert (by, reference) == ("development", "鲁电发展备〔2026〕网页1号")
    [(actor,)] = query(
        served,
        "SELECT actor FROM audit_event WHERE action = 'filing.file' AND object_id = ?",
        str(first),
    )
    assert actor == "development"
    # the filed one is listed as such
    page.locator("#filings").get_by_label("状态").select_option(label="已备案")
    page.wait_for_url(lambda url: "filings=filed" in url)
    filed = page.locator(f'#filings tr[data-filing="{first}"]').inner_text()
    assert "已备案" in filed and "鲁电发展备〔2026〕网页1号" in filed


def test_the_packages_chart_holds_the_database_s_figures(
    served: Served, browser_page: Any, filings: list[int]
) -> None:
    page = browser_page
    sign_in(page, served, "planner")  # reads packages, does not file
    page.goto(served.base + "/packages")
    page.wait_for_function(
        "window.echarts && echarts.getInstanceByDom(document.getElementById('chart-packages'))"
    )
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-packages')).getOption()"
    )
    ids = [r[0] for r in query(served, "SELECT id FROM package ORDER BY year DESC, id LIMIT 20")]
    assert option["xAxis"][0]["data"] == ids
    assert PACKAGE in ids
    budgets = dict(query(served, "SELECT id, budget FROM package"))  # micro-yuan on SQLite
    listed = httpx.get(
        served.base + "/api/v1/packages",
        params={"limit": 100},
        headers=api_headers(served, "viewer"),
    ).json()["items"]
    by_id = {p["id"]: p for p in listed}
    series = {s["name"]: s["data"] for s in option["series"]}
    assert list(series) == ["预算", "已占用", "待发生", "剩余预算", "预计总额", "预计超支"]
    assert series["预算"] == [float(Decimal(budgets[i]) / 10**6) for i in ids]
    for name, key in (("已占用", "committed"), ("待发生", "pending"), ("剩余预算", "remaining"),
                      ("预计总额", "forecast"), ("预计超支", "overrun")):  # fmt: skip
        expected = [
            float(Decimal(by_id[i][key]).quantize(Decimal("0.01"), ROUND_HALF_UP)) for i in ids
        ]
        assert series[name] == expected, name
    # our package is over its 1 元: its row says so and offers the application
    row = page.locator(f'#packages tr[data-package="{PACKAGE}"]')
    assert "over" in (row.get_attribute("class") or "")
    with page.expect_download() as download:
        row.get_by_role("link", name="下载申请").click()
    assert download.value.suggested_filename == f"追加资金申请_{PACKAGE}_20261130.xlsx"
    # sorting by the overrun, largest first, puts the largest overrun on top
    page.get_by_role("link", name="预计超支").click()
    page.wait_for_url(lambda url: "sort=overrun" in url)
    page.get_by_role("link", name="预计超支 ▲").click()
    page.wait_for_url(lambda url: "sort=-overrun" in url)
    first = page.locator("#packages tbody tr").first.get_attribute("data-package")
    assert first == max(listed, key=lambda p: Decimal(p["overrun"]))["id"]
    no_horizontal_scroll(page)


def test_the_administrator_adds_a_user_who_then_signs_in(served: Served, browser_page: Any) -> None:
    page = browser_page
    sign_in(page, served, "admin")
    assert menu_of(page) == MENUS["admin"]
    page.get_by_role("link", name="用户").click()
    page.wait_for_url(served.base + "/users")
    form = page.locator("#add-user")
    form.get_by_text("新增用户").first.click()  # the summary opens the form

    def fill(login: str) -> None:
        form.get_by_label("登录名").fill(login)
        form.get_by_label("姓名").fill("发展部 网页测试")
        form.get_by_label("单位").select_option("wendeng")
        form.get_by_label("初始密码").fill(NEW_PASSWORD)
        form.get_by_label("发展部").check()
        form.get_by_role("button", name="新增用户").click()
        page.wait_for_load_state("networkidle")

    fill("planner")  # taken: said under the login
    form = page.locator("#add-user")
    assert "用户 planner 已存在" in form.locator(".field-error").inner_text()
    assert form.get_by_label("发展部").is_checked()  # the form comes back as sent
    fill(NEW_LOGIN)
    page.wait_for_url(lambda url: "done=added" in url)
    assert f"已新增用户 {NEW_LOGIN}" in page.locator(".notice").inner_text()
    row = page.locator(f'#users tr[data-login="{NEW_LOGIN}"]').inner_text()
    assert "发展部 网页测试" in row and "wendeng" in row and "启用" in row
    [(roles, unit, created_by)] = query(
        served, "SELECT roles, unit, created_by FROM app_user WHERE login = ?", NEW_LOGIN
    )
    assert (roles, unit, created_by) == ('["development"]', "wendeng", "admin")
    no_horizontal_scroll(page)
    page.context.clear_cookies()
    sign_in(page, served, NEW_LOGIN, NEW_PASSWORD)
    assert menu_of(page) == MENUS["development"]
    assert "发展部 网页测试" in page.locator(".who .name").inner_text()


def test_screenshots_of_the_packages_and_users_pages(
    served: Served, chromium: Any, filings: list[int]
) -> None:
    """docs/screenshots/packages.png (development) and users.png (the administrator), with the
    browser's clock at the server's moment and motion reduced, as test_browser.py does."""
    context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN", reduced_motion="reduce")
    context.clock.set_fixed_time(datetime.fromisoformat(DEMO_NOW))
    try:
        page = context.new_page()
        sign_in(page, served, "development")
        page.goto(served.base + "/packages")
        page.wait_for_function(
            "window.echarts && echarts.getInstanceByDom(document.getElementById('chart-packages'))"
        )
        screenshot(page, "packages")
        context.clear_cookies()
        sign_in(page, served, "admin")
        page.goto(served.base + "/users")
        screenshot(page, "users")
    finally:
        context.close()
