"""The database: engine and sessions made on demand (never at import), shared column types.

One engine per database URL, created the first time it is asked for. Every table is an SQLModel
class on `SQLModel.metadata`, whose naming convention gives constraints stable names so that
Alembic migrations are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from importlib import import_module
from threading import Lock
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy import CheckConstraint, DateTime, event, insert, text
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from supply.core.settings import get_settings

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every module that defines tables; add a domain's models module here when it gains tables.
MODEL_MODULES = (
    "catalogs.models",
    "supply.packages.models",
    "supply.projects.models",
    "supply.demand.models",
    "supply.weekly.models",
    "supply.requests.models",
    "supply.holds.models",
    "supply.auth.models",
    "supply.core.audit",
    "supply.jobs.models",
    "supply.notifications.models",
    "supply.quotas.models",
    "supply.whatif.models",
)


def import_models() -> None:
    """Import every table module, so that the ORM knows each table a foreign key names (a
    command that imports only a few services still flushes rows that refer to the others)."""
    for module in MODEL_MODULES:
        import_module(module)


_engines: dict[str, Engine] = {}
_lock = Lock()


SQLITE_BUSY_TIMEOUT_S = 30  # a writer waits this long for another writer before failing
WRITE_LOCK = "gridsupply_write_lock"  # execution option: take the database's write lock at BEGIN


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that SQLAlchemy's "begin" event
    # decides how each transaction starts (BEGIN, or BEGIN IMMEDIATE for a check-and-write).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] not in ("memory", "wal"):
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_LOCK, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for `url`; SQLite gets foreign keys, WAL, real transactions and a wait."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for a check-and-write use case: the database serialises it with other writers.

    On SQLite the transaction starts with BEGIN IMMEDIATE (the database's single write lock,
    waited for up to `SQLITE_BUSY_TIMEOUT_S`), so what it reads cannot change before it commits.
    Writers of a database file first queue on an OS file lock beside it (`<file>-writer`,
    polled every millisecond): SQLite's own wait sleeps up to 100 ms between tries.
    Correctness rests on SQLite's lock alone (a writer that does not queue still waits for it).
    On PostgreSQL it is an ordinary transaction: the use case locks the rows it checks with
    `SELECT … FOR UPDATE`, in a fixed order.
    """
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    with ExitStack() as stack:
        if path and path != ":memory:" and not path.startswith("file:"):
            _queue_for(stack, f"{path}-writer")
        session = stack.enter_context(Session(engine))
        if engine.dialect.name == "sqlite":
            session.connection(execution_options={WRITE_LOCK: True})
        yield session


def _queue_for(stack: ExitStack, path: str) -> None:
    """Take the writer queue's file lock (held until `stack` closes), polling every millisecond;
    after the busy timeout go on without it (SQLite's own lock then waits, or says the database
    is busy). filelock: an OS lock on Unix and on Windows alike."""
    lock = FileLock(path, timeout=SQLITE_BUSY_TIMEOUT_S, poll_interval=0.001, thread_local=False)
    try:
        stack.enter_context(lock)
    except Timeout:
        return


def get_engine(url: str | None = None) -> Engine:
    """Return the shared engine for `url` (default: the configured database), creating it once."""
    import_models()
    settings = get_settings()
    url = url or settings.database_url
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url, echo=settings.echo_sql)
        return _engines[url]


def dispose_engines() -> None:
    """Close every pooled connection (before deleting a database file, at shutdown)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def describe_url(url: str) -> str:
    """Render a database URL for people, without its password."""
    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- can this process use it?

POSTGRES_EXTRA = (
    "pip install 'gridsupply[postgres]' (in a checkout: .venv/bin/pip install -e '.[postgres]')"
)


class DatabaseUnusable(Exception):
    """The configured database cannot be used as it is: a driver is missing, or it is read-only.

    The message is one line saying what is wrong and how to fix it.
    """


def check_database(url: str) -> None:
    """Raise `DatabaseUnusable` if this process cannot write to the database at `url`: the
    PostgreSQL driver is not installed, or the database (a SQLite file or its folder, or a
    PostgreSQL server) is read-only. An unreachable server is left to the caller to report."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise DatabaseUnusable(
                "未安装 PostgreSQL 驱动 / PostgreSQL needs the psycopg driver, which is not "
                f"installed ({str(exc).splitlines()[0]}): {POSTGRES_EXTRA}"
            ) from None
        engine = make_engine(url)
        try:
            reason = read_only_reason(engine)
        except OperationalError:
            return  # unreachable: the command says so when it connects
        finally:
            engine.dispose()
    else:
        reason = _sqlite_read_only_reason(parsed.database)
    if reason:
        raise DatabaseUnusable(reason)


def read_only_reason(engine: Engine) -> str | None:
    """Say why the database behind `engine` cannot be written to, or return None if it can.

    SQLite: a write is tried on a connection of its own and rolled back (a file can be read-only
    for its permissions, an immutable flag or a read-only mount; only SQLite knows). PostgreSQL:
    the server's `transaction_read_only` (a standby, or `default_transaction_read_only`).
    """
    if engine.dialect.name == "sqlite":
        return _sqlite_read_only_reason(engine.url.database)
    with engine.connect() as connection:
        read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
    if read_only == "on":
        return (
            f"数据库 {describe_url(engine.url.render_as_string(hide_password=False))} 只读 / "
            "the database is read-only (a standby, or default_transaction_read_only): point "
            "GRIDSUPPLY_DATABASE_URL at the primary server, or make it writable"
        )
    return None


def _sqlite_read_only_reason(path: str | None) -> str | None:
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    where = os.path.abspath(path)
    fix = (
        "make it writable for the user running gridsupply (e.g. chmod u+w), or point "
        "GRIDSUPPLY_DATABASE_URL at a writable database"
    )
    if not os.path.exists(where):
        folder = os.path.dirname(where)
        if not os.path.isdir(folder):
            return (
                f"数据库目录 {folder} 不存在 / the folder {folder} of the database does not "
                "exist: create it, or point GRIDSUPPLY_DATABASE_URL at another file"
            )
        try:  # the file will be created there, with its -wal and -shm beside it
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError:
            return f"数据库目录 {folder} 只读 / the folder {folder} of the database is read-only: {fix}"
        return None
    try:
        connection = sqlite3.connect(f"file:{where}?mode=rw", uri=True, timeout=0)
    except sqlite3.Error as exc:
        return f"无法打开数据库文件 {where} / cannot open the database file {where} ({exc}): {fix}"
    try:
        connection.isolation_level = None
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(f"PRAGMA user_version = {int(version)}")  # a write, rolled back
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # another process is writing: it is writable
        if "readonly" in str(exc) or "read-only" in str(exc):
            return (
                f"数据库文件 {where} 只读 / the database file {where} (or its folder) is "
                f"read-only: {fix}"
            )
        return f"无法写入数据库文件 {where} / cannot write the database file {where} ({exc}): {fix}"
    except sqlite3.DatabaseError as exc:
        return f"{where} 不是 SQLite 数据库 / {where} is not a SQLite database ({exc})"
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()
    return None


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC and read back aware on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows of a table with an integer `id` in one statement (no ORM objects: the hot
    path of an urgent request) and return their ids, in the order of `rows`."""
    if not rows:
        return []
    table = model.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [int(i) for i in session.connection().execute(statement, rows).scalars()]


def where_in(statement: Any, column: Any, values: Collection[Any] | None) -> Any:
    """`statement` restricted to rows whose `column` is one of `values`; unchanged for None."""
    if values is None:
        return statement
    return statement.where(column.in_(sorted(set(values))))


def check_in(column: str, enum: type[StrEnum]) -> CheckConstraint:
    """A CHECK constraint: `column` holds one of the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_valid")


def check_non_negative(column: str) -> CheckConstraint:
    """A CHECK constraint: `column` is zero or more."""
    return CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative")
