"""省公司匹配 in process: the province planner uploads the files, follows the matching and reads
it by city, by supplier and the lines at risk, and downloads a city's result; a refused file is
named by file, sheet and row and nothing is kept; the sample zip matches as it is; the viewer
reads; a city planner may not open it."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from api.deps import get_settings
from supply.core.settings import Settings
from supply.province.service import get_match
from tests.audit import events
from tests.province.test_matching import small_province
from tests.web.conftest import csrf_of, sign_in

HTMX = {"HX-Request": "true", "HX-Target": "match"}


@pytest.fixture
def settings(web_app: FastAPI, tmp_path: Path) -> Settings:
    kept = Settings(runs_dir=str(tmp_path / "runs"))
    web_app.dependency_overrides[get_settings] = lambda: kept
    return kept


@pytest.fixture
def province(web_app: FastAPI, settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app, raise_server_exceptions=False, follow_redirects=False) as client:
        assert sign_in(client, "province_planner").status_code == 303
        yield client


def _files(
    cities: list[tuple[str, bytes]], agreements: tuple[str, bytes], transport: tuple[str, bytes]
) -> list[tuple[str, tuple[str, bytes]]]:
    return [
        ("agreements", agreements),
        ("transport", transport),
        *[("cities", city) for city in cities],
    ]


def _small() -> list[tuple[str, tuple[str, bytes]]]:
    cities, agreements, transport = small_province()
    return _files(
        [(c.name, c.content) for c in cities],
        (agreements.name, agreements.content),
        (transport.name, transport.content),
    )


def _submit(client: TestClient, files: list[tuple[str, tuple[str, bytes]]]) -> object:
    token = csrf_of(client.get("/province").text)
    return client.post("/province", data={"csrf_token": token, "batch": "2026-W49"}, files=files)


def _followed(client: TestClient, location: str) -> str:
    """The matching's part of the page, asked for as htmx does until it is no longer matching."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        part = client.get(location, headers=HTMX)
        assert part.status_code == 200
        assert part.text.startswith('<div id="match"')  # the fragment alone, not the page
        if "hx-trigger" not in part.text:
            return part.text
        time.sleep(0.05)
    raise AssertionError(f"{location} still matching after 60 s")


def test_the_province_planner_matches_and_reads_the_result(
    province: TestClient, web_engine: Engine, settings: Settings
) -> None:
    home = province.get("/")
    assert home.headers["location"] == "/province"  # their only page
    page = province.get("/province")
    assert page.status_code == 200
    assert "开始匹配" in page.text and "/province/sample.zip?batch=2026-W49" in page.text
    assert "还没有省公司匹配" in page.text

    made = _submit(province, _small())
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert re.fullmatch(r"/province/2026-W49-\d{14}-[0-9a-f]{6}", location)
    html = _followed(province, location)
    found = get_match(settings, location.rsplit("/", 1)[1])
    assert found["state"] == "done"
    # By city, as the matching's figures say, with the province's totals.
    cities = html.split('<table class="data compact cities">', 1)[1].split("</table>", 1)[0]
    for city in found["cities"]:
        row = cities.split(f"<td>{city['city']}</td>", 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[:3] == [f"{city['lines']:,}", f"{city['quantity']:,}", f"{city['matched']:,}"]
    assert f"{found['totals']['matched']:,}" in cities.split("<tfoot>", 1)[1]
    assert all(s["supplier"] in html for s in found["suppliers"])
    # A city's result downloads from the page, in the import-match format.
    name = "2026-W49_威海_省公司匹配结果.xlsx"
    assert name in html
    got = province.get(f"{location}/files/{name}")
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.content))["匹配结果"]
    weihai = next(c for c in found["cities"] if c["city"] == "威海")
    assert sum(r[5] for r in sheet.iter_rows(min_row=2, values_only=True)) == weihai["matched"]
    assert province.get(f"{location}/files/state.json").status_code == 404
    # The list shows it, done; the audit trail has who started it and that it ended.
    listed = province.get("/province").text
    assert location in listed and "已完成" in listed
    assert [e.actor for e in events(web_engine, action="province.match")] == ["province_planner"]
    assert len(events(web_engine, action="province.match_finish")) == 1


def test_a_refused_file_is_named_and_nothing_is_kept(
    province: TestClient, web_engine: Engine
) -> None:
    files = _small()
    files[1] = ("transport", ("省内运输天数.xlsx", b"not a workbook"))
    refused = _submit(province, files)
    assert refused.status_code == 422
    html = refused.text
    assert "未做匹配" in html
    problems = html.split('<table class="data problems">', 1)[1].split("</table>", 1)[0]
    assert "省内运输天数.xlsx" in problems
    # A catalog sent as the transport days: its missing columns, not a day missing per site.
    files = _small()
    files[1] = ("transport", files[0][1])
    wrong = _submit(province, files)
    assert wrong.status_code == 422
    listed = wrong.text.split('<table class="data problems">', 1)[1].split("</table>", 1)[0]
    assert "缺少必填列" in listed and "的运输天数" not in listed.replace("缺少必填列 运输天数", "")
    assert "还没有省公司匹配" in html
    assert events(web_engine, action="province.match") == []
    # No files at all: each field says what it needs.
    token = csrf_of(province.get("/province").text)
    empty = province.post("/province", data={"csrf_token": token, "batch": "49"})
    assert empty.status_code == 422
    assert "请填写批次" in empty.text and "请选择省级协议库存目录文件" in empty.text
    assert "请选择各地市的协议库存需求计划" in empty.text


def test_the_sample_zip_matches_as_it_is(province: TestClient, settings: Settings) -> None:
    got = province.get("/province/sample.zip", params={"batch": "2026-W49"})
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = archive.namelist()
    plans = [n for n in names if n.endswith("_协议库存需求计划.xlsx")]
    assert len(plans) == 16 and len(names) == 18
    catalog = next(n for n in names if n.endswith("_省级协议库存.xlsx"))
    transport = next(n for n in names if n.endswith("_省内运输天数.xlsx"))
    files = _files(
        [(n, archive.read(n)) for n in plans],
        (catalog, archive.read(catalog)),
        (transport, archive.read(transport)),
    )
    made = _submit(province, files)
    assert made.status_code == 303, made.text
    html = _followed(province, made.headers["location"])
    found = get_match(settings, made.headers["location"].rsplit("/", 1)[1])
    assert found["state"] == "done" and found["status"] == "optimal"
    assert len(found["cities"]) == 16 and "济南" in html and "威海" in html
    # Weihai's plan in the zip is the one matched: its quantity, row by row (totals row aside).
    plan = load_workbook(io.BytesIO(archive.read("2026-W49_威海_协议库存需求计划.xlsx")))
    rows = list(plan["项目明细"].iter_rows(values_only=True))
    column = rows[0].index("数量")
    sent = sum(r[column] for r in rows[1:] if r[column] is not None)
    assert next(c for c in found["cities"] if c["city"] == "威海")["quantity"] == sent
    assert province.get("/province/sample.zip", params={"batch": "W49"}).status_code == 422
    no_week = province.get("/province/sample.zip", params={"batch": "2026-W60"})
    assert no_week.status_code == 422 and "应写作 2026-W49" in no_week.text  # a page, no 500


def test_the_viewer_reads_and_a_city_planner_may_not_open_it(
    web_app: FastAPI, settings: Settings
) -> None:
    with TestClient(web_app, raise_server_exceptions=False, follow_redirects=False) as client:
        assert sign_in(client, "viewer").status_code == 303
        page = client.get("/province")
        assert page.status_code == 200
        assert "开始匹配" not in page.text and "由省公司物资计划员运行" in page.text
        assert 'href="/province"' in page.text.split('<nav class="menu"', 1)[1]
        assert sign_in(client, "planner").status_code == 303
        refused = client.get("/province")
        assert refused.status_code == 403 and "查看省公司集中匹配" in refused.text
        assert 'href="/province"' not in client.get("/weekly").text


def test_a_matching_kept_before_matchings_had_a_state_is_still_shown(
    province: TestClient, settings: Settings
) -> None:
    made = _submit(province, _small())
    location = made.headers["location"]
    _followed(province, location)
    match_id = location.rsplit("/", 1)[1]
    done = get_match(settings, match_id)
    folder = Path(settings.runs_dir) / "province" / match_id
    (folder / "state.json").unlink()  # as the first version kept them: the figures alone
    figures = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for key in ("totals", "suppliers", "risks"):
        del figures[key]
    (folder / "summary.json").write_text(json.dumps(figures, ensure_ascii=False))
    old = get_match(settings, match_id)
    assert old["state"] == "done" and old["totals"] == done["totals"]
    assert old["files"] == done["files"]
    page = province.get(location)
    assert page.status_code == 200 and f"{done['totals']['matched']:,}" in page.text
    assert match_id in province.get("/province").text
