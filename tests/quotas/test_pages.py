"""库存与定额's quota advice in process, on the sample catalogs with a small history and a user
per role: before any recommendation the card says how to make one; the planner computes it from
the 定额建议 tab (CSRF, audited) and the card's charts then hold the service's figures; the tab
lists every warehouse × material and charts one warehouse; the draft downloads; the other roles
read but may not compute; a bad field is named under it."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.web.advice_charts import materials_chart, replay_chart
from supply.core.db import make_engine
from supply.quotas import latest_recommendation
from supply.quotas.models import QuotaRecommendation
from tests.audit import events
from tests.quotas.small import small_history
from tests.web.conftest import NOW, app_on, browser_like, csrf_of, engine_with_roles, sign_in


@pytest.fixture
def advice_engine(tmp_path: Path, sqlite_sample_templates: dict[str, Path]) -> Iterator[Engine]:
    """The sample catalogs, six weeks of meter-front history, a user per role."""
    template = tmp_path / "template.db"
    shutil.copy(sqlite_sample_templates["catalogs"], template)
    seeded = make_engine(f"sqlite:///{template}")
    small_history(seeded)
    seeded.dispose()
    with engine_with_roles(template, tmp_path / "advice.db") as engine:
        yield engine


@pytest.fixture
def pages(advice_engine: Engine) -> Iterator[TestClient]:
    with browser_like(app_on(advice_engine)) as client:
        yield client


def data_of(html: str, attribute: str) -> dict[str, object]:
    found = re.search(rf"{attribute}='([^']*)'", html)
    assert found, attribute
    return json.loads(found.group(1).replace("&#34;", '"').replace("&amp;", "&"))  # type: ignore[no-any-return]


def test_the_planner_computes_the_advice_and_the_charts_hold_its_figures(
    pages: TestClient, advice_engine: Engine
) -> None:
    sign_in(pages, "planner")
    stock = pages.get("/stock").text
    assert 'id="advice"' in stock and "还没有储备定额建议" in stock
    tab = pages.get("/stock/advice")
    assert tab.status_code == 200 and "重新计算" in tab.text
    assert '<a href="/stock/advice" aria-current="page">定额建议</a>' in tab.text
    done = pages.post(
        "/stock/advice",
        data={"year": "2027", "service_level": "0.9", "csrf_token": csrf_of(tab.text)},
    )
    assert done.status_code == 303 and done.headers["location"] == "/stock/advice"
    [event] = events(advice_engine, action="quota.recommend")
    assert event.actor == "planner"
    made = None
    for _ in range(600):  # computed in the background
        with Session(advice_engine) as session:
            made = latest_recommendation(session=session)
        if made is not None:
            break
        time.sleep(0.1)
    assert made is not None and (made.year, made.service_level) == (2027, 0.9)
    stock = pages.get("/stock").text
    assert data_of(stock, "data-advice-replay") == json.loads(json.dumps(replay_chart(made)))
    materials = data_of(stock, "data-advice-bars")
    assert materials == json.loads(json.dumps(materials_chart(made)))
    assert materials["categories"][0] == "MTR-1P-SMART" or "CBLV-4x50" in materials["categories"]
    assert f"/stock/advice/{made.id}/workbook" in stock
    tab = pages.get("/stock/advice").text
    assert tab.count("data-key=") == len(made.lines)
    chart = data_of(tab, "data-advice-bars")
    first = made.lines[0].warehouse_id
    assert chart["categories"] == [x.material_code for x in made.lines if x.warehouse_id == first]
    one = pages.get("/stock/advice", params={"warehouse": "WH-RS"}).text
    assert one.count("data-key=") == sum(x.warehouse_id == "WH-RS" for x in made.lines)
    assert str(data_of(one, "data-advice-bars")["title"]).startswith("WH-RS 现行定额与推荐定额")
    wrong = pages.get("/stock/advice", params={"warehouse": "WH-NONE"})
    assert wrong.status_code == 200 and "没有仓库 WH-NONE" in wrong.text
    book = pages.get(f"/stock/advice/{made.id}/workbook")
    assert book.status_code == 200
    rows = list(load_workbook(io.BytesIO(book.content))["储备定额"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(made.lines)


def test_a_bad_field_is_named_under_it_and_nothing_is_computed(
    pages: TestClient, advice_engine: Engine
) -> None:
    sign_in(pages, "marketing")
    tab = pages.get("/stock/advice")
    answer = pages.post(
        "/stock/advice",
        data={"year": "26", "service_level": "0.3", "csrf_token": csrf_of(tab.text)},
    )
    assert answer.status_code == 422
    assert "a year such as 2026" in answer.text and "0.5–1" in answer.text
    assert 'value="0.3"' in answer.text
    refused = pages.post("/stock/advice", data={"year": "2026"})  # no CSRF token
    assert refused.status_code == 403
    assert events(advice_engine, action="quota.recommend") == []


@pytest.mark.parametrize("role", ["viewer", "development", "project_manager", "admin"])
def test_the_other_roles_read_the_advice_but_may_not_compute_it(
    pages: TestClient, advice_engine: Engine, role: str
) -> None:
    sign_in(pages, role)
    tab = pages.get("/stock/advice")
    assert tab.status_code == 200 and "重新计算" not in tab.text
    refused = pages.post("/stock/advice", data={"year": "2026", "csrf_token": csrf_of(tab.text)})
    assert refused.status_code == 403 and "推荐储备定额 (quotas.recommend)" in refused.text
    assert events(advice_engine, action="quota.recommend") == []


def test_a_recommendation_being_computed_is_followed_until_it_is_done(
    pages: TestClient, advice_engine: Engine
) -> None:
    with Session(advice_engine) as session:
        session.add(
            QuotaRecommendation(
                year=2026, service_level_permille=950, first_batch="2025-W49",
                last_batch="2026-W48", window_start=NOW, window_end=NOW, catalog="2026 年第 1 版",
                created_at=NOW - timedelta(seconds=20), created_by="marketing",
            )
        )  # fmt: skip
        session.commit()
    sign_in(pages, "planner")
    tab = pages.get("/stock/advice").text
    assert "第 1 号定额建议（2026 年，目标 95.0%）计算中" in tab
    assert 'hx-get="/stock/advice/1/status" hx-trigger="every 3s"' in tab
    assert "第 1 号定额建议计算中" in pages.get("/stock").text
    again = pages.post(
        "/stock/advice", data={"year": "2026", "csrf_token": csrf_of(tab)}
    )  # one at a time
    assert again.status_code == 409 and "is being computed (asked by marketing)" in again.text
    polled = pages.get("/stock/advice/1/status", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and 'id="advice-computing"' in polled.text
    with Session(advice_engine) as session:
        saved = session.get(QuotaRecommendation, 1)
        assert saved is not None
        saved.status, saved.message = "failed", "内部错误 / internal error"
        session.add(saved)
        session.commit()
    finished = pages.get("/stock/advice/1/status", headers={"HX-Request": "true"})
    assert finished.status_code == 204 and finished.headers["HX-Refresh"] == "true"
    assert "第 1 号定额建议计算失败" in pages.get("/stock/advice").text
