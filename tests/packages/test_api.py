"""Packages, figures, the funding draft and filings over HTTP (TestClient, both databases)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session
from api.main import create_app
from supply.calendar_store import load_calendar
from supply.core.clock import SHANGHAI, FixedClock
from supply.packages.budget import budget_check
from supply.packages.filings import record_filings
from supply.policy import DeadlinePolicy
from tests.packages.world import build_budget_world
from tests.signin import act_as

REVIEWED = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)


class Clock:
    """A clock the test moves."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 10, 5, 9, 0, tzinfo=SHANGHAI))  # Monday after National Day


@pytest.fixture
def client(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    """The budget world with one open filing (P3 in PK-B, 100 over, due 2026-10-09)."""
    with Session(engine) as setup:
        build_budget_world(setup)
        record_filings(
            session=setup,
            warnings=budget_check(session=setup, additions={"P3": Decimal(600)}),
            review_date=date(2026, 9, 30),
            now=REVIEWED,
            by="张工",
            calendar=load_calendar(),
            policy=DeadlinePolicy(),
        )
        setup.commit()
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(clock.now())
    act_as(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_package_list_carries_the_figures(client: TestClient) -> None:
    body = client.get("/api/v1/packages", params={"year": 2026}).json()
    assert body["total"] == 2
    a = body["items"][0]
    assert a["id"] == "PK-A" and a["budget"] == "100000.000000"
    assert {
        k: Decimal(a[k]) for k in ("committed", "pending", "remaining", "forecast", "overrun")
    } == {
        "committed": Decimal(78690),
        "pending": Decimal(74690),
        "remaining": Decimal(21310),
        "forecast": Decimal(153380),
        "overrun": Decimal(53380),
    }
    assert Decimal(body["items"][1]["overrun"]) == 0
    paged = client.get("/api/v1/packages", params={"limit": 1, "offset": 2}).json()
    assert [p["id"] for p in paged["items"]] == ["PK-C"] and paged["total"] == 3


def test_one_package_s_figures_project_by_project(client: TestClient) -> None:
    body = client.get("/api/v1/packages/PK-A/figures").json()
    assert Decimal(body["overrun"]) == Decimal(53380)
    assert [
        (p["project_id"], Decimal(p["committed"]), Decimal(p["pending"])) for p in body["projects"]
    ] == [
        ("P1", Decimal(77690), Decimal(74690)),
        ("P2", Decimal(1000), Decimal(0)),
    ]
    missing = client.get("/api/v1/packages/NOPE/figures")
    assert missing.status_code == 404
    assert "project package NOPE does not exist" in missing.json()["detail"][0]["msg"]


def test_the_funding_draft_downloads_as_excel(client: TestClient) -> None:
    response = client.get("/api/v1/funding-application")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="funding-application-20261005.xlsx"' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["补充资金申请"]
    assert [c.value for c in sheet[2]][:2] == ["PK-A", "PK-A 项目包"]
    assert sheet.cell(row=2, column=10).value == 53380
    only_b = client.get("/api/v1/funding-application", params={"package_id": "PK-B"})
    assert load_workbook(io.BytesIO(only_b.content))["补充资金申请"].max_row == 1
    assert (
        client.get("/api/v1/funding-application", params={"package_id": "NOPE"}).status_code == 404
    )
    assert client.get("/api/v1/funding-application", params={"year": 1999}).status_code == 422


def test_filings_are_listed_as_of_the_clock_and_filed_once(
    client: TestClient, clock: Clock
) -> None:
    listed = client.get("/api/v1/filings", params={"due_this_week": True}).json()
    assert listed["total"] == 1
    [item] = listed["items"]
    assert (item["project_id"], item["due_on"], item["status"], item["overrun"]) == (
        "P3",
        "2026-10-09",
        "due",
        "100.000000",
    )
    assert client.get("/api/v1/filings", params={"overdue": True}).json()["total"] == 0

    clock.at = datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI)  # the day after it was due
    overdue = client.get("/api/v1/filings", params={"overdue": True}).json()
    assert [f["status"] for f in overdue["items"]] == ["overdue"]
    assert client.get(f"/api/v1/filings/{item['id']}").json()["status"] == "overdue"

    act_as(client.app, "zhang.gong")  # type: ignore[arg-type]
    filed = client.post(
        f"/api/v1/filings/{item['id']}/file", json={"reference": "鲁电发展备〔2026〕18号"}
    )
    assert filed.status_code == 200, filed.text
    assert (filed.json()["status"], filed.json()["filed_by"], filed.json()["reference"]) == (
        "filed",
        "zhang.gong",
        "鲁电发展备〔2026〕18号",
    )
    assert client.get("/api/v1/filings", params={"status": "filed"}).json()["total"] == 1
    again = client.post(f"/api/v1/filings/{item['id']}/file", json={"reference": "x"})
    assert again.status_code == 409 and "already filed" in again.json()["detail"][0]["msg"]


def test_user_errors_are_4xx_with_a_message(client: TestClient) -> None:
    for method, url, body, status in (
        ("post", "/api/v1/filings/999/file", {"reference": "x"}, 404),
        ("post", "/api/v1/filings/1/file", {"reference": "  "}, 422),
        ("post", "/api/v1/filings/1/file", {}, 422),
        ("post", "/api/v1/filings/0/file", {"reference": "x"}, 422),
        ("get", "/api/v1/filings/99999999999999", None, 422),
        ("get", "/api/v1/filings?status=late", None, 422),
        ("get", "/api/v1/filings/12345", None, 404),
    ):
        response = client.request(method, url, json=body)
        assert response.status_code == status, (url, response.text)
        assert response.json()["detail"][0]["msg"]


def test_approval_answers_carry_warnings_and_filings_in_the_openapi_document(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    approval = spec["paths"]["/api/v1/plans/batches/{batch_id}/approve"]["post"]
    ref = approval["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"budget_warnings", "filings", "status"} <= set(schema["properties"])
    for path in (
        "/api/v1/filings",
        "/api/v1/filings/{filing_id}/file",
        "/api/v1/funding-application",
    ):
        assert path in spec["paths"]


@pytest.mark.parametrize(
    ("budget", "status"),
    [
        (10_000_000_000, 422),  # MAX_AMOUNT itself: the bound is exclusive
        ("10000000000", 422),
        ("9999999999.999999", 201),  # the largest budget there is
        (9_999_999_999, 201),
    ],
)
def test_a_budget_must_be_below_the_amount_limit_as_in_a_workbook(
    client: TestClient, budget: int | str, status: int
) -> None:
    body = {"id": "PK-EDGE", "name": "边界包", "year": 2026, "budget": budget}
    answer = client.post("/api/v1/packages", json=body)
    assert answer.status_code == status, answer.text
    if status == 201:
        assert Decimal(answer.json()["budget"]) == Decimal(str(budget))
