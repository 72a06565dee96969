"""Fixtures for urgent requests: the small weekly-test world on each database, and a helper."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from supply.core import migrate
from supply.core.clock import SHANGHAI
from supply.core.db import make_engine
from supply.core.settings import Settings
from supply.requests.models import RequestAnswer, SupplyRequestIn
from supply.requests.service import submit_request
from tests.conftest import POSTGRES_ADMIN_URL, copy_database
from tests.served import serving
from tests.weekly.world import CALENDAR, POLICY, load_world, settings_for

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)  # batch 2026-W49, province match 12-02

Ask = Callable[..., RequestAnswer]


def _load_world(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_world(session)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite file holding the small world, made once; each test copies it."""
    path = tmp_path_factory.mktemp("world") / "world.db"
    shutil.copy(sqlite_template, path)
    _load_world(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_world(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL template database holding the small world, made once."""
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"gridsupply_tpl_{uuid4().hex[:10]}_world"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        _load_world(url)
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """This test's own database holding the small world (a copy of a template), both kinds."""
    if request.param == "sqlite":
        yield from copy_database(tmp_path, sqlite=request.getfixturevalue("sqlite_world"))
    else:
        yield from copy_database(tmp_path, postgres=request.getfixturevalue("postgres_world"))


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Settings:
    """Settings for this test's world database (loaded from the template) and run folder."""
    with Session(engine) as session:
        return settings_for(session, str(tmp_path / "runs"))


@pytest.fixture
def server(db_url: str, world: Settings, tmp_path: Path) -> Iterator[str]:
    """A real `gridsupply serve --workers 2` on this test's world, its clock frozen at FRIDAY;
    yields its base URL."""
    env = {
        **os.environ,
        "GRIDSUPPLY_DATABASE_URL": db_url,
        "GRIDSUPPLY_RUNS_DIR": str(tmp_path / "runs"),
        "GRIDSUPPLY_CALENDAR_DIR": str(tmp_path / "calendars"),
        "GRIDSUPPLY_FROZEN_NOW": FRIDAY.isoformat(),
    }
    with serving(env, tmp_path / "server.log", workers=2) as (base, _):
        yield base


def new_project(
    project_id: str,
    lines: list[tuple[str, int]],
    *,
    kind: str = "area_capacity_increase",
    location: str = "wendeng",
    approved: str = "2026-11-27",
    **extra: Any,
) -> dict[str, Any]:
    """A request body that creates a project with these lines."""
    return {
        "project": {
            "id": project_id,
            "name": f"项目 {project_id}",
            "project_type": kind,
            "location": location,
            "approved_on": approved,
            **extra,
        },
        "lines": [{"material_code": m, "quantity": q} for m, q in lines],
    }


@pytest.fixture
def ask(engine: Engine, world: Settings) -> Ask:
    """Submit a request body (a dict) at a moment, as a user, with an optional key."""

    def run(
        body: dict[str, Any],
        *,
        now: datetime = FRIDAY,
        key: str | None = None,
        user: str = "张经理",
    ) -> RequestAnswer:
        return submit_request(
            engine=engine,
            body=SupplyRequestIn.model_validate(body),
            idempotency_key=key,
            now=now,
            user=user,
            calendar=CALENDAR,
            policy=POLICY,
            settings=world,
        )

    return run
