"""What the browser tests do again and again: sign in through the form, read the menu, check that
a page fits 1366 px, read the CSRF token, and save a page's screenshot for docs/screenshots/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.web.conftest import Served

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH = 1366
# Each demo user's menu, in its order.
MENUS = {
    "planner": ["周计划", "假设分析", "项目", "库存与定额", "项目包与备案", "导入"],
    "pm.weihai": ["项目", "库存与定额"],
    "pm.wendeng": ["项目", "库存与定额"],
    "development": ["周计划", "假设分析", "项目", "库存与定额", "项目包与备案"],
    "marketing": ["项目", "库存与定额"],
    "viewer": [
        "周计划",
        "假设分析",
        "项目",
        "库存与定额",
        "项目包与备案",
        "省公司匹配",
        "审计",
        "用户",
    ],
    "admin": ["库存与定额", "导入", "审计", "用户"],
    "province": ["省公司匹配"],
}


def sign_in(page: Any, served: Served, login: str, password: str | None = None) -> None:
    page.goto(served.base + "/login")
    page.get_by_label("用户名").fill(login)
    page.get_by_label("密码").fill(password or f"{login}-demo-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def menu_of(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("nav.menu a").all_inner_texts()]


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: the page is {width} px wide"


def csrf_token_of(page: Any) -> str:
    headers = json.loads(page.locator("body").get_attribute("hx-headers"))
    return str(headers["X-CSRF-Token"])


def screenshot(page: Any, name: str) -> None:
    """docs/screenshots/<name>.png of the page as it is, after checking that it fits 1366 px
    (a page that breaks its layout fails here) and that the picture is not blank."""
    no_horizontal_scroll(page)
    page.mouse.move(0, 0)  # no hover left from a click: the same page gives the same picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 10_000, f"{name}.png looks blank"
