"""Backing up the database, and restoring a backup into an empty database.

**SQLite**: the online backup API (`sqlite3.Connection.backup`) copies every page in one step,
inside one read transaction: the copy is the database as of one moment, while the server goes on
writing (WAL: a reader never blocks a writer). It is written beside its final name, switched to a
plain rollback journal (one self-contained file), checked with `PRAGMA integrity_check`, flushed
to disk and only then given its name: a file under a backup's name is always whole.

**PostgreSQL**: `pg_dump --format=custom` inside a snapshot this process exports
(`pg_export_snapshot()` in a read-only REPEATABLE READ transaction), in which it also counts the
rows, so the counts reported are exactly the dump's; the dump is checked by listing it
(`pg_restore --list`: the data of every table is in it). pg_dump refuses a server of a newer
major version than its own, so the client tools are chosen by the server's major version
(`find_client`): that version's first, else the nearest newer one.

**Restore** goes into an empty database only (no table at all: a restore never merges). SQLite:
the backup API again, from the backup file into the configured one; PostgreSQL: `pg_restore` in
one transaction (all or nothing), objects owned by the user it connects as. A restore replaces
everything, so its audit event (`db.restore`, by the system user) is written into the restored
database, afterwards.

Everything a person can get wrong (no such file, not a backup, a dump of the other kind of
database, a database that is not empty, missing or too old client tools) is `BackupRefused`; a
tool or the database failing on the way is `BackupFailed`. Both carry one line.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlmodel import Session

from supply.core.audit import SYSTEM_USER, AuditEvent, record
from supply.core.backup.common import (
    MAIN_TABLES,
    RESTORE_ACTION,
    BackupFailed,
    BackupRefused,
    BackupReport,
    Contents,
    Kind,
    RestoreReport,
    engine_for,
)
from supply.core.backup.postgres import (
    PG_DUMP_MAGIC,
    Client,
    backup_postgres,
    find_client,
    restore_postgres,
)
from supply.core.backup.sqlite import SQLITE_MAGIC, backup_sqlite, restore_sqlite, sqlite_contents
from supply.core.db import describe_url

__all__ = [
    "MAIN_TABLES", "RESTORE_ACTION", "BackupFailed", "BackupRefused", "BackupReport", "Client",
    "Contents", "Kind", "RestoreReport", "backup", "backup_kind", "database_kind", "dated_name",
    "find_client", "restore", "sqlite_contents",
]  # fmt: skip


# ------------------------------------------------------------------------ what a file is


def backup_kind(path: Path) -> Kind | None:
    """The kind of database a backup file is of, by its first bytes (None: neither)."""
    with path.open("rb") as stream:
        head = stream.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


def database_kind(url: str) -> Kind:
    """The kind of database a (checked) URL names."""
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
_KIND_WORDS = {"sqlite": "a SQLite database", "postgresql": "a PostgreSQL dump (pg_dump)"}
_KIND_ZH = {"sqlite": " SQLite 数据库", "postgresql": " PostgreSQL 备份"}


# ------------------------------------------------------------------------ back up


def backup(*, url: str, target: Path, pg_bin_dir: str = "") -> BackupReport:
    """Back up the database at `url` into the new file `target`, check it and report it.

    Refused (`BackupRefused`) when `target` exists or its folder does not; the database failing
    or pg_dump failing is `BackupFailed`. Nothing is left under `target` unless it is whole."""
    target = target.expanduser()
    if target.exists():
        raise BackupRefused(
            f"{target} 已存在 / {target} already exists: backups are never overwritten; name a "
            "new file, or a folder to write a dated file in"
        )
    if not target.parent.is_dir():
        raise BackupRefused(
            f"目录 {target.parent} 不存在 / the folder {target.parent} does not exist: create it first"
        )
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    started = time.perf_counter()
    tool = ""
    try:
        if database_kind(url) == "sqlite":
            contents = backup_sqlite(url, partial)
            verified = "PRAGMA integrity_check: ok"
        else:
            contents, verified, client = backup_postgres(url, partial, pg_bin_dir)
            tool = str(client)
        _sync(partial)
        os.replace(partial, target)
    finally:
        for leftover in ("", "-journal", "-wal", "-shm"):
            Path(f"{partial}{leftover}").unlink(missing_ok=True)
    return BackupReport(
        path=target, kind=database_kind(url), size=target.stat().st_size,
        seconds=time.perf_counter() - started, contents=contents, verified=verified, tool=tool,
    )  # fmt: skip


def dated_name(kind: Kind, at: datetime) -> str:
    """The file name of a backup made at `at` into a folder: gridsupply-YYYYmmdd-HHMMSS.db|.dump."""
    return f"gridsupply-{at:%Y%m%d-%H%M%S}.{'db' if kind == 'sqlite' else 'dump'}"


def _sync(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


# ---------------------------------------------------------------------------- restore


def restore(
    *, url: str, source: Path, now: datetime, by: str, pg_bin_dir: str = ""
) -> RestoreReport:
    """Restore the backup `source` into the empty database at `url`; then record its audit
    event there, by the system user (`by`, who ran it, is in the event)."""
    source = source.expanduser()
    if not source.is_file():
        raise BackupRefused(
            f"{source} 不存在 / {source} does not exist"
            if not source.exists()
            else f"{source} 不是文件 / {source} is not a file"
        )
    kind, wanted = backup_kind(source), database_kind(url)
    if kind is None:
        raise BackupRefused(
            f"{source} 不是备份 / {source} is not a backup: neither a SQLite database nor a "
            "pg_dump archive (custom format), as `gridsupply db backup` writes"
        )
    if kind != wanted:
        raise BackupRefused(
            f"{source} 是{_KIND_ZH[kind]},当前数据库是 {_NAME[wanted]} / {source} is "
            f"{_KIND_WORDS[kind]}, but the configured database {describe_url(url)} is "
            f"{_NAME[wanted]}: restore it into a {_NAME[kind]} database (GRIDSUPPLY_DATABASE_URL)"
        )
    started = time.perf_counter()
    tool = ""
    if kind == "sqlite":
        contents = restore_sqlite(url, source)
    else:
        contents, client = restore_postgres(url, source, pg_bin_dir)
        tool = str(client)
    seconds = time.perf_counter() - started
    event, notes = _record_restore(url, source=source, contents=contents, now=now, by=by)
    return RestoreReport(
        source=source, kind=kind, target=describe_url(url), seconds=seconds, contents=contents,
        audit_event_id=event, tool=tool, notes=notes,
    )  # fmt: skip


def _record_restore(
    url: str, *, source: Path, contents: Contents, now: datetime, by: str
) -> tuple[int | None, list[str]]:
    """Write the restore's audit event into the restored database, if its audit trail has this
    version's columns; else say why not."""
    with engine_for(url) as engine:
        inspector = inspect(engine)
        wanted = {c.name for c in AuditEvent.__table__.columns}  # type: ignore[attr-defined]
        if not inspector.has_table("audit_event") or not wanted <= {
            c["name"] for c in inspector.get_columns("audit_event")
        }:
            return None, [
                f"the restored schema (revision {contents.revision}) has no audit trail of this "
                "version's: the restore's audit event was not written"
            ]
        with Session(engine) as session:
            event = record(
                session, actor=SYSTEM_USER, action=RESTORE_ACTION, object_type="database",
                object_id=source.name,
                after={"file": str(source.absolute()), "run_by": by, "revision": contents.revision,
                       "tables": contents.tables, "rows": contents.main_rows()},
                at=now,
            )  # fmt: skip
            session.commit()
            return event.id, []
