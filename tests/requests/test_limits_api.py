"""Quantities and amounts past the limits over HTTP: a 422 at the edge, or a line refused with its
reason — never a 500, with or without a project package (issue 12, items 7 and 8).

Over a real app on the small world (SQLite and PostgreSQL): a request line of 999,999,999,999
units is refused by the schema (the limit is in the OpenAPI document as `maximum`); a line within
the quantity limit that would cost more than one line may is answered unmet with the reason while
the request's other lines are held, its package warned; a line stored before the limits is
refused the same way when a project asks for its outstanding lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from supply.core.clock import FixedClock
from supply.core.money import AMOUNT_PATTERN, MAX_AMOUNT
from supply.core.settings import Settings
from supply.core.units import MAX_QUANTITY
from supply.demand.models import DemandLine
from supply.packages.models import Filing
from tests.packages.world import add_package
from tests.requests.conftest import FRIDAY, new_project
from tests.signin import act_as
from tests.weekly.world import add_project


@pytest.fixture
def client(engine: Engine, world: Settings) -> Iterator[TestClient]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(FRIDAY)
    act_as(app)
    app.dependency_overrides[get_settings] = lambda: world
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _post(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/requests", json=body)


@pytest.mark.parametrize("package", [None, "PK-1"])
def test_a_quantity_past_the_limit_is_a_422_naming_the_line_with_or_without_a_package(
    client: TestClient, engine: Engine, package: str | None
) -> None:
    with Session(engine) as session:
        add_package(session, "PK-1", "10000")
    extra = {"package_id": package} if package else {}
    body = new_project("U-1", [("DT-400", 999_999_999_999)], kind="mv_10kv", **extra)
    got = _post(client, body)
    assert got.status_code == 422, got.text
    [detail] = got.json()["detail"]
    assert detail["loc"] == ["body", "lines", 0, "quantity"]
    assert "100000000" in detail["msg"]
    with Session(engine) as session:
        assert session.exec(select(DemandLine)).all() == []  # nothing written


def test_a_line_too_dear_to_plan_is_answered_unmet_with_the_reason_and_the_rest_held(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        add_package(session, "PK-1", "10000")
    body = new_project(
        "U-1", [("DT-400", MAX_QUANTITY), ("DT-400", 1)], kind="mv_10kv", package_id="PK-1"
    )
    got = _post(client, body)
    assert got.status_code == 201, got.text
    answer = got.json()
    big, small = answer["lines"]
    assert (big["outcome"], big["unmet_quantity"], big["allocations"]) == (
        "unmet",
        MAX_QUANTITY,
        [],
    )
    assert big["reason"].endswith(
        f"line U-1/1 would cost up to 5,850,000,000,000.00 CNY at its dearest source (the "
        f"emergency price of DT-400), at or above the limit of {MAX_AMOUNT:,} CNY for one line; "
        "correct or split the line, then plan again"
    )
    assert small["outcome"] == "held"
    # The package is warned for what was committed (one transformer), not for the refused line.
    [warning] = answer["budget_warnings"]
    assert Decimal(warning["forecast_after"]) == Decimal(45000)
    with Session(engine) as session:
        [filing] = session.exec(select(Filing)).all()
        assert filing.overrun == Decimal(35000)
    figures = client.get("/api/v1/packages/PK-1/figures")
    assert figures.status_code == 200 and Decimal(figures.json()["pending"]) == 0


def test_an_outstanding_line_stored_before_the_limits_is_refused_not_a_500(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        add_package(session, "PK-1", "10000")
        add_project(session, "P-OLD", kind="area_capacity_increase", location="wendeng",
                    approved=FRIDAY.date(), lines=[("CB10-300", 999_999_999_999), ("MTR-1P", 1)])  # fmt: skip
    got = _post(client, {"project_id": "P-OLD"})
    assert got.status_code == 201, got.text
    old, meter = got.json()["lines"]
    assert (
        old["outcome"] == "unmet"
        and "quantity 999,999,999,999 is above the limit" in (old["reason"])
    )
    assert meter["outcome"] == "held"


def test_adding_a_line_past_the_limit_is_a_422_and_the_limit_is_documented(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        add_project(session, "P-1", kind="area_new", location="wendeng",
                    approved=FRIDAY.date(), lines=[("MTR-1P", 1)])  # fmt: skip
    got = client.post(
        "/api/v1/projects/P-1/lines", json=[{"material_code": "MTR-1P", "quantity": 20_000_000_000}]
    )
    assert got.status_code == 422, got.text
    assert got.json()["detail"][0]["loc"][-1] == "quantity"
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["DemandLineCreate"]["properties"]["quantity"]["maximum"] == MAX_QUANTITY
    number, text = schemas["PackageCreate"]["properties"]["budget"]["anyOf"]
    assert number["exclusiveMaximum"] == MAX_AMOUNT
    assert text["pattern"] == AMOUNT_PATTERN  # ten digits at most: below MAX_AMOUNT
