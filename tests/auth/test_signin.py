"""Signing in over HTTP: a token for the right password, 401 for a wrong one (audited), 429 once
a login or an address has failed too often — even with the right password — until the window
passes; a disabled user cannot sign in; the token works for `/auth/me` and expires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session
from api.main import create_app
from supply.auth.users import change_user, forget_cached
from supply.core.clock import SHANGHAI
from supply.core.errors import Unauthenticated
from tests.audit import events
from tests.signin import PASSWORD, make_user

START = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(engine: Engine, clock: Clock) -> Iterator[FastAPI]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: clock
    make_user(engine, "li.gong", ("planner",), now=START)
    make_user(engine, "wang", ("viewer",), now=START)
    yield app
    forget_cached()


def sign_in(client: TestClient, login: str, password: str) -> object:
    return client.post("/api/v1/auth/token", data={"username": login, "password": password})


def test_a_token_for_the_right_password_works_until_it_expires(app: FastAPI, clock: Clock) -> None:
    with TestClient(app) as client:
        answer = sign_in(client, "li.gong", PASSWORD)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60
        auth = {"Authorization": f"Bearer {body['access_token']}"}
        me = client.get("/api/v1/auth/me", headers=auth).json()
        assert me["login"] == "li.gong" and "plans.approve" in me["permissions"]
        clock.at = START + timedelta(minutes=29)
        assert client.get("/api/v1/auth/me", headers=auth).status_code == 200
        clock.at = START + timedelta(minutes=31)
        expired = client.get("/api/v1/auth/me", headers=auth)
        assert expired.status_code == 401 and expired.headers["www-authenticate"] == "Bearer"


def test_wrong_passwords_are_audited_then_throttled_per_login_until_the_window_passes(
    app: FastAPI, engine: Engine, clock: Clock
) -> None:
    with TestClient(app) as client:
        for _ in range(5):
            wrong = sign_in(client, "li.gong", "not the password")
            assert wrong.status_code == 401
            assert "wrong login or password" in wrong.json()["detail"][0]["msg"]
        failed = events(engine, action="auth.sign_in_failed")
        assert [(e.object_id, e.after) for e in failed] == [
            ("li.gong", {"reason": "wrong login or password"})
        ] * 5
        throttled = sign_in(client, "li.gong", PASSWORD)  # right, but too late
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "900"
        assert sign_in(client, "wang", PASSWORD).status_code == 429  # the same address, too
        clock.at = START + timedelta(minutes=14)
        assert sign_in(client, "li.gong", PASSWORD).status_code == 429
        clock.at = START + timedelta(minutes=16)  # the window has passed
        assert sign_in(client, "li.gong", PASSWORD).status_code == 200


def test_a_disabled_user_cannot_sign_in_and_their_token_stops(app: FastAPI, engine: Engine) -> None:
    with TestClient(app) as client:
        token = sign_in(client, "wang", PASSWORD).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/projects", headers=auth).status_code == 200
        with Session(engine) as session:
            change_user(session, "wang", by="admin", now=START, active=False)
        refused = sign_in(client, "wang", PASSWORD)
        assert refused.status_code == 401 and "disabled" in refused.json()["detail"][0]["msg"]
        assert client.get("/api/v1/projects", headers=auth).status_code == 401


def test_tokens_follow_the_service_s_clock_even_far_from_the_wall_clock() -> None:
    from supply.auth.tokens import issue_access_token, login_of

    secret = "a key of thirty-two characters or more, for tests"
    future = datetime(2031, 6, 1, 9, 0, tzinfo=SHANGHAI)  # a frozen training moment
    token = issue_access_token("li.gong", secret=secret, now=future, minutes=30)
    assert login_of(token, secret=secret, now=future + timedelta(minutes=1)) == "li.gong"
    with pytest.raises(Unauthenticated):  # issued an hour ahead of this clock: not ours
        login_of(token, secret=secret, now=future - timedelta(hours=1))
    with pytest.raises(Unauthenticated):  # expired
        login_of(token, secret=secret, now=future + timedelta(minutes=31))
