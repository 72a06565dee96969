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

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session

from supply.core.audit import SYSTEM_USER, AuditEvent, record
from supply.core.db import describe_url, make_engine
from supply.core.errors import InvalidInput

Kind = Literal["sqlite", "postgresql"]

# The tables whose rows a backup or restore reports (every table is in the backup).
MAIN_TABLES = (
    "project", "demand_line", "plan_run", "plan_line", "supply_request", "hold", "promise",
    "reserve_stock", "material", "app_user", "audit_event",
)  # fmt: skip
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # the first bytes of a pg_dump archive (custom format)
# Where distributions put each major version's client tools, besides PATH.
PG_TOOL_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
RESTORE_ACTION = "db.restore"


class BackupRefused(InvalidInput):
    """A backup or restore that cannot be done as asked; the message says why and what to do."""


class BackupFailed(Exception):
    """The database or a client tool failed during a backup or restore (one line, its words)."""


@dataclass(frozen=True)
class Contents:
    """What a database or a backup holds: its tables, their rows, its schema revision."""

    rows: dict[str, int]
    revision: str | None

    @property
    def tables(self) -> int:
        """How many tables."""
        return len(self.rows)

    def main_rows(self) -> dict[str, int]:
        """The rows of the main tables (`MAIN_TABLES`) present, in that order."""
        return {t: self.rows[t] for t in MAIN_TABLES if t in self.rows}


@dataclass(frozen=True)
class Client:
    """A PostgreSQL client tool (pg_dump, pg_restore) and its version."""

    path: Path
    major: int
    version: str

    def __str__(self) -> str:
        return f"{self.path.name} {self.version} ({self.path})"


@dataclass(frozen=True)
class BackupReport:
    """A backup written: where, what kind, how big, how long it took, what is in it, and the
    check that read it back."""

    path: Path
    kind: Kind
    size: int
    seconds: float
    contents: Contents
    verified: str
    tool: str = ""


@dataclass(frozen=True)
class RestoreReport:
    """A backup restored: from where, into which database, how long, what it holds now, the
    audit event written (None when the restored schema has no audit trail)."""

    source: Path
    kind: Kind
    target: str
    seconds: float
    contents: Contents
    audit_event_id: int | None
    tool: str = ""
    notes: list[str] = field(default_factory=list)


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
            contents = _sqlite_backup(url, partial)
            verified = "PRAGMA integrity_check: ok"
        else:
            contents, verified, client = _pg_backup(url, partial, pg_bin_dir)
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


# ---------------------------------------------------------------------------- SQLite


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused(
            f"数据库 {describe_url(url)} 不是文件 / the database {describe_url(url)} is not a "
            "file: point GRIDSUPPLY_DATABASE_URL at a SQLite file (sqlite:///path.db)"
        )
    return Path(database).expanduser()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.absolute()}?mode=ro", uri=True, timeout=30)


def _sqlite_backup(url: str, partial: Path) -> Contents:
    source = _sqlite_file(url)
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


def _sqlite_restore(url: str, source: Path) -> Contents:
    target = _sqlite_file(url)
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
        _refuse_not_empty(describe_url(url), existing.tables)
    try:
        with (
            closing(_read_only(source)) as backed,
            closing(sqlite3.connect(target, timeout=30)) as restored,
        ):
            if _sqlite_table_count(restored):  # made since it was looked at
                _refuse_not_empty(describe_url(url), _sqlite_table_count(restored))
            backed.backup(restored)
    except sqlite3.Error as exc:
        raise BackupFailed(f"无法恢复 / restoring {source} into {target} failed: {exc}") from None
    return sqlite_contents(target)


def _sqlite_table_count(connection: sqlite3.Connection) -> int:
    found = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    return int(found.fetchone()[0])


def _refuse_not_empty(where: str, tables: int) -> None:
    if tables:
        raise BackupRefused(
            f"数据库 {where} 不是空的 / the database {where} is not empty ({tables} tables): a "
            "backup is restored only into an empty database; point GRIDSUPPLY_DATABASE_URL at a "
            "new one (a new SQLite file, or createdb)"
        )


# ------------------------------------------------------------------------ PostgreSQL


def find_client(tool: str, server_major: int, *, bin_dir: str = "") -> Client:
    """The client `tool` (pg_dump, pg_restore) to use with a server of `server_major`: the
    server's own major version, else the nearest newer one (an older pg_dump refuses a newer
    server). Looked for in `bin_dir` only when given; else on PATH and in the distributions'
    folders (`PG_TOOL_DIRS`). Raises `BackupRefused` naming the package to install."""
    if bin_dir:
        paths = [Path(bin_dir).expanduser() / tool]
        where = str(Path(bin_dir).expanduser())
    else:
        on_path = shutil.which(tool)
        paths = [Path(on_path)] if on_path else []
        for pattern in PG_TOOL_DIRS:
            paths += [Path(p) for p in sorted(glob.glob(f"{pattern}/{tool}"))]
        where = "PATH, " + ", ".join(PG_TOOL_DIRS)
    found = [c for c in (_client(p) for p in paths) if c is not None]
    usable = sorted((c for c in found if c.major >= server_major), key=lambda c: c.major)
    if usable:
        return usable[0]
    install = (
        f"install the PostgreSQL {server_major} client tools (Debian/Ubuntu: apt-get install "
        f"postgresql-client-{server_major}; RHEL: dnf install postgresql{server_major}) or point "
        "GRIDSUPPLY_PG_BIN_DIR at their folder"
    )
    if found:
        newest = max(found, key=lambda c: c.major)
        raise BackupRefused(
            f"{tool} 版本过旧 / {newest} cannot work with the PostgreSQL {server_major} server "
            f"(a client older than the server refuses it): {install}"
        )
    raise BackupRefused(f"找不到 {tool} / {tool} is not installed (looked in {where}): {install}")


def _client(path: Path) -> Client | None:
    if not (path.is_file() and os.access(path, os.X_OK)):
        return None
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", done.stdout)
    if done.returncode != 0 or not found:
        return None
    return Client(path=path, major=int(found.group(1)), version=found.group(0).split()[-1])


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The connection string a client tool takes, and its environment (the password stays out
    of the command line, which other users of the machine can read)."""
    parsed = make_url(url)
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, environment


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _server_major(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10_000


def _pg_tables(connection: Connection) -> list[str]:
    found = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    )
    return list(found.scalars())


def _pg_contents(connection: Connection) -> Contents:
    names = _pg_tables(connection)
    rows = {n: int(connection.exec_driver_sql(f'SELECT count(*) FROM "{n}"').scalar_one()) for n in names}  # fmt: skip
    revision = None
    if "alembic_version" in rows:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return Contents(rows=rows, revision=revision)


def _run(command: Sequence[str], environment: dict[str, str], what: str) -> str:
    done = subprocess.run(
        list(command), capture_output=True, text=True, env=environment, check=False
    )
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupFailed(f"{what} failed (exit {done.returncode}): {said[0] if said else ''}")
    return done.stdout


def _pg_backup(url: str, partial: Path, bin_dir: str) -> tuple[Contents, str, Client]:
    uri, environment = _libpq(url)
    with _engine(url) as engine, engine.connect() as base:
        connection = base.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            client = find_client("pg_dump", _server_major(connection), bin_dir=bin_dir)
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            contents = _pg_contents(connection)
            _run(
                [str(client.path), "--format=custom", f"--snapshot={snapshot}", "--no-password",
                 f"--file={partial}", f"--dbname={uri}"],
                environment, str(client),
            )  # fmt: skip
    lister = find_client("pg_restore", client.major, bin_dir=bin_dir)
    listed = _listed_tables(lister, partial, environment)
    missing = sorted(set(contents.rows) - listed)
    if missing:
        raise BackupFailed(f"备份校验失败 / the dump lacks the data of {', '.join(missing)}")
    return contents, f"pg_restore --list: the data of all {contents.tables} tables", client


def _listed_tables(lister: Client, path: Path, environment: dict[str, str]) -> set[str]:
    """The tables whose data a pg_dump archive holds (by `pg_restore --list`)."""
    listing = _run([str(lister.path), "--list", str(path)], environment, str(lister))
    found = re.findall(r"^\d+; \d+ \d+ TABLE DATA \S+ (\S+) ", listing, re.MULTILINE)
    return set(found)


def _pg_restore(url: str, source: Path, bin_dir: str) -> tuple[Contents, Client]:
    uri, environment = _libpq(url)
    with _engine(url) as engine:
        with engine.connect() as connection:
            major = _server_major(connection)
            existing = connection.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN "
                    "('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
        _refuse_not_empty(describe_url(url), int(existing))
        client = find_client("pg_restore", major, bin_dir=bin_dir)
        try:
            listed = _listed_tables(client, source, environment)
        except BackupFailed as exc:
            raise BackupRefused(f"{source} 无法读取 / {source} cannot be read: {exc}") from None
        if "alembic_version" not in listed:
            raise BackupRefused(
                f"{source} 不是 gridsupply 备份 / {source} is a pg_dump archive but not of a "
                "gridsupply database (it has no schema revision)"
            )
        _run(
            [str(client.path), "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", "--no-password", f"--dbname={uri}", str(source)],
            environment, str(client),
        )  # fmt: skip
        with engine.connect() as connection:
            return _pg_contents(connection), client


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
        contents = _sqlite_restore(url, source)
    else:
        contents, client = _pg_restore(url, source, pg_bin_dir)
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
    with _engine(url) as engine:
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
