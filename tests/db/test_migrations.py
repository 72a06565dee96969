"""The Alembic migrations build exactly the tables the models declare, up and down, anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from typer.testing import CliRunner

from api.cli import app
from supply.core import migrate

GRIDSUPPLY = Path(sys.executable).with_name("gridsupply")


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_downgrade_removes_every_table_and_upgrade_restores_them(
    db_url: str, engine: Engine
) -> None:
    tables = {t.name for t in SQLModel.metadata.sorted_tables}
    assert migrate.current_revision(db_url) == migrate.head_revision()
    migrate.downgrade(db_url, "base")
    assert set(inspect(engine).get_table_names()) & tables == set()
    assert migrate.current_revision(db_url) is None
    migrate.upgrade(db_url)
    assert tables <= set(inspect(engine).get_table_names())


@pytest.mark.slow
def test_db_upgrade_works_from_any_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDSUPPLY_")}
    done = subprocess.run(
        [str(GRIDSUPPLY), "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        tmp_path / "gridsupply.db"
    ).exists()  # the default: a SQLite file in the working directory
    assert f"at revision {migrate.head_revision()}" in done.stdout


def test_db_current_reports_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.chdir("/")
    done = CliRunner().invoke(app, ["db", "current"])
    assert done.exit_code == 0 and "revision none" in done.output


def test_an_unreachable_database_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    done = CliRunner().invoke(app, ["db", "upgrade"])
    assert done.exit_code == 1
    assert done.output.startswith(
        "error: cannot reach the database postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    assert done.exception is None or isinstance(done.exception, SystemExit)
