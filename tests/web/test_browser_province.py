"""省公司匹配 in a real browser (Debian's chromium through Playwright) against `gridsupply serve`
on the demo database: the province's planner (demo user `province`) downloads the sample
province from the page, uploads its 18 files, follows the matching while it runs and reads it
by city (the figures the server kept), then downloads Weihai's result. Saves
docs/screenshots/province.png. Only the matching's folder (and its audit events) is written."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.web.browsing import MENUS, menu_of, screenshot, sign_in
from tests.web.conftest import Served

pytestmark = pytest.mark.slow


def test_the_province_planner_matches_the_sample_province(
    browser_page: Any, served: Served, tmp_path: Path
) -> None:
    page = browser_page
    sign_in(page, served, "province")
    assert page.url.endswith("/province")  # their only page
    assert menu_of(page) == MENUS["province"]

    with page.expect_download() as sample:
        page.get_by_role("link", name="下载示例文件").click()
    zipped = tmp_path / "sample.zip"
    sample.value.save_as(zipped)
    folder = tmp_path / "sample"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(folder)
    plans = sorted(folder.glob("*_协议库存需求计划.xlsx"))
    assert len(plans) == 16

    page.get_by_label("批次").fill("2026-W49")
    page.get_by_label("省级协议库存目录").set_input_files(next(folder.glob("*_省级协议库存.xlsx")))
    page.get_by_label("省内运输天数").set_input_files(next(folder.glob("*_省内运输天数.xlsx")))
    page.get_by_label("各地市协议库存需求计划").set_input_files(plans)
    page.get_by_role("button", name="开始匹配").click()
    page.wait_for_url("**/province/2026-W49-*")
    page.locator("table.cities").wait_for(timeout=60_000)  # followed until it is done

    match_id = page.url.rsplit("/", 1)[1]
    kept = served.folder / "runs" / "province" / match_id
    figures = json.loads((kept / "summary.json").read_text(encoding="utf-8"))
    rows = page.locator("table.cities tbody tr")
    assert rows.count() == 16 == len(figures["cities"])
    for i, city in enumerate(figures["cities"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == city["city"]
        assert cells[1:4] == [f"{city['lines']:,}", f"{city['quantity']:,}", f"{city['matched']:,}"]
    assert page.locator("h1").inner_text().startswith("省公司匹配 2026-W49")
    screenshot(page, "province")

    with page.expect_download() as result:
        page.get_by_role("link", name="威海", exact=True).click()
    assert result.value.suggested_filename == "2026-W49_威海_省公司匹配结果.xlsx"
    page.get_by_role("link", name="省公司匹配").first.click()
    page.wait_for_load_state("networkidle")
    assert "已完成" in page.locator("table.matches").inner_text()
