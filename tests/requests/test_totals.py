"""Totals of many lines at the limit fit where they are stored: a week's run completes, its
approval files the overrun, an urgent request answers (issue 12, item 8, the review's repro).

Each line is within the limits — DT-400 at 170,940 transformers costs 9,999,990,000 yuan at its
dearest price, just below `MAX_AMOUNT` — but sums are not bounded by any one line: a thousand
such lines pass 10¹³, past NUMERIC(18, 6) (10¹²) and SQLite's integer millionths (9.2 × 10¹²).
Both databases, the real service and HTTP app, nothing replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from catalogs.models import Consignment
from supply.core import migrate
from supply.core.clock import FixedClock
from supply.core.money import COLUMN_LIMIT, MAX_AMOUNT, MAX_PRICE
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.holds.models import ConsignmentSettlement, Hold
from supply.holds.service import issue_hold
from supply.limits import dearest_prices, largest_quantity
from supply.packages.models import Filing
from supply.projects.models import Project
from supply.requests.models import MAX_REQUEST_LINES
from supply.weekly.approval import approve_run
from supply.weekly.models import PlanRun
from supply.weekly.run import run_weekly
from tests.packages.world import add_package
from tests.requests.conftest import FRIDAY, new_project
from tests.signin import act_as
from tests.weekly.world import BEFORE_CUTOFF, CALENDAR, POLICY, add_project

SQLITE_MONEY_LIMIT = Decimal(2**63 - 1) / 10**6  # yuan in int64 millionths
MANY = 1000  # lines at the limit: 10¹³ yuan in all, past both limits above


def _largest(engine: Engine) -> int:
    with Session(engine) as session:
        largest = largest_quantity(dearest_prices(session, {"DT-400"})["DT-400"])
    assert largest * Decimal(58500) < MAX_AMOUNT <= (largest + 1) * Decimal(58500)
    return largest


def _bulk_project(engine: Engine, project_id: str, lines: int, *, package: str) -> None:
    """A project in `package` with `lines` open lines of DT-400, each at the largest quantity."""
    quantity = _largest(engine)
    with Session(engine) as session:
        add_package(session, package, "1000")
        add_project(session, project_id, kind="mv_10kv", approved=date(2026, 11, 20),
                    location="wendeng", lines=[("DT-400", quantity)] * lines)  # fmt: skip
        project = session.get(Project, project_id)
        assert project is not None
        project.package_id = package
        session.add(project)
        session.commit()


def test_a_week_of_many_lines_at_the_limit_runs_is_saved_and_approved(
    engine: Engine, world: Settings
) -> None:
    _bulk_project(engine, "P-BULK", MANY, package="PK-BULK")
    outcome = run_weekly(engine=engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部",
                         calendar=CALENDAR, policy=POLICY, settings=world)  # fmt: skip
    objective = outcome.plan.objective
    assert Decimal(str(objective.cost)) > SQLITE_MONEY_LIMIT > COLUMN_LIMIT
    assert outcome.run.kpis["totals"]["refused_lines"] == 0  # every line within the limits
    with Session(engine) as session:
        stored = session.exec(select(PlanRun).where(PlanRun.id == outcome.run.id)).one()
        assert stored.cost == Decimal(str(objective.cost))  # exact, read back
        assert stored.lateness_weighted == Decimal(str(objective.lateness_weighted))
        assert stored.unmet_weighted == Decimal(str(objective.unmet_weighted))
        approved = approve_run(session=session, batch_id=outcome.run.batch_id, user="主任",
                               now=BEFORE_CUTOFF, calendar=CALENDAR, policy=POLICY,
                               settings=world)  # fmt: skip
        assert approved.status == "approved"
        [filing] = session.exec(select(Filing)).all()
        assert filing.overrun > SQLITE_MONEY_LIMIT  # the project's overrun, filed in full
        [warning] = approved.budget_warnings
        assert filing.overrun == warning.overrun


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


def test_a_request_of_the_most_lines_at_the_limit_in_a_package_is_answered(
    client: TestClient, engine: Engine
) -> None:
    # 200 lines × 10 billion: 2 × 10¹² over a budget of 1,000 — past NUMERIC(18, 6).
    quantity = _largest(engine)
    with Session(engine) as session:
        add_package(session, "PK2026-JQ", "1000")
    body = new_project("U-BIG", [("DT-400", quantity)] * MAX_REQUEST_LINES, kind="mv_10kv",
                       package_id="PK2026-JQ")  # fmt: skip
    got = client.post("/api/v1/requests", json=body)
    assert got.status_code == 201, got.text
    answer = got.json()
    assert len(answer["lines"]) == MAX_REQUEST_LINES
    [filing] = answer["filings"]
    assert Decimal(filing["overrun"]) > COLUMN_LIMIT
    with Session(engine) as session:
        assert session.exec(select(Filing.overrun)).one() == Decimal(filing["overrun"])


def test_a_request_for_a_project_s_many_open_lines_is_answered(
    client: TestClient, engine: Engine
) -> None:
    # A project's own open lines, a thousand of them: past SQLite's integer millionths too.
    _bulk_project(engine, "P-BULK", MANY, package="PK-BULK")
    got = client.post("/api/v1/requests", json={"project_id": "P-BULK"})
    assert got.status_code == 201, got.text
    [filing] = got.json()["filings"]
    assert Decimal(filing["overrun"]) > SQLITE_MONEY_LIMIT
    with Session(engine) as session:
        assert session.exec(select(Filing.overrun)).one() == Decimal(filing["overrun"])
        assert len(session.exec(select(DemandLine.id)).all()) == MANY


def test_a_settlement_after_a_repricing_is_recorded_in_full(ask: Any, engine: Engine) -> None:
    # 100,000 meters held from consignment at 190, then the row repriced to the price limit
    # before the goods issue: the vendor is owed 10¹³, recorded exactly.
    with Session(engine) as session:
        row = session.exec(select(Consignment).where(Consignment.material_code == "MTR-1P")).one()
        row.quantity = 100_000
        session.add(row)
        session.commit()
    answer = ask(new_project("U-C", [("MTR-1P", 100_000)], kind="lv_extension"))
    [line] = answer.lines
    [held] = [p for p in line.allocations if p.kind == "consignment"]
    with Session(engine) as session:
        row = session.exec(select(Consignment).where(Consignment.material_code == "MTR-1P")).one()
        row.issue_price = MAX_PRICE
        session.add(row)
        session.commit()
    assert held.hold_id is not None
    detail = issue_hold(engine=engine, hold_id=held.hold_id, quantity=None, now=FRIDAY,
                        user="仓管", today=FRIDAY.date())  # fmt: skip
    assert detail.settlement_amount == MAX_PRICE * held.quantity > SQLITE_MONEY_LIMIT


def test_the_migration_keeps_every_total_up_and_down(
    ask: Any, engine: Engine, db_url: str, world: Settings
) -> None:
    with Session(engine) as session:
        add_package(session, "PK-1", "10000")
    ask(new_project("U-1", [("DT-400", 1)], kind="mv_10kv", package_id="PK-1"))
    ask(new_project("U-2", [("MTR-1P", 40)], kind="lv_extension"))  # consignment, to issue
    with Session(engine) as session:
        add_project(session, "P-W", kind="area_new", approved=date(2026, 11, 20),
                    location="wendeng", lines=[("DT-400", 5), ("MTR-1P", 7)])  # fmt: skip
    run_weekly(engine=engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部",
               calendar=CALENDAR, policy=POLICY, settings=world)  # fmt: skip
    with Session(engine) as session:
        hold = session.exec(select(Hold).where(Hold.stock_kind == "consignment")).first()
        assert hold is not None and hold.id is not None
    issue_hold(engine=engine, hold_id=hold.id, quantity=None, now=FRIDAY, user="仓管",
               today=FRIDAY.date())  # fmt: skip

    def totals() -> list[Decimal]:
        with Session(engine) as session:
            run = session.exec(select(PlanRun)).one()
            found = [run.cost, run.lateness_weighted, run.unmet_weighted]
            found += session.exec(select(Filing.overrun)).all()
            found += session.exec(select(ConsignmentSettlement.amount)).all()
        return found

    before = totals()
    assert len(before) == 5 and before[3] == Decimal(35000) and before[0] > 0
    migrate.downgrade(db_url, "0007")
    with engine.connect() as connection:  # back in the narrower columns, unchanged
        raw = connection.execute(text("SELECT overrun FROM filing")).scalar_one()
    assert Decimal(raw) == (35000 * 10**6 if engine.dialect.name == "sqlite" else 35000)
    migrate.upgrade(db_url)
    assert totals() == before
    if engine.dialect.name == "sqlite":  # the copied table kept its CHECK and its indexes
        with engine.connect() as connection:
            schema = connection.execute(
                text("SELECT group_concat(sql, ';') FROM sqlite_master WHERE tbl_name = 'filing'")
            ).scalar_one()
        assert "CHECK (overrun >= 0)" in schema and "WHERE filed_at IS NULL" in schema
        assert schema.count("CREATE INDEX") == 3
    with pytest.raises(IntegrityError), Session(engine) as session:
        filing = session.exec(select(Filing)).one()
        filing.overrun = Decimal(-1)
        session.add(filing)
        session.commit()
