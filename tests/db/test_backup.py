"""`gridsupply db backup` and `gridsupply db restore`, run for real on SQLite and PostgreSQL.

A backup of the sample week restored into an empty database is that database, row for row, plus
the restore's own audit event (by the system user, naming who ran it). Everything an operator
can get wrong — a file that is there already or not there at all, a file that is not a backup,
a backup of the other kind of database, a database that is not empty, a damaged or cut-short
backup, client tools missing or too old for the server — ends in one line, and nothing is
half-done: no file under a backup's name that is not whole, no table in a database a restore
failed on.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from supply.core import migrate
from supply.core.backup import MAIN_TABLES, find_client
from supply.core.db import make_engine
from tests.audit import events
from tests.backups import (
    empty_database,
    gridsupply,
    kind_of,
    one_clear_line,
    require_pg_tools,
    server_major,
    table_rows,
)


def _suffix(url: str) -> str:
    return ".db" if kind_of(url) == "sqlite" else ".dump"


def test_a_backup_restored_into_an_empty_database_is_that_database(
    week_url: str, tmp_path: Path
) -> None:
    require_pg_tools(week_url)
    before = table_rows(week_url)
    (tmp_path / "backups").mkdir()
    file = tmp_path / "backups" / f"week{_suffix(week_url)}"

    done = gridsupply(["db", "backup", str(file)], week_url)

    assert done.returncode == 0, done.stderr
    tables = len(before) + 1  # and alembic_version
    assert f"written to {file}: " in done.stdout and f", {tables} tables, revision " in done.stdout
    assert f"revision {migrate.head_revision()}" in done.stdout
    for table in ("project", "demand_line", "plan_run", "reserve_stock", "audit_event"):
        assert f"{table} {len(before[table]):,}" in done.stdout
    if kind_of(week_url) == "sqlite":
        assert "checked: PRAGMA integrity_check: ok" in done.stdout
        assert [p.name for p in file.parent.iterdir()] == [file.name]  # one file, nothing beside it
    else:
        assert f"checked: pg_restore --list: the data of all {tables} tables" in done.stdout
    assert f"({file.stat().st_size:,} bytes)" in done.stdout

    with empty_database(tmp_path, kind_of(week_url)) as target:
        restored = gridsupply(["db", "restore", str(file)], target, GRIDSUPPLY_USER="李工")

        assert restored.returncode == 0, restored.stderr
        assert f"restored {file} into " in restored.stdout
        assert f"{tables} tables, revision {migrate.head_revision()}" in restored.stdout
        after = table_rows(target)
        assert {t: r for t, r in after.items() if t != "audit_event"} == {
            t: r for t, r in before.items() if t != "audit_event"
        }
        *kept, _ = after["audit_event"]
        assert kept == before["audit_event"]
        engine = make_engine(target)
        try:
            [event] = events(engine, after_id=kept[-1][0] if kept else 0)  # id is the first
        finally:
            engine.dispose()
        assert f"audit event #{event.id}: db.restore" in restored.stdout
        assert (event.actor, event.action, event.object_type, event.object_id) == (
            "system", "db.restore", "database", file.name,
        )  # fmt: skip
        assert event.after["run_by"] == "李工" and event.after["file"] == str(file)
        assert event.after["rows"] == {t: len(before[t]) for t in MAIN_TABLES}
        # It serves as it is: at the newest schema.
        current = gridsupply(["db", "current"], target)
        assert f"revision {migrate.head_revision()} " in current.stdout, current.stderr

        again = gridsupply(["db", "restore", str(file)], target)
        one_clear_line(again, "is not empty", f"({tables} tables)", "restored only into an empty")
        assert table_rows(target) == after


def test_backing_up_into_a_folder_writes_a_dated_file_and_never_overwrites(
    db_url: str, tmp_path: Path
) -> None:
    require_pg_tools(db_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    done = gridsupply(["db", "backup", str(folder)], db_url)
    assert done.returncode == 0, done.stderr
    [made] = list(folder.iterdir())
    assert made.name.startswith("gridsupply-") and made.suffix == _suffix(db_url)

    again = gridsupply(["db", "backup", str(made)], db_url)
    one_clear_line(again, str(made), "already exists", "never overwritten")
    nowhere = gridsupply(["db", "backup", str(tmp_path / "no" / "such" / "x.db")], db_url)
    one_clear_line(nowhere, f"the folder {tmp_path / 'no' / 'such'} does not exist")
    assert list(folder.iterdir()) == [made]


def test_what_is_not_a_backup_of_this_database_is_refused_in_one_line(
    db_url: str, tmp_path: Path
) -> None:
    require_pg_tools(db_url)
    with empty_database(tmp_path, kind_of(db_url)) as target:
        one_clear_line(
            gridsupply(["db", "restore", str(tmp_path / "nope.db")], target),
            "nope.db does not exist",
        )
        one_clear_line(gridsupply(["db", "restore", str(tmp_path)], target), "is not a file")
        notes = tmp_path / "notes.txt"
        notes.write_text("备份 backup\n", encoding="utf-8")
        one_clear_line(
            gridsupply(["db", "restore", str(notes)], target),
            "is not a backup", "neither a SQLite database nor a pg_dump archive",
        )  # fmt: skip
        other = tmp_path / "other.db"
        with sqlite3.connect(other) as connection:
            connection.execute("CREATE TABLE note (body TEXT)")
        dump = tmp_path / "other.dump"
        dump.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
        if kind_of(db_url) == "sqlite":
            one_clear_line(
                gridsupply(["db", "restore", str(other)], target),
                "a SQLite database but not a gridsupply backup",
            )
            one_clear_line(
                gridsupply(["db", "restore", str(dump)], target),
                "is a PostgreSQL dump (pg_dump)", "is SQLite", "into a PostgreSQL database",
            )  # fmt: skip
        else:
            one_clear_line(
                gridsupply(["db", "restore", str(other)], target),
                "is a SQLite database", "is PostgreSQL", "into a SQLite database",
            )  # fmt: skip
            one_clear_line(gridsupply(["db", "restore", str(dump)], target), "cannot be read")
        assert table_rows_or_none(target) is None  # nothing was made there

    # The test's own database is migrated: not empty.
    file = tmp_path / f"mine{_suffix(db_url)}"
    assert gridsupply(["db", "backup", str(file)], db_url).returncode == 0
    one_clear_line(gridsupply(["db", "restore", str(file)], db_url), "is not empty")


def table_rows_or_none(url: str) -> int | None:
    """How many tables the database at `url` has; None when it has none (or is no file)."""
    if kind_of(url) == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            return None
        with sqlite3.connect(path) as connection:
            count = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        return int(count) or None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(count) or None


def test_a_damaged_sqlite_backup_is_refused_and_restores_nothing(
    sqlite_sample_templates: dict[str, Path], tmp_path: Path
) -> None:
    live = tmp_path / "live.db"
    shutil.copy(sqlite_sample_templates["catalogs"], live)
    file = tmp_path / "backup.db"
    assert gridsupply(["db", "backup", str(file)], f"sqlite:///{live}").returncode == 0
    damaged = tmp_path / "damaged.db"
    shutil.copy(file, damaged)
    with damaged.open("r+b") as stream:  # scribble over a table's pages past the schema's
        stream.seek(12 * 4096)
        stream.write(b"\xff\x00 not a b-tree page " * 200)
    target = tmp_path / "restored.db"
    refused = gridsupply(["db", "restore", str(damaged)], f"sqlite:///{target}")
    one_clear_line(refused, str(damaged))
    assert "is damaged" in refused.stderr or "cannot be read" in refused.stderr
    assert not target.exists()


ON_POSTGRESQL = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@ON_POSTGRESQL
def test_a_dump_cut_short_restores_nothing(db_url: str, tmp_path: Path) -> None:
    require_pg_tools(db_url)
    file = tmp_path / "whole.dump"
    assert gridsupply(["db", "backup", str(file)], db_url).returncode == 0
    short = tmp_path / "short.dump"
    short.write_bytes(file.read_bytes()[: file.stat().st_size * 2 // 3])
    with empty_database(tmp_path, "postgresql") as target:
        failed = gridsupply(["db", "restore", str(short)], target)
        assert failed.returncode in (1, 2), failed.stderr
        one_clear_line(failed, "short.dump" if failed.returncode == 2 else "pg_restore",
                       code=failed.returncode)  # fmt: skip
        assert table_rows_or_none(target) is None  # one transaction: all or nothing


def _fake_tool(folder: Path, name: str, version: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n", encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)


@ON_POSTGRESQL
def test_pg_dump_missing_or_older_than_the_server_is_named_with_the_package(
    db_url: str, tmp_path: Path
) -> None:
    major = server_major(db_url)
    package = f"apt-get install postgresql-client-{major}"
    nothing = tmp_path / "empty"
    nothing.mkdir()
    missing = gridsupply(
        ["db", "backup", str(tmp_path / "x.dump")], db_url, GRIDSUPPLY_PG_BIN_DIR=str(nothing)
    )
    one_clear_line(missing, "pg_dump is not installed", str(nothing), package)
    old = tmp_path / "old"
    _fake_tool(old, "pg_dump", f"{major - 1}.9")
    refused = gridsupply(
        ["db", "backup", str(tmp_path / "x.dump")], db_url, GRIDSUPPLY_PG_BIN_DIR=str(old)
    )
    one_clear_line(
        refused, f"pg_dump {major - 1}.9", f"cannot work with the PostgreSQL {major} server",
        package,
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "old"]


def test_the_client_of_the_server_s_version_is_chosen_first_then_the_nearest_newer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for major in (13, 15, 16, 17):
        _fake_tool(tmp_path / "lib" / str(major) / "bin", "pg_dump", f"{major}.2")
    _fake_tool(tmp_path / "path", "pg_dump", "17.2")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setattr(
        "supply.core.backup.postgres.PG_TOOL_DIRS", (str(tmp_path / "lib" / "*" / "bin"),)
    )
    assert find_client("pg_dump", 15).path == tmp_path / "lib" / "15" / "bin" / "pg_dump"
    assert find_client("pg_dump", 14).major == 15
    assert find_client("pg_dump", 17).version == "17.2"
    assert find_client("pg_dump", 12).major == 13


@pytest.mark.parametrize(("revision", "audited"), [("0009", True), ("0008", False)])
def test_a_backup_of_an_older_schema_restores_and_says_to_upgrade(
    revision: str, audited: bool, tmp_path: Path
) -> None:
    old = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(old, revision)
    file = tmp_path / "old-backup.db"
    assert gridsupply(["db", "backup", str(file)], old).returncode == 0
    target = f"sqlite:///{tmp_path / 'restored.db'}"

    done = gridsupply(["db", "restore", str(file), "--by", "运维"], target)

    assert done.returncode == 0, done.stderr
    assert f"revision {revision}, in " in done.stdout
    assert f"the backup is at revision {revision}, this version's newest is " in done.stdout
    assert "`gridsupply db upgrade` brings an older one up to date" in done.stdout
    assert ("audit event #1: db.restore" in done.stdout) is audited
    assert ("the restore's audit event was not written" in done.stdout) is not audited
    assert gridsupply(["db", "upgrade"], target).returncode == 0
    engine = make_engine(target)
    try:
        found = [(e.actor, e.action, e.after["run_by"]) for e in events(engine)]  # type: ignore[index]
    finally:
        engine.dispose()
    assert found == ([("system", "db.restore", "运维")] if audited else [])
