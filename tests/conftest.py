"""Shared fixtures: a migrated database per test, on SQLite and (where reachable) PostgreSQL.

SQLite: every test gets its own copy of a database file migrated once per session. PostgreSQL
(127.0.0.1:5432, user postgres, trust auth; override with GRIDSUPPLY_TEST_POSTGRES_URL): one
uniquely named throwaway database per session, migrated once, emptied before each test and
dropped at the end. Tests asking for `db_url`, `engine` or `session` run on both; the PostgreSQL
variant skips, saying why, when the server cannot be reached.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

import catalogs.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from catalogs.importing import import_catalog
from catalogs.models import CatalogKind, ImportReport
from supply.calendar import default_calendar
from supply.commitments import commitments
from supply.core import migrate
from supply.core.clock import SHANGHAI
from supply.core.db import make_engine
from supply.demand.models import DemandLine
from supply.policy import DeadlinePolicy
from supply.sample.catalogs import load_sample
from supply.sample.week import (
    SAMPLE_CATALOGS_AT,
    SAMPLE_DAY,
    SAMPLE_LOADED_AT,
    load_sample_week,
)

# Sign-in tokens need a key; servers the tests start inherit it.
os.environ.setdefault("GRIDSUPPLY_SECRET_KEY", "test-only secret key, 32 characters or more")
# No scheduled jobs in the servers tests start, unless a test turns them on (tests/jobs).
os.environ.setdefault("GRIDSUPPLY_SCHEDULER", "off")
POSTGRES_ADMIN_URL = os.environ.get(
    "GRIDSUPPLY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 6, 15, 9, 30, tzinfo=SHANGHAI)

Rows = Sequence[Sequence[object]]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _nothing_listens(where: Any) -> bool:
    """Whether connecting to PostgreSQL's host and port is refused outright."""
    try:
        with socket.create_connection((where.host or "127.0.0.1", where.port or 5432), timeout=2):
            return False
    except OSError:
        return True


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this session, migrated; dropped afterwards."""
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig or exc).strip().splitlines()[0]
        where = make_url(POSTGRES_ADMIN_URL)
        # Skip only when nothing listens there, and never where PostgreSQL is required (CI:
        # .ci/run sets GRIDSUPPLY_TEST_REQUIRE_POSTGRES): a wrong password or a missing role
        # is a failure, not a reason to run half the suite.
        if os.environ.get("GRIDSUPPLY_TEST_REQUIRE_POSTGRES") or not _nothing_listens(where):
            pytest.fail(f"PostgreSQL at {where.host}:{where.port} is not usable: {reason}")
        pytest.skip(f"PostgreSQL is not reachable at {where.host}:{where.port}: {reason}")
    name = f"gridsupply_test_{uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    # DELETE, children first, is much faster than TRUNCATE on tables this small.
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            # audit_event refuses DELETE by trigger; a test database is emptied with the
            # triggers off (the role is a superuser here).
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(SQLModel.metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty, migrated database: a fresh SQLite file, or emptied PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "gridsupply.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on this test's database. After the test, every demand line's stored covered
    quantity must still be what covers it (the competing-demand query trusts it)."""
    engine = make_engine(db_url)
    yield engine
    try:
        assert_coverage_kept(engine)
    finally:
        engine.dispose()


def assert_coverage_kept(engine: Engine) -> None:
    """Each line's `covered` equals the sum of its holds, promises and approved plan lines."""
    with Session(engine) as session:
        if not inspect(engine).has_table("demand_line"):
            return
        found = commitments(session)
        stored = dict(session.exec(select(DemandLine.id, DemandLine.covered)).all())
    expected = {i: found[i].covered if i in found else 0 for i in stored}
    assert stored == expected, {i: (stored[i], expected[i]) for i in stored
                                if stored[i] != expected[i]}  # fmt: skip


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on this test's database."""
    with Session(engine) as session:
        yield session


# ------------------------------------------------------------ catalog files, as planners make them


def xlsx_bytes(rows: Rows, *, title: str = "Sheet1") -> bytes:
    """Write rows (the first is the header) into a real .xlsx file."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_rows(workbook: bytes | Path, sheet: str) -> list[tuple[object, ...]]:
    """The rows of a sheet as values (a totals row's formulas read as their cached values)."""
    source = io.BytesIO(workbook) if isinstance(workbook, bytes) else workbook
    book = load_workbook(source, data_only=True)
    return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]


def csv_bytes(rows: Rows, *, encoding: str = "utf-8-sig") -> bytes:
    """Write rows (the first is the header) as CSV text in `encoding`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


MATERIALS: list[list[object]] = [
    [
        "物料编码",
        "物料名称",
        "计量单位",
        "电压等级",
        "标准单价",
        "储备目录",
        "紧急采购周期(天)",
        "紧急采购溢价(%)",
        "典型供货周期(天)",
    ],
    ["DT-400", "10kV油浸式配电变压器 400kVA", "台", "10kV", 45000, "是", 30, 30, 20],
    ["JKLYJ-70", "10kV架空绝缘导线 JKLYJ-10/70", "千米", "10kV", "8,650.55", "是", 25, "25%", 15],
    ["CB10-300", "10kV电力电缆 3×300", "米", "10kV", 560, "否", 35, 0.3, 20],
    ["MTR-1P", "单相智能电能表", "只", "0.4kV", 200, "是", 40, 20, 30],
]
WAREHOUSES: list[list[object]] = [
    ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
    ["WH-CENTRAL", "物资中心库", "市级中心库", "lingang"],
    ["WH-WD", "文登周转库", "县级周转库", "wendeng"],
    ["WH-SD", "石岛仓储点", "仓储点", "shidao"],
]


def load_basics(session: Session, now: datetime = NOW) -> list[ImportReport]:
    """Import four materials and three warehouses through the ordinary import path."""
    return [
        import_catalog(
            session=session,
            kind=CatalogKind.MATERIALS,
            content=xlsx_bytes(MATERIALS),
            file_name="materials.xlsx",
            imported_by="tester",
            now=now,
        ),
        import_catalog(
            session=session,
            kind=CatalogKind.WAREHOUSES,
            content=xlsx_bytes(WAREHOUSES),
            file_name="warehouses.xlsx",
            imported_by="tester",
            now=now,
        ),
    ]


@pytest.fixture
def basics(session: Session) -> Session:
    """The session, with the basic materials and warehouses imported."""
    load_basics(session)
    return session


ImportFn = Callable[..., ImportReport]


@pytest.fixture
def import_rows(session: Session) -> ImportFn:
    """Import rows (header first) of a kind as an .xlsx file; return the report."""

    def run(
        kind: CatalogKind, rows: Rows, *, now: datetime = NOW, by: str = "tester", **kw: Any
    ) -> ImportReport:
        return import_catalog(
            session=session,
            kind=kind,
            content=xlsx_bytes(rows),
            file_name=f"{kind.value}.xlsx",
            imported_by=by,
            now=now,
            **kw,
        )

    return run


@pytest.fixture
def make_xlsx() -> Callable[..., bytes]:
    """The .xlsx writer, for tests that build their own files."""
    return xlsx_bytes


@pytest.fixture
def make_csv() -> Callable[..., bytes]:
    """The CSV writer, for tests that build their own files."""
    return csv_bytes


@pytest.fixture
def materials_rows() -> list[list[object]]:
    """A copy of the basic materials file's rows (header first)."""
    return [list(row) for row in MATERIALS]


@pytest.fixture
def now() -> datetime:
    """The fixed instant tests run at: 2026-06-15 09:30 in Shanghai."""
    return NOW


# ------------------------------------------------------------ the Weihai sample catalogs and week
#
# `catalog_session`: the seeded sample catalogs (supply.sample.catalogs) as of the sample week's Monday;
# `week_session`: those catalogs and the sample week of projects for batch 2026-W49
# (supply.sample.week; its moments are SAMPLE_CUTOFF, SAMPLE_LOADED_AT …). Each is built once
# per session as a template — a SQLite file, or a PostgreSQL database — and every test gets its
# own copy, on both databases like `session`. `catalog_url`/`week_url` and `catalog_engine`/
# `week_engine` are the same databases for code that opens its own sessions.


def _load_catalogs(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_sample(session=session, now=SAMPLE_CATALOGS_AT, today=SAMPLE_DAY)
    finally:
        engine.dispose()


def _load_week(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_sample_week(
                session=session,
                calendar=default_calendar(),
                policy=DeadlinePolicy(),
                now=SAMPLE_LOADED_AT,
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_sample_templates(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> dict[str, Path]:
    """SQLite files with the sample catalogs, and with the catalogs and the week, made once."""
    folder = tmp_path_factory.mktemp("sample")
    catalogs, week = folder / "catalogs.db", folder / "week.db"
    shutil.copy(sqlite_template, catalogs)
    _load_catalogs(f"sqlite:///{catalogs}")
    shutil.copy(catalogs, week)
    _load_week(f"sqlite:///{week}")
    return {"catalogs": catalogs, "week": week}


@pytest.fixture(scope="session")
def postgres_sample_templates(postgres_url: str) -> Iterator[dict[str, str]]:
    """PostgreSQL template databases with the sample catalogs, and with catalogs and week."""
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    names = {"catalogs": f"gridsupply_tpl_{uuid4().hex[:10]}_c"}
    names["week"] = names["catalogs"][:-2] + "_w"
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{names["catalogs"]}"'))
        catalogs = url.set(database=names["catalogs"]).render_as_string(hide_password=False)
        migrate.upgrade(catalogs)
        _load_catalogs(catalogs)
        with admin.connect() as connection:
            connection.execute(
                text(f'CREATE DATABASE "{names["week"]}" TEMPLATE "{names["catalogs"]}"')
            )
        _load_week(url.set(database=names["week"]).render_as_string(hide_password=False))
        yield names
    finally:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sample_copy(request: pytest.FixtureRequest, tmp_path: Path, which: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield from copy_database(
            tmp_path, sqlite=request.getfixturevalue("sqlite_sample_templates")[which]
        )
    else:
        yield from copy_database(
            tmp_path, postgres=request.getfixturevalue("postgres_sample_templates")[which]
        )


def copy_database(
    tmp_path: Path, *, sqlite: Path | None = None, postgres: str | None = None
) -> Iterator[str]:
    """Yield the URL of a test's own copy of a template database (a SQLite file, or a
    PostgreSQL template database), dropped afterwards."""
    if sqlite is not None:
        path = tmp_path / sqlite.name
        shutil.copy(sqlite, path)
        yield f"sqlite:///{path}"
        return
    template = postgres
    name = f"gridsupply_test_{uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own holding the sample catalogs (as of SAMPLE_DAY)."""
    yield from _sample_copy(request, tmp_path, "catalogs")


@pytest.fixture
def catalog_engine(catalog_url: str) -> Iterator[Engine]:
    """An engine on the sample catalogs database."""
    engine = make_engine(catalog_url)
    yield engine
    engine.dispose()


@pytest.fixture
def catalog_session(catalog_engine: Engine) -> Iterator[Session]:
    """A session on a database holding the sample catalogs (SQLite and PostgreSQL)."""
    with Session(catalog_engine) as session:
        yield session


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def week_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own holding the sample catalogs and the sample week."""
    yield from _sample_copy(request, tmp_path, "week")


@pytest.fixture
def week_engine(week_url: str) -> Iterator[Engine]:
    """An engine on the sample week's database."""
    engine = make_engine(week_url)
    yield engine
    engine.dispose()


@pytest.fixture
def week_session(week_engine: Engine) -> Iterator[Session]:
    """A session on the sample catalogs and week of projects, batch 2026-W49 (both databases)."""
    with Session(week_engine) as session:
        yield session
