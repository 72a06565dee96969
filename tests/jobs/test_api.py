"""The jobs and notifications over HTTP, with real sign-ins: the jobs with their last runs and
this process's scheduler, the paged history filtered by job, a run by hand audited as the user;
each user's own notifications, read once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.deps import get_clock, get_session
from api.main import create_app
from supply.auth.users import forget_cached
from supply.core.audit import AuditEvent
from supply.core.clock import SHANGHAI, FixedClock
from supply.jobs.schedule import scheduler_alive, start_scheduler, stop_scheduler
from supply.notifications.models import Notification
from tests.jobs.conftest import job
from tests.signin import bearer, make_user

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def app(engine: Engine) -> Iterator[FastAPI]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(NOW)
    for login, role in (("li", "planner"), ("zhou", "viewer"), ("wang", "project_manager")):
        make_user(engine, login, (role,), now=NOW, unit="weihai")
    yield app
    forget_cached()


def test_jobs_their_runs_and_a_run_by_hand(app: FastAPI, engine: Engine) -> None:
    job("calendar", engine, datetime(2026, 11, 30, 8, 45, tzinfo=SHANGHAI))  # by the scheduler
    with TestClient(app) as client:
        listed = client.get("/api/v1/jobs", headers=bearer("zhou", now=NOW))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["scheduler"]["alive"] is True and "off" in body["scheduler"]["reason"]
        jobs = {j["name"]: j for j in body["jobs"]}
        assert list(jobs) == [
            "monday_draft", "holds_expiry", "filings", "agreements", "calendar", "province"
        ]  # fmt: skip
        assert jobs["calendar"]["last_run"]["outcome"] == "ran"
        assert jobs["calendar"]["last_run"]["trigger"] == "schedule"
        assert jobs["filings"]["last_run"] is None
        assert jobs["holds_expiry"]["next_run"] == "2026-12-02T06:00:00+08:00"
        assert jobs["monday_draft"]["next_run"] == "2026-12-07T11:00:00+08:00"  # cutoff days only

        refused = client.post("/api/v1/jobs/calendar/run", headers=bearer("zhou", now=NOW))
        assert refused.status_code == 403 and "jobs.run" in refused.text
        ran = client.post("/api/v1/jobs/calendar/run", headers=bearer("li", now=NOW))
        assert ran.status_code == 200, ran.text
        assert (ran.json()["started_by"], ran.json()["trigger"]) == ("li", "manual")
        assert (
            "2027" in ran.json()["message"] and "gridsupply calendar load" in ran.json()["message"]
        )
        assert (
            client.post("/api/v1/jobs/nothing/run", headers=bearer("li", now=NOW)).status_code
            == 404
        )

        page = client.get("/api/v1/jobs/runs?job=calendar&limit=1", headers=bearer("li", now=NOW))
        assert page.status_code == 200
        assert page.json()["total"] == 2 and [r["started_by"] for r in page.json()["items"]] == [
            "li"
        ]
        none = client.get("/api/v1/jobs/runs?job=filings", headers=bearer("li", now=NOW))
        assert none.json()["total"] == 0
        pm = client.get("/api/v1/jobs", headers=bearer("wang", now=NOW))
        assert pm.status_code == 403
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.actor == "li")).all()
    assert [e.action for e in events] == ["job.start", "job.finish"]


def test_each_user_reads_their_own_notifications(app: FastAPI, engine: Engine) -> None:
    job("calendar", engine, datetime(2026, 11, 30, 8, 45, tzinfo=SHANGHAI))  # planners warned
    with TestClient(app) as client:
        mine = client.get("/api/v1/notifications", headers=bearer("li", now=NOW)).json()
        assert (mine["total"], mine["unread"]) == (1, 1)
        [item] = mine["items"]
        assert item["kind"] == "calendar.missing" and "2027" in item["title"]
        assert (
            client.get("/api/v1/notifications", headers=bearer("zhou", now=NOW)).json()["total"]
            == 0
        )  # a viewer is not told
        theirs = client.post(
            f"/api/v1/notifications/{item['id']}/read", headers=bearer("zhou", now=NOW)
        )
        assert theirs.status_code == 404  # another's: as if it did not exist
        read = client.post(
            f"/api/v1/notifications/{item['id']}/read", headers=bearer("li", now=NOW)
        )
        assert read.status_code == 200 and read.json()["read_at"] is not None
        unread = client.get("/api/v1/notifications?unread=true", headers=bearer("li", now=NOW))
        assert unread.json()["total"] == 0 and unread.json()["unread"] == 0
        assert client.get("/api/v1/notifications").status_code == 401
    with Session(engine) as session:
        [stored] = session.exec(select(Notification)).all()
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "notification.read")
        ).all()
    assert stored.read_at is not None and [e.actor for e in events] == ["li"]


def test_the_scheduler_runs_each_job_on_its_trigger(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_SCHEDULER", "on")
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert scheduler_alive() == (
        False,
        "调度未启动 / the scheduler has not started in this process",
    )
    scheduler = start_scheduler()
    try:
        assert scheduler is not None
        alive, reason = scheduler_alive()
        assert alive and reason.startswith("6 jobs scheduled")
        triggers = {j.id: str(j.trigger) for j in scheduler.get_jobs()}
        assert triggers["holds_expiry"] == "cron[hour='6', minute='0', second='0']"
        assert triggers["monday_draft"] == "cron[hour='11', minute='0', second='0']"
    finally:
        stop_scheduler()
    assert scheduler_alive()[0] is False
    monkeypatch.setenv("GRIDSUPPLY_SCHEDULER", "off")
    assert start_scheduler() is None and scheduler_alive()[0] is True


@pytest.mark.slow
def test_gridsupply_serve_runs_the_scheduler_in_each_process(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    import os

    import httpx

    from tests.served import serving

    if not db_url.startswith("sqlite"):
        pytest.skip("one server on SQLite is enough to see the scheduler start")
    make_user(engine, "li", ("planner",), now=datetime.now(SHANGHAI))
    env = {**os.environ, "GRIDSUPPLY_DATABASE_URL": db_url, "GRIDSUPPLY_SCHEDULER": "on"}
    with serving(env, tmp_path / "serve.log") as (base, _):
        answer = httpx.get(
            f"{base}/api/v1/jobs", headers=bearer("li", now=datetime.now(SHANGHAI)), timeout=10
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scheduler"]["alive"] is True
    assert answer.json()["scheduler"]["reason"].startswith("6 jobs scheduled")
