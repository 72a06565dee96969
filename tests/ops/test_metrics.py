"""/metrics: only to a scraper holding GRIDSUPPLY_METRICS_TOKEN; request latency by route
template; the solves of weekly runs and urgent requests; and the business figures, each equal to
a count made here from the rows themselves (SQLite and PostgreSQL).

The metrics of this test process accumulate across tests: each test compares before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from supply.commitments import refresh_statuses
from supply.core.clock import SHANGHAI, FixedClock
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.holds.models import Hold, Promise
from supply.jobs.models import JobRun
from supply.packages.models import Filing
from supply.requests.models import SupplyRequestIn
from supply.requests.service import submit_request
from supply.weekly.run import run_weekly
from tests.packages.world import add_hold, build_budget_world
from tests.weekly.world import (
    BEFORE_CUTOFF,
    CALENDAR,
    POLICY,
    add_on_time_and_late,
    load_world,
    settings_for,
)

TOKEN = "metrics-token-for-tests-0123456789abcdef"
TODAY = datetime(2026, 12, 10, 9, 0, tzinfo=SHANGHAI)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def application(engine: Engine, *, token: str | None = TOKEN) -> FastAPI:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(TODAY)
    app.dependency_overrides[get_settings] = lambda: Settings(metrics_token=token)
    return app


def scrape(client: TestClient) -> Samples:
    """Every sample /metrics shows, by name and labels."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, key  # each series once, however many sources
            samples[key] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_served_only_with_the_token(engine: Engine) -> None:
    with TestClient(application(engine, token=None)) as client:
        unset = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert unset.status_code == 404 and unset.json()["detail"][0]["type"] == "not_found"
    with TestClient(application(engine)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Basic {TOKEN}"}):  # fmt: skip
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "gridsupply_" not in refused.text
        assert (
            "gridsupply_holds_open"
            in client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        )


def test_a_short_metrics_token_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValueError, match="shorter than 32 characters"):
        Settings(metrics_token="short")


def test_request_latency_is_a_histogram_by_route_template(engine: Engine) -> None:
    route = {"method": "GET", "route": "/api/v1/holds/{hold_id}", "status": "401"}
    count = "gridsupply_http_request_duration_seconds_count"
    with TestClient(application(engine)) as client:
        before = scrape(client)
        for hold in (7, 8, 9):
            assert client.get(f"/api/v1/holds/{hold}").status_code == 401
        client.head("/healthz")
        client.get("/no/such/page")
        after = scrape(client)
    assert value(after, count, **route) - value(before, count, **route) == 3
    assert value(after, "gridsupply_http_request_duration_seconds_bucket", le="+Inf", **route) == (
        value(after, count, **route)
    )
    head = {"method": "HEAD", "route": "/healthz", "status": "200"}
    assert value(after, count, **head) - value(before, count, **head) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, count, **unmatched) - value(before, count, **unmatched) == 1
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert not any(r.startswith("/api/v1/holds/") and r[-1].isdigit() for r in routes), routes
    assert "/no/such/page" not in routes


def add_filing(session: Session, project: str, due: date, *, filed: bool = False) -> None:
    at = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    session.add(
        Filing(package_id="PK-A", project_id=project, overrun=Decimal("100.00"),
               review_on=due, due_on=due, created_at=at, created_by="tester", updated_at=at,
               filed_at=at if filed else None, filed_by="tester" if filed else None,
               reference="ref" if filed else None)
    )  # fmt: skip


def add_job(session: Session, name: str, status: str) -> None:
    session.add(JobRun(name=name, status=status, started_by="system",
                       started_at=datetime(2026, 12, 1, 11, 0, tzinfo=SHANGHAI)))  # fmt: skip


def test_the_business_figures_are_the_database_s(session: Session, engine: Engine) -> None:
    build_budget_world(session)
    # Two more held transformers: P1's second (its first is held already) and P4's one.
    lines = [
        line.id
        for line in session.exec(select(DemandLine).where(DemandLine.material_code == "DT-400"))
        if line.project_id in ("P1", "P4") and line.id is not None
    ]
    assert len(lines) == 2
    for line_id in lines:
        add_hold(session, line_id, kind="reserve", warehouse="WH-WD", material="DT-400",
                 quantity=1)  # fmt: skip
    session.flush()
    refresh_statuses(session, lines)  # covered, as the services keep it
    add_filing(session, "P1", date(2026, 12, 8))  # overdue
    add_filing(session, "P2", date(2026, 12, 9))  # overdue
    add_filing(session, "P3", date(2026, 12, 10))  # due today: not overdue
    add_filing(session, "P4", date(2026, 12, 2), filed=True)  # filed late: not overdue
    for name, status, times in [("weekly_draft", "succeeded", 3), ("weekly_draft", "failed", 1),
                                ("weekly_draft", "running", 1), ("holds_expiry", "succeeded", 2)]:  # fmt: skip
        for _ in range(times):
            add_job(session, name, status)
    session.commit()

    # Counted here, row by row, without the service's queries.
    holds = session.exec(select(Hold)).all()
    promises = session.exec(select(Promise)).all()
    filings = session.exec(select(Filing)).all()
    jobs = session.exec(select(JobRun)).all()
    expected_holds = sum(1 for h in holds if h.status == "held")
    expected_promises = sum(1 for p in promises if p.status == "promised")
    expected_overdue = sum(1 for f in filings if f.filed_at is None and f.due_on < TODAY.date())
    assert (expected_holds, expected_promises, expected_overdue) == (3, 1, 2)
    assert len(holds) > expected_holds and len(promises) > expected_promises

    with TestClient(application(engine)) as client:
        samples = scrape(client)
    assert value(samples, "gridsupply_database_up") == 1
    assert value(samples, "gridsupply_holds_open") == expected_holds
    assert value(samples, "gridsupply_promises_open") == expected_promises
    assert value(samples, "gridsupply_filings_overdue") == expected_overdue
    runs = {
        (dict(labels)["job"], dict(labels)["outcome"]): v
        for (name, labels), v in samples.items()
        if name == "gridsupply_job_runs_total"
    }
    finished: dict[tuple[str, str], float] = {}
    for job in jobs:
        if job.status != "running":
            finished[(job.name, job.status)] = finished.get((job.name, job.status), 0) + 1
    assert (
        runs
        == finished
        == {
            ("weekly_draft", "succeeded"): 3,
            ("weekly_draft", "failed"): 1,
            ("holds_expiry", "succeeded"): 2,
        }
    )
    assert value(samples, "gridsupply_jobs_running", job="weekly_draft") == 1


def test_a_database_that_does_not_answer_is_said_and_the_scrape_still_answers(
    tmp_path: Path,
) -> None:
    from supply.core.db import make_engine

    gone = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    try:
        with TestClient(application(gone)) as client:
            samples = scrape(client)
    finally:
        gone.dispose()
    assert value(samples, "gridsupply_database_up") == 0
    assert ("gridsupply_holds_open", frozenset()) not in samples


def solves(kind: str) -> tuple[float, float]:
    """How many solves of `kind` this process recorded, and their demand lines in all."""
    count = REGISTRY.get_sample_value("gridsupply_solve_duration_seconds_count", {"kind": kind})
    lines = REGISTRY.get_sample_value("gridsupply_solve_demand_lines_sum", {"kind": kind})
    return count or 0.0, lines or 0.0


def test_weekly_runs_and_urgent_requests_record_their_solves(
    session: Session, tmp_path: Path
) -> None:
    create_app()  # a server listens to the solves once its application is built
    load_world(session)
    add_on_time_and_late(session)
    settings = settings_for(session, str(tmp_path / "runs"))
    before = {kind: solves(kind) for kind in ("weekly", "replenishment", "urgent")}
    outcome = run_weekly(
        engine=session.get_bind(),  # type: ignore[arg-type]
        at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="李工", calendar=CALENDAR, policy=POLICY,
        settings=settings,
    )  # fmt: skip
    weekly, replenishment = solves("weekly"), solves("replenishment")
    assert weekly[0] - before["weekly"][0] == 1
    assert weekly[1] - before["weekly"][1] == outcome.run.demand_lines == 2
    assert replenishment[0] - before["replenishment"][0] == 1
    assert replenishment[1] - before["replenishment"][1] == outcome.run.replenishment_lines

    body = {
        "project": {"id": "P-URG", "name": "项目 P-URG", "project_type": "area_capacity_increase",
                    "location": "wendeng", "approved_on": "2026-11-27"},
        "lines": [{"material_code": "MTR-1P", "quantity": 2},
                  {"material_code": "DT-400", "quantity": 1}],
    }  # fmt: skip
    submit_request(
        engine=session.get_bind(),  # type: ignore[arg-type]
        body=SupplyRequestIn.model_validate(body), idempotency_key=None, now=BEFORE_CUTOFF,
        user="张经理", calendar=CALENDAR, policy=POLICY, settings=settings,
    )  # fmt: skip
    urgent = solves("urgent")
    assert urgent[0] - before["urgent"][0] == 1
    # The request's two lines, and the open demand competing for the same materials.
    assert urgent[1] - before["urgent"][1] >= 2
