"""Backing up and restoring in tests: the command run for real, an empty database to restore
into, every row of a database to compare, and the PostgreSQL client tools (or why not).

The PostgreSQL variants need pg_dump and pg_restore of the server's major version (`make test`
installs Debian's postgresql-client-<version> with apt-get where it can: the Makefile's
`pg-client` target). Without them they are skipped, saying why — except where
GRIDSUPPLY_TEST_REQUIRE_POSTGRES is set (CI: .ci/run), where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from supply.core.backup import BackupRefused, find_client
from supply.core.db import import_models, make_engine
from tests.conftest import POSTGRES_ADMIN_URL

GRIDSUPPLY = str(Path(sys.executable).parent / "gridsupply")


def gridsupply(args: list[str], url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `gridsupply ARGS` on the database at `url`, as an operator would (a subprocess, where
    a traceback would show)."""
    return subprocess.run(
        [GRIDSUPPLY, *args],
        env={**os.environ, "COLUMNS": "300", "GRIDSUPPLY_DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def one_clear_line(done: subprocess.CompletedProcess[str], *words: str, code: int = 2) -> str:
    """The command failed with `code` and said so in one line holding each of `words`."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def kind_of(url: str) -> str:
    """sqlite or postgresql."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@contextmanager
def empty_database(tmp_path: Path, kind: str) -> Iterator[str]:
    """The URL of a database with nothing in it (no schema either): a new SQLite file, or a new
    PostgreSQL database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'empty-{uuid4().hex[:8]}.db'}"
        return
    name = f"gridsupply_test_{uuid4().hex[:12]}_restore"
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ours, in primary-key order."""
    import_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def server_major(url: str) -> int:
    """The PostgreSQL server's major version."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10_000
    finally:
        engine.dispose()


def require_pg_tools(url: str) -> None:
    """Skip (or, where PostgreSQL is required, fail) unless pg_dump and pg_restore that can work
    with the server at `url` are installed."""
    if kind_of(url) != "postgresql":
        return
    major = server_major(url)
    try:
        for tool in ("pg_dump", "pg_restore"):
            find_client(tool, major)
    except BackupRefused as exc:
        if os.environ.get("GRIDSUPPLY_TEST_REQUIRE_POSTGRES"):
            pytest.fail(f"{exc.message} (GRIDSUPPLY_TEST_REQUIRE_POSTGRES is set)")
        pytest.skip(f"{exc.message} (`make pg-client` as root installs them)")


def _missing_client() -> str:
    """The test server's major version if its pg_dump or pg_restore is not installed (or only
    older ones are), else "" (also when PostgreSQL cannot be reached: its tests say so)."""
    from tests.conftest import POSTGRES_ADMIN_URL

    try:
        major = server_major(POSTGRES_ADMIN_URL)
    except Exception:
        return ""
    try:
        for tool in ("pg_dump", "pg_restore"):
            find_client(tool, major)
    except BackupRefused:
        return str(major)
    return ""


if __name__ == "__main__":  # `make pg-client`: which postgresql-client-<version> to install
    print(_missing_client())
