"""Acting as someone in a test: real users with real tokens, or (for tests about something else)
the application told who is signed in, the way tests tell it the clock and the database."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_actor
from supply.auth.actor import Actor
from supply.auth.roles import Role
from supply.auth.tokens import issue_access_token
from supply.auth.users import add_user, forget_cached
from supply.core.settings import get_settings, secret_of

EVERY_ROLE = tuple(r.value for r in Role)
PASSWORD = "correct horse battery staple"


def act_as(
    app: FastAPI,
    login: str = "tester",
    roles: tuple[str, ...] = EVERY_ROLE,
    unit: str | None = None,
) -> Actor:
    """Serve `app` as if `login`, holding `roles`, were signed in."""
    actor = Actor.of(login, roles, unit=unit)
    app.dependency_overrides[get_actor] = lambda: actor
    return actor


def make_user(
    engine: Engine,
    login: str,
    roles: tuple[str, ...],
    *,
    now: datetime,
    unit: str | None = None,
    kind: str = "person",
) -> None:
    """Add a real user (password PASSWORD) to the database."""
    with Session(engine) as session:
        add_user(
            session, login=login, display_name=login, roles=roles, unit=unit,
            password=PASSWORD if kind == "person" else None, kind=kind, by="test", now=now,
        )  # fmt: skip
    forget_cached()


def bearer(login: str, *, now: datetime, minutes: int = 30) -> dict[str, str]:
    """An Authorization header with a real token for `login`, issued at `now`."""
    secret = secret_of(get_settings())
    token = issue_access_token(login, secret=secret, now=now, minutes=minutes)
    return {"Authorization": f"Bearer {token}"}
