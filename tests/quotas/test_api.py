"""The quota advisor over HTTP: the planner and marketing ask (202 at once, computing; then done,
saved, audited, the workbook downloads in the quotas import format), one at a time (409 while
another computes, unless that one's process is long gone); the other roles read it but may not
ask (403 naming quotas.recommend); a bad year or service level is a 422; the default level is
the setting."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.deps import get_calendar, get_clock, get_session
from api.main import create_app
from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI, FixedClock
from supply.quotas.models import QuotaRecommendation
from tests.audit import events
from tests.quotas.small import small_history
from tests.signin import act_as

NOW = datetime(2026, 11, 30, 11, tzinfo=SHANGHAI)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = "/api/v1/quotas/recommendations"


@pytest.fixture
def app(catalog_engine: Engine) -> FastAPI:
    """The application on the sample catalogs with a small history, at the demo's moment."""
    small_history(catalog_engine)
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(catalog_engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(NOW)
    app.dependency_overrides[get_calendar] = default_calendar
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def ask(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """Ask for a recommendation (202, computing) and wait until it is done."""
    asked = client.post(URL, json=body)
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "computing"
    assert asked.json()["on_time_rate_recommended"] is None
    for _ in range(600):
        found = client.get(f"{URL}/{asked.json()['id']}").json()
        if found["status"] != "computing":
            assert found["status"] == "done", found
            return found  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the recommendation was not done within a minute")


@pytest.mark.parametrize("role", ["planner", "marketing"])
def test_the_planner_and_marketing_recommend_and_download_the_draft(
    app: FastAPI, client: TestClient, catalog_engine: Engine, role: str
) -> None:
    act_as(app, role, (role,))
    body = ask(client, {"year": 2027, "service_level": 0.9})
    assert (body["year"], body["service_level"], body["created_by"]) == (2027, 0.9, role)
    assert body["finished_at"] is not None and body["message"] == ""
    assert (body["first_batch"], body["last_batch"]) == ("2025-W49", "2026-W48")
    assert body["short_lines"] == 12 and body["catalog"] == "2026 年第 1 版"
    assert body["on_time_rate_recommended"] >= 0.9
    meters = [x for x in body["lines"] if x["material_code"] == "MTR-1P-SMART"]
    assert sum(x["lines"] for x in meters) == 6 and all(x["unit"] == "只" for x in meters)
    [event] = events(catalog_engine, action="quota.recommend")
    assert (event.actor, event.object_id) == (role, str(body["id"]))
    [finished] = events(catalog_engine, action="quota.recommend_finish")
    assert (finished.actor, finished.after["status"]) == (role, "done")  # type: ignore[index]
    listed = client.get(URL).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    assert "lines" not in listed["items"][0]
    assert client.get(URL, params={"year": 2026}).json()["total"] == 0
    one = client.get(f"{URL}/{body['id']}")
    assert one.status_code == 200 and one.json() == body
    book = client.get(f"{URL}/{body['id']}/workbook.xlsx")
    assert book.status_code == 200 and book.headers["content-type"] == XLSX
    assert "attachment" in book.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(book.content))["储备定额"].iter_rows(values_only=True))
    assert rows[0][:6] == ("年度", "仓库编码", "物料编码", "物料名称", "单位", "储备定额")
    assert len(rows) == 1 + len(body["lines"]) and {r[0] for r in rows[1:]} == {2027}


def test_the_other_roles_read_recommendations_but_may_not_ask_for_one(
    app: FastAPI, client: TestClient
) -> None:
    for role in ("viewer", "project_manager", "development", "admin", "province_planner"):
        act_as(app, role, (role,))
        refused = client.post(URL, json={"year": 2026})
        assert refused.status_code == 403, role
        assert "quotas.recommend" in refused.json()["detail"][0]["msg"]
        reads = client.get(URL).status_code
        assert reads == (403 if role == "province_planner" else 200), role
        assert client.get(f"{URL}/1").status_code == (403 if role == "province_planner" else 404)


def test_a_bad_year_or_service_level_is_a_422(app: FastAPI, client: TestClient) -> None:
    act_as(app, "planner", ("planner",))
    for body in (
        {"year": 1999}, {"year": 2026, "service_level": 0.4}, {"year": 2026, "service_level": 1.5},
        {"service_level": 0.95}, {"year": "x"},
    ):  # fmt: skip
        answer = client.post(URL, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"][0]["loc"][0] == "body"


def test_without_a_service_level_the_setting_applies_rounded_to_the_per_mille(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(app, "planner", ("planner",))
    monkeypatch.setenv("GRIDSUPPLY_QUOTA_SERVICE_LEVEL", "0.9")
    assert ask(client, {"year": 2026})["service_level"] == 0.9
    monkeypatch.delenv("GRIDSUPPLY_QUOTA_SERVICE_LEVEL")
    assert ask(client, {"year": 2026})["service_level"] == 0.95
    assert ask(client, {"year": 2026, "service_level": 0.97349})["service_level"] == 0.973


def test_one_is_computed_at_a_time_and_one_left_behind_by_a_lost_process_is_failed(
    app: FastAPI, client: TestClient, catalog_engine: Engine
) -> None:
    act_as(app, "marketing", ("marketing",))
    with Session(catalog_engine) as session:  # another process is computing one
        session.add(
            QuotaRecommendation(
                year=2026, service_level_permille=950, first_batch="2025-W49",
                last_batch="2026-W48", window_start=NOW, window_end=NOW, catalog="2026 年第 1 版",
                created_at=NOW - timedelta(minutes=1), created_by="planner",
            )
        )  # fmt: skip
        session.commit()
    busy = client.post(URL, json={"year": 2026})
    assert busy.status_code == 409
    assert "#1 is being computed (asked by planner)" in busy.json()["detail"][0]["msg"]
    assert client.get(f"{URL}/1/workbook.xlsx").status_code == 409
    with Session(catalog_engine) as session:  # ... and its process went away long ago
        lost = session.exec(select(QuotaRecommendation)).one()
        lost.created_at = NOW - timedelta(hours=1)
        session.add(lost)
        session.commit()
    gone = client.get(f"{URL}/1").json()
    assert gone["status"] == "failed" and "interrupted" in gone["message"]
    assert "interrupted" in client.get(f"{URL}/1/workbook.xlsx").json()["detail"][0]["msg"]
    assert ask(client, {"year": 2026})["id"] == 2
