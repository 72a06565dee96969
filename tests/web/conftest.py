"""The web pages under test: in-process (an application on this test's SQLite database, at a fixed
moment) and in a real browser (Debian's chromium, driven by Playwright, against `gridsupply
serve` on a fresh demo database at the demo's moment).

Without /usr/bin/chromium the browser tests are skipped, saying why — except where
GRIDSUPPLY_TEST_REQUIRE_BROWSER is set (CI: .ci/run), where they fail: `make test` installs the
browser with apt-get where it can (the Makefile's `browser` target).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session
from api.main import create_app
from supply.auth.roles import Role
from supply.auth.users import forget_cached
from supply.core.clock import SHANGHAI, FixedClock
from supply.core.db import make_engine
from tests.served import BIN, serving
from tests.signin import PASSWORD, make_user

CHROMIUM = Path(os.environ.get("GRIDSUPPLY_TEST_CHROMIUM", "/usr/bin/chromium"))
# What headless chromium needs here (root, no GPU) and nothing it would fetch by itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
# The served demo's moment: the Monday of batch 2026-W49, half an hour before its cutoff.
DEMO_NOW = "2026-11-30T11:30:00+08:00"
DEMO_RUN_AT = "2026-11-30T11:00:00+08:00"  # when `gridsupply demo` plans the batch
NOW = datetime(2026, 11, 30, 11, 30, tzinfo=SHANGHAI)

# ------------------------------------------------------------------ in process


@contextmanager
def engine_with_roles(template: Path, path: Path, *, now: datetime = NOW) -> Iterator[Engine]:
    """A copy of the migrated database `template` at `path`, with one user per role (login =
    the role's name, password PASSWORD, unit weihai); disposed, and the actors forgotten, after."""
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    for role in Role:
        make_user(engine, role.value, (role.value,), now=now, unit="weihai")
    try:
        yield engine
    finally:
        engine.dispose()
        forget_cached()


def app_on(engine: Engine, *, now: datetime = NOW) -> FastAPI:
    """The application on `engine` at `now`; nobody is signed in until a test signs in."""
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(now)
    return app


def browser_like(app: FastAPI) -> TestClient:
    """A client that keeps cookies, does not follow redirects, and sees errors as pages."""
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


@pytest.fixture
def web_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A migrated SQLite database of this test's own, with one user per role."""
    with engine_with_roles(sqlite_template, tmp_path / "web.db") as engine:
        yield engine


@pytest.fixture
def web_app(web_engine: Engine) -> FastAPI:
    """The application on `web_engine` at NOW."""
    return app_on(web_engine)


@pytest.fixture
def web(web_app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client: keeps cookies, does not follow redirects, sees errors as pages."""
    with browser_like(web_app) as client:
        yield client


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = CSRF_FIELD.search(html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form, as a browser does (the form's page first, for its token)."""
    client.cookies.delete("gridsupply_session")  # a signed-in user is sent on from the form
    form = client.get("/login")
    assert form.status_code == 200, form.text
    return client.post(
        "/login",
        data={"username": login, "password": password, "csrf_token": csrf_of(form.text)},
    )


# ------------------------------------------------------------------ in a real browser


def _browser_missing(reason: str) -> None:
    if os.environ.get("GRIDSUPPLY_TEST_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (GRIDSUPPLY_TEST_REQUIRE_BROWSER is set: the browser is required)")
    pytest.skip(f"{reason}; install Debian's chromium and fonts-noto-cjk (`make browser` as root)")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright."""
    if not CHROMIUM.is_file():
        _browser_missing(f"no browser at {CHROMIUM}")
    lister = shutil.which("fc-list")  # fontconfig: chromium's own dependency
    fonts = (
        subprocess.run([lister, ":lang=zh", "family"], capture_output=True, text=True)
        if lister
        else None
    )
    if fonts is not None and not fonts.stdout.strip():  # Chinese would be empty boxes
        _browser_missing("no Chinese font (fonts-noto-cjk) for the browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass(frozen=True)
class Served:
    base: str
    folder: Path
    database: Path


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[Served]:
    """`gridsupply demo` (its users: planner, pm.weihai, …, password `<login>-demo-2026`; batch
    2026-W49 planned, a draft) served by `gridsupply serve` on a free port, at DEMO_NOW."""
    folder = tmp_path_factory.mktemp("served-web")
    database = folder / "gridsupply.db"
    env = {
        **os.environ,
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{database}",
        "GRIDSUPPLY_RUNS_DIR": str(folder / "runs"),
        "GRIDSUPPLY_CALENDAR_DIR": str(folder / "calendars"),
    }
    demo = subprocess.run(  # at the demo's own moment: its run is the same every time
        [str(BIN / "gridsupply"), "demo"], env={**env, "GRIDSUPPLY_FROZEN_NOW": DEMO_RUN_AT},
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    server = {**env, "GRIDSUPPLY_FROZEN_NOW": DEMO_NOW}
    with serving(server, folder / "server.log", cwd=folder) as (base, _):
        yield Served(base=base, folder=folder, database=database)
    assert "Traceback" not in (folder / "server.log").read_text()


# Refusals a test asks for on purpose; a file the page cannot load (404) or a crash (500) fails.
EXPECTED_REFUSALS = re.compile(r"status of (401|403|409|422|429)")


def _note_console(message: Any, problems: list[str]) -> None:
    if message.type == "error" and not EXPECTED_REFUSALS.search(message.text):
        problems.append(f"console: {message.text}")


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page at 1366×768 that fails the test on a
    script error or a resource the page could not load."""
    context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: _note_console(message, problems))
    yield page
    context.close()
    assert not problems, problems
