"""Every route of the OpenAPI document × every role, with real tokens: allowed exactly as the
permission table says (supply/auth/roles.py), 401 without a valid sign-in (none, expired, forged,
a disabled user's), 403 naming the permission otherwise. A route that declares no permission
fails here unless it is one of the few public ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session
from api.main import create_app
from api.routes import PREFIX, ROUTERS, probes
from supply.auth.roles import ROLE_PERMISSIONS, Role
from supply.auth.users import change_user, forget_cached
from supply.core.clock import SHANGHAI, FixedClock
from tests.signin import bearer, make_user

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
# Routes anyone may call: health probes (the API's, and /healthz, /readyz at the root, which say
# whether the service works, never what it holds) and signing in; /auth/me and one's own
# notifications need a sign-in, no permission. /metrics is not in the document: its own token
# guards it (tests/ops).
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
}
SIGNED_IN_ONLY = {
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/notifications"),  # each user's own
    ("POST", "/api/v1/notifications/{notification_id}/read"),
}


def permissions_of(route: APIRoute) -> set[str]:
    """The permissions a route's dependencies declare (`require(...)` marks its check)."""
    found: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        permission = getattr(dependant.call, "permission", None)
        if permission:
            found.add(permission)
        stack.extend(dependant.dependencies)
    return found


def operations(app: FastAPI) -> list[tuple[str, str, set[str]]]:
    """Every operation the app serves under /api/v1 and the probes at the root, with the
    permissions its route declares; each is in the OpenAPI document."""
    spec_paths = app.openapi()["paths"]
    found = []
    for router, prefix in [*((r, PREFIX) for r in ROUTERS), (probes.router, "")]:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = prefix + route.path
            assert path in spec_paths, path
            for method in sorted(route.methods):
                found.append((method, path, permissions_of(route)))
    assert len(found) == sum(len(ops) for ops in spec_paths.values())
    return found


def concrete(path: str) -> str:
    """A path with each {parameter} filled in (valid or not: the sign-in is checked first)."""
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def app(engine: Engine) -> Iterator[FastAPI]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(NOW)
    for role in Role:
        make_user(engine, role.value, (role.value,), now=NOW, unit="weihai")
    yield app
    forget_cached()


def send(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
    return client.request(method, concrete(path), headers=headers, **body)


def test_every_route_declares_one_permission_or_is_public(app: FastAPI) -> None:
    undeclared = [
        (m, p) for m, p, perms in operations(app)
        if not perms and (m, p) not in PUBLIC | SIGNED_IN_ONLY
    ]  # fmt: skip
    assert undeclared == []
    assert all(len(perms) <= 1 for _, _, perms in operations(app))
    assert len(operations(app)) > 50


def test_every_route_by_every_role_is_allowed_exactly_as_the_table_says(app: FastAPI) -> None:
    tokens = {role: bearer(role.value, now=NOW) for role in Role}
    checked = 0
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path, perms in operations(app):
            if (method, path) in PUBLIC:
                continue
            for role, headers in tokens.items():
                answer = send(client, method, path, headers)
                allowed = not perms or bool(perms & set(ROLE_PERMISSIONS[role]))
                if allowed:
                    assert answer.status_code not in (401, 403), (method, path, role, answer.text)
                else:
                    assert answer.status_code == 403, (method, path, role, answer.text)
                    [detail] = answer.json()["detail"]
                    assert detail["type"] == "forbidden" and next(iter(perms)) in detail["msg"]
                checked += 1
    assert checked > 50 * len(Role)


def test_no_expired_forged_or_disabled_sign_in_passes_anywhere(
    app: FastAPI, engine: Engine
) -> None:
    secret = "another key of at least thirty-two characters!!"
    forged = jwt.encode(
        {"sub": "admin", "iss": "gridsupply", "iat": int(NOW.timestamp()),
         "exp": int((NOW + timedelta(minutes=30)).timestamp())},
        secret, algorithm="HS256",
    )  # fmt: skip
    expired = bearer("planner", now=NOW - timedelta(minutes=31))
    with Session(engine) as session:
        change_user(session, "viewer", by="test", now=NOW, active=False)
    forget_cached()
    cases = {
        "none": {},
        "expired": expired,
        "forged": {"Authorization": f"Bearer {forged}"},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "disabled": bearer("viewer", now=NOW),
        "unknown api token": {"Authorization": "Bearer gs_nothing-of-ours"},
    }
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path, _ in operations(app):
            if (method, path) in PUBLIC:
                continue
            for name, headers in cases.items():
                answer = send(client, method, path, headers)
                assert answer.status_code == 401, (method, path, name, answer.text)
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.json()["detail"][0]["type"] == "unauthenticated"


def test_every_route_needing_a_sign_in_documents_401_and_403(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for method, path, perms in operations(app):
        responses = paths[path][method.lower()]["responses"]
        if perms:
            assert {"401", "403"} <= responses.keys(), (method, path)
