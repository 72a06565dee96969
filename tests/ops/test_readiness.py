"""/healthz and /readyz: the process is up; the service is ready, or 503 naming each reason.

Through the application with this test's database and clock (SQLite and PostgreSQL; a database
made read-only as /api/v1/health's tests make it), and through a real `gridsupply serve` on a
database left at an older revision, with GRIDSUPPLY_FROZEN_NOW near a year end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from api.readiness import (
    Probe,
    Verdict,
    register_check,
    registered,
    scheduler_not_configured,
    unregister_check,
)
from supply.core import migrate
from supply.core.clock import SHANGHAI, FixedClock
from supply.core.db import make_engine
from supply.core.settings import Settings
from tests.db.test_environment import postgres_read_only, read_only
from tests.served import serving

JUNE = datetime(2026, 6, 15, 9, 30, tzinfo=SHANGHAI)  # 60 days on: August, 2026 is bundled
DECEMBER = datetime(2026, 12, 15, 9, 30, tzinfo=SHANGHAI)  # 60 days on: February 2027
SYNTHETIC_2027 = """\
# synthetic 2027 for tests — not the State Council's arrangement
date,type,name
2027-01-01,holiday,元旦
2027-01-09,workday,synthetic make-up Saturday
"""
CHECKS = ["database", "migrations", "calendar", "scheduler"]


def application(engine: Engine, *, at: datetime, calendars: Path, **settings: object) -> FastAPI:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(at)
    configured = Settings(calendar_dir=str(calendars), **settings)  # type: ignore[arg-type]
    app.dependency_overrides[get_settings] = lambda: configured
    return app


def ready(engine: Engine, *, at: datetime, calendars: Path, **settings: object) -> Any:
    with TestClient(application(engine, at=at, calendars=calendars, **settings)) as client:
        return client.get("/readyz")


def reasons(answer: httpx.Response | Any) -> dict[str, str]:
    """The checks a 503 names, and what each says."""
    assert answer.status_code == 503, answer.text
    found = {}
    for item in answer.json()["detail"]:
        assert item["type"] == "not_ready" and item["loc"][0] == "readiness", item
        found[item["loc"][1]] = item["msg"]
    return found


def test_healthz_answers_without_touching_the_database() -> None:
    app = create_app()

    def no_database() -> Iterator[Session]:
        raise AssertionError("/healthz asked for the database")
        yield  # pragma: no cover

    app.dependency_overrides[get_session] = no_database
    with TestClient(app) as client:
        answer = client.get("/healthz")
        head = client.head("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert head.status_code == 200 and head.content == b""


def test_ready_on_a_fresh_migrated_database_whose_calendar_covers_60_days(
    engine: Engine, tmp_path: Path
) -> None:
    answer = ready(engine, at=JUNE, calendars=tmp_path / "calendars")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert [c["name"] for c in body["checks"]] == CHECKS
    assert all(c["ready"] for c in body["checks"])
    by_name = {c["name"]: c["detail"] for c in body["checks"]}
    assert by_name["database"].startswith(engine.dialect.name)
    assert migrate.head_revision() in by_name["migrations"]
    assert "2026-06-15 to 2026-08-14" in by_name["calendar"]
    assert "not configured" in by_name["scheduler"]


def test_a_year_within_60_days_that_the_calendar_lacks_is_the_one_reason(
    engine: Engine, tmp_path: Path
) -> None:
    found = reasons(ready(engine, at=DECEMBER, calendars=tmp_path / "calendars"))
    assert list(found) == ["calendar"]
    assert "lacks 2027" in found["calendar"] and "2026-12-15" in found["calendar"]
    assert "gridsupply calendar load FILE" in found["calendar"]
    # Once the operator loads 2027, it is ready; the day before it came within 60 days, too.
    (tmp_path / "calendars").mkdir()
    (tmp_path / "calendars" / "2027.csv").write_text(SYNTHETIC_2027, encoding="utf-8")
    assert ready(engine, at=DECEMBER, calendars=tmp_path / "calendars").status_code == 200
    (tmp_path / "calendars" / "2027.csv").unlink()
    day_before = datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI)  # + 60 days = 2026-12-31
    assert Settings().calendar_horizon_days == 60  # as far as the calendar job looks
    assert ready(engine, at=day_before, calendars=tmp_path / "calendars").status_code == 200
    day_of = datetime(2026, 11, 2, 12, 0, tzinfo=SHANGHAI)  # + 60 days = 2027-01-01
    assert list(reasons(ready(engine, at=day_of, calendars=tmp_path / "calendars"))) == ["calendar"]
    # GRIDSUPPLY_CALENDAR_HORIZON_DAYS moves it: 10 days from 2026-12-15 stay in 2026.
    shorter = ready(engine, at=DECEMBER, calendars=tmp_path / "calendars", calendar_horizon_days=10)
    assert shorter.status_code == 200, shorter.text


def test_a_read_only_database_is_the_one_reason(db_url: str, tmp_path: Path) -> None:
    # As /api/v1/health sees it (tests/db/test_environment.py): a SQLite file made immutable, a
    # PostgreSQL database whose new sessions are read-only; connections made afterwards see it.
    engine = make_engine(db_url)
    try:
        if engine.dialect.name == "sqlite":
            context = read_only(Path(make_url(db_url).database or ""))
        else:
            context = postgres_read_only(db_url)
        with context:
            engine.dispose()
            found = reasons(ready(engine, at=JUNE, calendars=tmp_path / "calendars"))
            assert list(found) == ["database"]
            assert "read-only" in found["database"]
            assert "GRIDSUPPLY_DATABASE_URL" in found["database"]
            with TestClient(application(engine, at=JUNE, calendars=tmp_path)) as client:
                assert client.get("/healthz").status_code == 200  # alive all the same
        engine.dispose()
        assert ready(engine, at=JUNE, calendars=tmp_path / "calendars").status_code == 200
    finally:
        engine.dispose()


def test_a_database_newer_than_the_code_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ahead.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
        found = reasons(ready(engine, at=JUNE, calendars=tmp_path / "calendars"))
        assert list(found) == ["migrations"]
        assert "0099_future" in found["migrations"] and "does not know" in found["migrations"]
    finally:
        engine.dispose()


def test_a_registered_check_is_run_and_a_check_that_raises_is_a_reason(
    engine: Engine, tmp_path: Path
) -> None:
    def stalled(probe: Probe) -> Verdict:
        return Verdict(False, "调度器停止 / the scheduler stopped at 06:00")

    def broken(probe: Probe) -> Verdict:
        raise RuntimeError("boom")

    app = application(engine, at=JUNE, calendars=tmp_path / "calendars")
    register_check("scheduler", stalled)  # replaces the placeholder, as a scheduler's would
    register_check("backups", broken)
    try:
        assert list(registered()) == [*CHECKS, "backups"]
        with TestClient(app) as client:
            found = reasons(client.get("/readyz"))
        assert found == {
            "scheduler": "调度器停止 / the scheduler stopped at 06:00",
            "backups": "检查出错 / the check failed: RuntimeError",
        }
    finally:
        unregister_check("backups")
        register_check("scheduler", scheduler_not_configured)
    assert ready(engine, at=JUNE, calendars=tmp_path / "calendars").status_code == 200


def test_a_server_running_the_scheduler_asks_it(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = application(engine, at=JUNE, calendars=tmp_path / "calendars")
    try:
        served = create_app(scheduler=True)  # as `gridsupply serve` builds it
        for dependency, override in app.dependency_overrides.items():
            served.dependency_overrides[dependency] = override
        # On (the test suite turns it off) but not started (no lifespan here): not ready.
        monkeypatch.setenv("GRIDSUPPLY_SCHEDULER", "on")
        found = reasons(TestClient(served).get("/readyz"))
        assert list(found) == ["scheduler"] and "has not started" in found["scheduler"]
        monkeypatch.setenv("GRIDSUPPLY_SCHEDULER", "off")
        answer = TestClient(served).get("/readyz")
        assert answer.status_code == 200, answer.text
        [scheduler] = [c for c in answer.json()["checks"] if c["name"] == "scheduler"]
        assert "GRIDSUPPLY_SCHEDULER=off" in scheduler["detail"]
    finally:
        create_app()  # the placeholder again, for the tests after this one


# ---------------------------------------------------------------- a real server


@pytest.fixture
def server_env(tmp_path: Path, sqlite_template: Path) -> dict[str, str]:
    """A migrated SQLite file of this test's own, and where the server keeps its files."""
    database = tmp_path / "gridsupply.db"
    database.write_bytes(sqlite_template.read_bytes())
    return {
        **os.environ,
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{database}",
        "GRIDSUPPLY_CALENDAR_DIR": str(tmp_path / "calendars"),
        "GRIDSUPPLY_RUNS_DIR": str(tmp_path / "runs"),
        "GRIDSUPPLY_FROZEN_NOW": "2026-06-15T09:30:00+08:00",
    }


@pytest.mark.slow
def test_served_an_older_revision_and_a_missing_year_are_both_named(
    tmp_path: Path, server_env: dict[str, str]
) -> None:
    database = tmp_path / "old.db"
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_revision(migrate.head_revision())
    assert head is not None and isinstance(head.down_revision, str)
    older = head.down_revision
    migrate.upgrade(f"sqlite:///{database}", older)
    env = {
        **server_env,
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{database}",
        "GRIDSUPPLY_FROZEN_NOW": "2026-12-20T10:00:00+08:00",  # 60 days on: 2027
    }
    with serving(env, tmp_path / "server.log") as (base, _):
        found = reasons(httpx.get(f"{base}/readyz"))
        assert list(found) == ["migrations", "calendar"]
        assert f"revision {older}, not the newest {head.revision}" in found["migrations"]
        assert "gridsupply db upgrade" in found["migrations"]
        assert "lacks 2027" in found["calendar"]
        assert httpx.get(f"{base}/healthz").status_code == 200
