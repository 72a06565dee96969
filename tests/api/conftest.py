"""An application per test, its session and clock overridden to this test's database and time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session
from api.main import create_app
from supply.core.clock import FixedClock
from tests.signin import act_as


@pytest.fixture
def app(engine: Engine, now: datetime) -> FastAPI:
    """The application, serving this test's database at a fixed time."""
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(now)
    act_as(app)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client that sees server errors as responses, the way a browser would."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
