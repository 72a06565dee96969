"""SQLite: the online backup API, one step in one read transaction (the copy is one moment)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from supply.core.backup.common import BackupFailed, BackupRefused, Contents, refuse_not_empty
from supply.core.db import describe_url

SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_file(url: str) -> Path:
    """The file a SQLite URL names (refused: a database in memory)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused(
            f"数据库 {describe_url(url)} 不是文件 / the database {describe_url(url)} is not a "
            "file: point GRIDSUPPLY_DATABASE_URL at a SQLite file (sqlite:///path.db)"
        )
    return Path(database).expanduser()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.absolute()}?mode=ro", uri=True, timeout=30)


def backup_sqlite(url: str, partial: Path) -> Contents:
    """Copy the database at `url` into the new file `partial` (one file, no -wal), check it."""
    source = sqlite_file(url)
    if not source.is_file():
        raise BackupRefused(
            f"数据库文件 {source} 不存在 / the database file {source} does not exist: nothing "
            "to back up (check GRIDSUPPLY_DATABASE_URL)"
        )
    try:
        with closing(_read_only(source)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)  # every page in one step: one read transaction, one moment
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupFailed(f"无法备份 / the backup of {source} failed: {exc}") from None
    problems = _integrity_problems(partial)
    if problems:
        raise BackupFailed(f"备份校验失败 / the backup does not check out: {problems}")
    return sqlite_contents(partial)


def _integrity_problems(path: Path) -> str:
    with closing(_read_only(path)) as connection:
        found = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return "" if found == ["ok"] else "; ".join(found[:3])


def sqlite_contents(path: Path) -> Contents:
    """The tables, rows and schema revision of a SQLite file (opened read-only)."""
    with closing(_read_only(path)) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        rows = {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
        revision = None
        if "alembic_version" in rows:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = found[0] if found else None
    return Contents(rows=rows, revision=revision)


def restore_sqlite(url: str, source: Path) -> Contents:
    """Copy the checked backup `source` into the database file at `url`, which must be empty."""
    target = sqlite_file(url)
    if target.exists() and target.resolve() == source.resolve():
        raise BackupRefused(
            f"{source} 就是当前数据库 / {source} is the configured database itself: restore it "
            "into another, empty database"
        )
    try:
        problems = _integrity_problems(source)
        backed_up = sqlite_contents(source)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{source} 已损坏 / {source} cannot be read: {exc}") from None
    if problems:
        raise BackupRefused(f"{source} 已损坏 / {source} is damaged: {problems}")
    if backed_up.revision is None:
        raise BackupRefused(
            f"{source} 不是 gridsupply 备份 / {source} is a SQLite database but not a gridsupply "
            "backup (it has no schema revision)"
        )
    if target.exists():
        try:
            existing = sqlite_contents(target)
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(
                f"{target} 不是 SQLite 数据库 / the configured database {target} is not a SQLite "
                f"database ({exc}): point GRIDSUPPLY_DATABASE_URL at a new file"
            ) from None
        refuse_not_empty(describe_url(url), existing.tables)
    try:
        with (
            closing(_read_only(source)) as backed,
            closing(sqlite3.connect(target, timeout=30)) as restored,
        ):
            if _sqlite_table_count(restored):  # made since it was looked at
                refuse_not_empty(describe_url(url), _sqlite_table_count(restored))
            backed.backup(restored)
    except sqlite3.Error as exc:
        raise BackupFailed(f"无法恢复 / restoring {source} into {target} failed: {exc}") from None
    return sqlite_contents(target)


def _sqlite_table_count(connection: sqlite3.Connection) -> int:
    found = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    return int(found.fetchone()[0])
