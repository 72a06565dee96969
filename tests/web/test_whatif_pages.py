"""假设分析 beside the weekly plan, in process, on the what-if tests' world (its run of
2026-W49): the planner types a supplier delay into the form and sees the what-if beside its
base — KPIs, the lines that turned late with the delay in their reason — replays it and
downloads it; a bad row is named by row and column and nothing is saved; development and viewer
read, a project manager may not; the menu shows it beside 周计划."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from api.deps import get_settings
from supply.whatif import Scenario
from tests.web.conftest import csrf_of, sign_in
from tests.whatif.world import CABLE_LINE, CABLE_SUPPLIER, build_world, run_batch, settings_of

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(web_app: FastAPI, web_engine: Engine, tmp_path: Path) -> Engine:
    with Session(web_engine) as session:
        build_world(session)
        settings = settings_of(session, tmp_path)
        run_batch(session, settings)
    web_app.dependency_overrides[get_settings] = lambda: settings
    return web_engine


@pytest.fixture
def planner(web_app: FastAPI, world: Engine) -> Iterator[TestClient]:
    with TestClient(web_app, raise_server_exceptions=False, follow_redirects=False) as client:
        assert sign_in(client, "planner").status_code == 303
        yield client


def _form(client: TestClient, **rows: str) -> dict[str, str]:
    page = client.get("/weekly/whatif")
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text), "batch": "2026-W49", "base": "run", **rows}


def _delay(client: TestClient, **extra: str) -> str:
    form = _form(
        client, name="电缆延迟", kind_0="supplier_delay", target_0=CABLE_SUPPLIER, value_0="10",
        **extra,
    )  # fmt: skip
    made = client.post("/weekly/whatif", data=form)
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert re.fullmatch(r"/weekly/whatif/\d+", location)
    return location


def test_a_planner_tries_a_supplier_delay_and_sees_it_beside_the_base(
    planner: TestClient, world: Engine
) -> None:
    page = planner.get("/weekly/whatif")
    assert "假设分析" in page.text and "开始分析" in page.text and "下载变更模板" in page.text
    nav = page.text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/weekly/whatif" aria-current="page"' in nav
    assert 'href="/weekly" aria-current' not in nav  # only the longest match is current

    location = _delay(planner)
    detail = planner.get(location)
    assert detail.status_code == 200
    html = detail.text
    assert "假设分析 #" in html and "电缆延迟" in html and "第 1 次运行的计划" in html
    assert f"供应商 {CABLE_SUPPLIER} 交货延迟 10 天" in html
    assert f"A:{CABLE_LINE} 可供日期 2026-12-17 → 2026-12-27" in html
    # The KPIs side by side, and the lines that changed: the cable line now late, with why.
    assert "按时行数" in html and "支出合计" in html and "data-bars=" in html
    row = html.split("P-CABLE/1", 1)[1].split("</tr>", 1)[0]
    assert "变差" in row and "E:CB10-300" in row and "交货延迟 10 天" in row
    assert "P-CAP/1" not in html  # another supplier's line: unchanged, not listed
    # The list shows it, with its figures.
    listed = planner.get("/weekly/whatif").text
    assert "电缆延迟" in listed and "2 → 1" in listed


def test_replay_and_downloads(planner: TestClient) -> None:
    location = _delay(planner)
    token = csrf_of(planner.get(location).text)
    replayed = planner.post(f"{location}/replay", data={"csrf_token": token}, headers=HTMX)
    assert replayed.status_code == 200
    assert replayed.text.startswith('<div id="replay">') and "相同的计划" in replayed.text
    workbook = planner.get(f"{location}/workbook")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["指标对比", "变化明细", "变更"]
    lines = [r for r in book["变化明细"].iter_rows(values_only=True)][1:]
    assert {r[0] for r in lines if r[0]} >= {"P-CABLE", "P-LATE"}
    changes = planner.get(f"{location}/files/changes.json")
    assert changes.status_code == 200
    assert json.loads(changes.content) == [
        {"kind": "supplier_delay", "supplier": CABLE_SUPPLIER, "days": 10}
    ]
    template = planner.get("/weekly/whatif/template.xlsx")
    assert load_workbook(io.BytesIO(template.content)).sheetnames[:2] == ["变更", "说明"]
    assert planner.get(f"{location}/files/nothing.json").status_code == 404


def test_a_bad_row_is_named_and_nothing_is_saved(planner: TestClient, world: Engine) -> None:
    form = _form(
        planner, kind_0="supplier_delay", target_0="没有这家", value_0="3",
        kind_2="stock_change", target_2="WH-WD", material_2="DT-400", value_2="1.5",
        kind_3="warehouse_closed", target_3="WH-NOPE",
    )  # fmt: skip
    refused = planner.post("/weekly/whatif", data=form)
    assert refused.status_code == 422
    html = refused.text
    assert "未做分析" in html and "没有这家" in html
    problems = html.split('<table class="data problems">', 1)[1].split("</table>", 1)[0]
    # The form's rows are numbered as the form shows them; the value that is no whole number
    # is named by its column.
    assert re.search(r'<td class="num">3</td>\s*<td class="column">数值</td>', problems)
    # What a row names is checked too, with the rows that could not be read: all at once.
    assert re.search(r'<td class="num">4</td>\s*<td class="column">对象</td>', problems)
    assert "没有仓库 WH-NOPE" in problems
    assert 'value="没有这家"' in html  # what was typed is kept
    with Session(world) as session:
        assert session.exec(select(func.count()).select_from(Scenario)).one() == 0


def test_a_change_file_and_extra_projects_come_as_files(planner: TestClient) -> None:
    form = _form(planner)
    changes = json.dumps([{"kind": "agreement_expired", "agreement": CABLE_LINE}]).encode()
    made = planner.post(
        "/weekly/whatif",
        data=form,
        files={"changes": ("changes.json", changes, "application/json")},
    )
    assert made.status_code == 303, made.text
    html = planner.get(made.headers["location"]).text
    assert f"协议行 {CABLE_LINE} 失效" in html


@pytest.mark.parametrize(("login", "can_read", "can_run"), [
    ("development", True, False), ("viewer", True, False), ("project_manager", False, False),
])  # fmt: skip
def test_who_may_read_and_who_may_run(
    web_app: FastAPI, world: Engine, login: str, can_read: bool, can_run: bool
) -> None:
    with TestClient(web_app, raise_server_exceptions=False, follow_redirects=False) as client:
        sign_in(client, login)
        page = client.get("/weekly/whatif")
        assert page.status_code == (200 if can_read else 403)
        if can_read:
            assert "开始分析" not in page.text and "由物资部计划员运行" in page.text
            token = csrf_of(page.text)
            refused = client.post("/weekly/whatif", data={"csrf_token": token})
            assert refused.status_code == 403 and "(scenarios.run)" in refused.text
        else:
            assert "(scenarios.read)" in page.text
