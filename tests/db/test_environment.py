"""Unusable settings and databases: every command says what is wrong in one line and exits 2.

A database URL of a kind we do not run on, a frozen moment that is not a moment, a read-only
database (a SQLite file, a PostgreSQL server in read-only mode) and PostgreSQL without its
driver are refused before a command reads or writes anything, `gridsupply serve` refuses to
start, and over HTTP a read-only database is not healthy (503, saying so). The command line runs
for real, in a subprocess where a traceback would show.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app
from api.deps import get_session, get_settings
from api.main import create_app
from supply.calendar import default_calendar
from supply.core.db import check_database, make_engine
from supply.core.settings import Settings, SettingsInvalid, check_database_url, read_settings
from supply.policy import DeadlinePolicy
from supply.weekly.models import PlanRun
from supply.weekly.run import run_weekly
from tests.conftest import POSTGRES_ADMIN_URL
from tests.signin import act_as
from tests.weekly.world import BEFORE_CUTOFF

GRIDSUPPLY = str(Path(sys.executable).parent / "gridsupply")
# Commands that open the database, and ones that only read settings.
DATABASE_COMMANDS = [
    ["db", "upgrade"],
    ["db", "current"],
    ["db", "backup", "/nonexistent/backup.db"],
    ["db", "restore", "/nonexistent/backup.db"],
    ["catalogs", "summary"],
    ["catalogs", "imports"],
    ["projects", "list"],
    ["packages", "list"],
    ["filings"],
    ["plan", "run", "--at", "2026-11-30T11:00:00+08:00"],
    ["plan", "show", "2026-W49"],
    ["holds", "list"],
    ["holds", "expire"],
    ["demo"],
]
SETTINGS_COMMANDS = [["cutoff"], ["deadline", "--type", "area_new", "--approved", "2026-09-28"]]


def _cli(
    args: list[str], env: dict[str, str], *, wrapper: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", wrapper, *args] if wrapper else [GRIDSUPPLY, *args]
    return subprocess.run(
        command,
        env={**os.environ, "COLUMNS": "300", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_clear_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for words in expected:
        assert words in lines[0], lines[0]


# ---------------------------------------------------------------- database URLs


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://postgres@127.0.0.1:5432/gridsupply", "write a PostgreSQL URL as postgresql+psycopg://"),
        ("postgresql+psycopg2://postgres@127.0.0.1/gridsupply", "not postgresql+psycopg2://"),
        ("mysql://root@127.0.0.1/gridsupply", "runs on SQLite (sqlite:///gridsupply.db) or PostgreSQL"),
        ("mysql+pymysql://root@127.0.0.1/gridsupply", "not mysql+pymysql"),
        ("garbage", "not a database URL"),
        ("", "not a database URL"),
    ],
)  # fmt: skip
def test_a_database_url_we_do_not_run_on_stops_every_command(
    url: str, says: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"GRIDSUPPLY_DATABASE_URL": url, "GRIDSUPPLY_CALENDAR_DIR": str(tmp_path)}
    for args in DATABASE_COMMANDS + SETTINGS_COMMANDS:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert f"GRIDSUPPLY_DATABASE_URL={url!r}" in result.output and says in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not list(tmp_path.iterdir())  # nothing was written anywhere
    _one_clear_line(_cli(["serve", "--port", "1"], env), "GRIDSUPPLY_DATABASE_URL", says)


def test_postgresql_urls_are_read_as_psycopg_and_sqlite_ones_as_given() -> None:
    assert check_database_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert check_database_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert check_database_url(" sqlite:///gridsupply.db ") == "sqlite:///gridsupply.db"


# ---------------------------------------------------------------- other settings


@pytest.mark.parametrize("value", ["yesterday", "2026-11-30T11:00", "2026-13-01T00:00+08:00"])
def test_a_frozen_moment_that_is_not_a_moment_stops_every_command(
    value: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {
        "GRIDSUPPLY_FROZEN_NOW": value,
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
    }
    for args in DATABASE_COMMANDS + SETTINGS_COMMANDS:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert f"GRIDSUPPLY_FROZEN_NOW={value!r}" in result.output
        assert "2026-11-30T11:00:00+08:00" in result.output  # what to write instead
    assert not (tmp_path / "g.db").exists()
    _one_clear_line(_cli(["serve"], env), "GRIDSUPPLY_FROZEN_NOW", "not a moment")


def test_settings_read_in_the_api_name_the_variable_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDSUPPLY_INSTALL_WORKING_DAYS", "{area_new: 6")
    with pytest.raises(SettingsInvalid, match=r"GRIDSUPPLY_INSTALL_WORKING_DAYS=.*not valid JSON"):
        read_settings()


# ---------------------------------------------------------------- read-only databases


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file read-only to this process: its permissions, or for root (whom permissions
    do not stop) the immutable flag; skip where neither is possible."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    flagged = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if flagged.returncode != 0:
        pytest.skip(f"cannot set the immutable flag here: {flagged.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def migrated_file(tmp_path: Path, sqlite_template: Path) -> Path:
    """A migrated, empty SQLite database file of this test's own."""
    path = tmp_path / "gridsupply.db"
    shutil.copy(sqlite_template, path)
    return path


def test_a_read_only_sqlite_file_stops_every_command_and_serve(migrated_file: Path) -> None:
    env = {"GRIDSUPPLY_DATABASE_URL": f"sqlite:///{migrated_file}"}
    before = migrated_file.read_bytes()
    runner = CliRunner()
    with read_only(migrated_file):
        for args in DATABASE_COMMANDS:
            result = runner.invoke(app, args, env=env)
            assert result.exit_code == 2, (args, result.output)
            assert f"the database file {migrated_file} (or its folder) is read-only" in (
                result.output
            )
            assert "chmod u+w" in result.output
        # Commands that need no database still run.
        assert (
            runner.invoke(app, ["cutoff", "--at", "2026-11-30T11:00:00+08:00"], env=env).exit_code
            == 0
        )
        _one_clear_line(_cli(["serve"], env), "is read-only", "GRIDSUPPLY_DATABASE_URL")
        _one_clear_line(_cli(["projects", "list"], env), "is read-only")
    assert migrated_file.read_bytes() == before


def test_a_database_in_a_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'g.db'}"
    _one_clear_line(_cli(["db", "upgrade"], {"GRIDSUPPLY_DATABASE_URL": url}),
                    f"the folder {tmp_path / 'nowhere'} of the database does not exist")  # fmt: skip


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database, just notes\n" * 100)
    result = _cli(
        ["projects", "list"], {"GRIDSUPPLY_DATABASE_URL": f"sqlite:///{tmp_path / 'notes.db'}"}
    )
    _one_clear_line(result, "is not a SQLite database")


@contextmanager
def postgres_read_only(url: str) -> Iterator[None]:
    """Make every new session of the PostgreSQL database at `url` read-only, then undo it."""
    name = make_url(url).database
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


def test_health_is_ok_on_a_writable_database(engine: Engine) -> None:
    client = _client(engine)
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": engine.dialect.name}


def test_a_read_only_database_is_not_healthy(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        if engine.dialect.name == "sqlite":
            context = read_only(Path(make_url(db_url).database or ""))
        else:
            context = postgres_read_only(db_url)
        with context:
            engine.dispose()  # new connections see the database as it now is
            answer = _client(engine).get("/api/v1/health")
            assert answer.status_code == 503, answer.text
            [detail] = answer.json()["detail"]
            assert detail["type"] == "database_read_only" and detail["loc"] == ["database"]
            assert "read-only" in detail["msg"] and "GRIDSUPPLY_DATABASE_URL" in detail["msg"]
            if engine.dialect.name == "postgresql":  # the command line says the same
                result = _cli(["projects", "list"], {"GRIDSUPPLY_DATABASE_URL": db_url})
                _one_clear_line(result, "the database is read-only", "primary")
        engine.dispose()
        assert _client(engine).get("/api/v1/health").status_code == 200
    finally:
        engine.dispose()


def _client(engine: Engine) -> TestClient:
    application = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    application.dependency_overrides[get_session] = session
    return TestClient(application, raise_server_exceptions=False)


# ---------------------------------------------------------------- PostgreSQL without its driver

# Runs the real command line with `import psycopg` failing as it does where the extra is not
# installed (a finder ahead of the others refuses it); nothing of ours is replaced.
WITHOUT_PSYCOPG = """
import sys

class NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoPsycopg())
sys.argv[0] = "gridsupply"
from api.cli import main
main()
"""


@pytest.mark.parametrize("args", [["projects", "list"], ["db", "upgrade"], ["serve"], ["demo"]])
def test_postgresql_without_its_driver_says_what_to_install(args: list[str]) -> None:
    env = {"GRIDSUPPLY_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/gridsupply"}
    result = _cli(args, env, wrapper=WITHOUT_PSYCOPG)
    _one_clear_line(
        result,
        "PostgreSQL needs the psycopg driver",
        "pip install 'gridsupply[postgres]'",
        ".venv/bin/pip install -e '.[postgres]'",
    )


def test_the_driver_check_passes_where_psycopg_is_installed() -> None:
    check_database("postgresql+psycopg://postgres@127.0.0.1:1/unreachable")  # reported later


# ---------------------------------------------------------------- settings read per use


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"area_new": -5}', "area_new: Input should be greater than or equal to 0"),
        ('{"nope": 3}', "nope: Input should be 'lv_extension'"),
        ('{"area_new": 6.5}', "area_new: Input should be a valid integer"),
        ('{"area_new": 9999}', "area_new: Input should be less than or equal to 250"),
    ],
)
def test_install_working_days_that_cannot_be_used_stop_commands_and_routes(
    value: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "GRIDSUPPLY_INSTALL_WORKING_DAYS": value,
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
    }
    for args in [*SETTINGS_COMMANDS, ["projects", "list"]]:
        result = _cli(args, env)
        _one_clear_line(result, f"GRIDSUPPLY_INSTALL_WORKING_DAYS={value!r}", says,
                        "keys are project types (lv_extension, ")  # fmt: skip
    # Over HTTP every route that reads the settings answers 503 naming the variable (it was a
    # 500 on every route using the deadline policy), never its value.
    for name, setting in env.items():
        monkeypatch.setenv(name, setting)
    client = TestClient(create_app(), raise_server_exceptions=False)
    body = {"id": "P-1", "name": "甲", "project_type": "area_new", "location": "huancui",
            "approved_on": "2026-11-16"}  # fmt: skip
    for method, path, json in (("post", "/api/v1/projects", body), ("get", "/api/v1/health", None)):
        answer = client.request(method, path, json=json)
        assert answer.status_code == 503, answer.text
        [detail] = answer.json()["detail"]
        assert detail["type"] == "misconfigured"
        assert detail["loc"] == ["settings", "GRIDSUPPLY_INSTALL_WORKING_DAYS"]
        assert "GRIDSUPPLY_INSTALL_WORKING_DAYS" in detail["msg"] and value not in detail["msg"]
    assert not (tmp_path / "g.db").exists()  # nothing was read or written


def test_a_database_url_with_a_password_is_never_echoed_over_http(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "mysql://root:hunter2@db.internal/gridsupply"
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", url)
    answer = TestClient(create_app(), raise_server_exceptions=False).get("/api/v1/health")
    assert answer.status_code == 503 and "hunter2" not in answer.text
    assert "GRIDSUPPLY_DATABASE_URL" in answer.json()["detail"][0]["msg"]


# ---------------------------------------------------------------- the folder runs are written to


@pytest.fixture
def under_a_file(tmp_path: Path) -> Path:
    """A runs folder that cannot be made, for root too: its parent is a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file, where the runs folder's parent should be\n")
    return blocker / "runs"


def test_an_unwritable_runs_folder_stops_the_commands_that_write_runs(
    under_a_file: Path, migrated_file: Path
) -> None:
    env = {
        "GRIDSUPPLY_RUNS_DIR": str(under_a_file),
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{migrated_file}",
    }
    for args in (["plan", "run", "--at", "2026-11-30T11:00:00+08:00"], ["demo"], ["serve"]):
        _one_clear_line(_cli(args, env), f"GRIDSUPPLY_RUNS_DIR={str(under_a_file)!r}",
                        "run folders cannot be written there", "is a file, not a folder")  # fmt: skip
    assert _cli(["projects", "list"], env).returncode == 0  # commands that write no run run


def test_an_unwritable_runs_folder_is_a_503_not_a_500(
    under_a_file: Path, week_engine: Engine, tmp_path: Path
) -> None:
    application = create_app()

    def session() -> Iterator[Session]:
        with Session(week_engine) as s:
            yield s

    url = week_engine.url.render_as_string(hide_password=False)
    application.dependency_overrides[get_session] = session
    application.dependency_overrides[get_settings] = lambda: Settings(
        database_url=url, runs_dir=str(under_a_file)
    )
    act_as(application)
    client = TestClient(application, raise_server_exceptions=False)
    answer = client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    assert answer.status_code == 503, answer.text
    [detail] = answer.json()["detail"]
    assert detail["type"] == "misconfigured"
    assert detail["loc"] == ["settings", "GRIDSUPPLY_RUNS_DIR"]
    assert str(under_a_file) not in detail["msg"]
    with Session(week_engine) as s:
        assert s.exec(select(PlanRun)).all() == []  # nothing read, solved or saved


def test_a_run_whose_exports_fail_leaves_no_folder_behind(
    week_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk fills while the exports are written (every .xlsx is a zip archive): the run
    # is not saved, and its half-written folder — plan, instance, KPIs — goes with it.
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    runs = tmp_path / "runs"
    url = week_engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(zipfile.ZipFile, "__init__", disk_full)
    with pytest.raises(Exception, match="No space left on device"):
        run_weekly(engine=week_engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部",
                   calendar=default_calendar(), policy=DeadlinePolicy(),
                   settings=Settings(database_url=url, runs_dir=str(runs)))  # fmt: skip
    monkeypatch.undo()
    assert runs.is_dir() and [p for p in runs.rglob("*") if p.is_file()] == []
    assert list((runs / "2026-W49").iterdir()) == []
    with Session(week_engine) as s:
        assert s.exec(select(PlanRun)).all() == []
