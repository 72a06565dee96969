"""`gridsupply db …`: migrate the database schema (Alembic scripts shipped with the package),
back it up and restore a backup into an empty database (`supply.core.backup`)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.commands.environment import cli_clock
from api.commands.render import fail, out
from supply.core import backup, migrate
from supply.core.clock import SHANGHAI
from supply.core.db import describe_url, get_engine
from supply.core.errors import DomainError, InvalidInput
from supply.core.settings import SettingsInvalid, get_settings

db_app = typer.Typer(
    help="数据库 / the database: migrate it, show its revision, back it up, restore a backup.",
    no_args_is_help=True,
)


def _where() -> str:
    return describe_url(get_settings().database_url)


def upgrade_database() -> None:
    """Bring the configured database to the newest schema, or fail with a one-line message."""
    try:
        migrate.upgrade()
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])


def require_current_schema() -> None:
    """Fail with a hint unless the configured database is at the newest schema."""
    try:
        current = migrate.current_revision()
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])
    if current != migrate.head_revision():
        fail(
            f"数据库 {_where()} 未升级到最新结构 / "
            f"the database is at revision {current or 'none'}, "
            f"not {migrate.head_revision()}: run `gridsupply db upgrade`"
        )


@db_app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="target revision (default: the newest)")] = "head",
) -> None:
    """Create or migrate the database schema (GRIDSUPPLY_DATABASE_URL, default ./gridsupply.db)."""
    try:
        migrate.upgrade(revision=revision)
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])
    out.print(f"database {_where()} at revision {migrate.current_revision()}", highlight=False)


@db_app.command("current")
def current_command() -> None:
    """Print the database's schema revision and the newest one this version ships."""
    try:
        current = migrate.current_revision()
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])
    out.print(
        f"database {_where()}: revision {current or 'none'} (newest: {migrate.head_revision()})"
    )


@db_app.command("downgrade")
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="target revision; 'base' removes every table")],
) -> None:
    """Take the schema back to REVISION (data in dropped tables is lost)."""
    try:
        migrate.downgrade(revision=revision)
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])
    out.print(f"database {_where()} at revision {migrate.current_revision() or 'none'}")


@db_app.command("backup")
def backup_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="the new backup file (never overwritten); a folder: a dated file in it "
            "(gridsupply-YYYYmmdd-HHMMSS.db, or .dump for PostgreSQL)"
        ),
    ],
) -> None:
    """Back up the database while it is in use: SQLite with its online backup API, PostgreSQL
    with pg_dump (custom format). The backup is checked by reading it back."""
    settings = get_settings()
    if file.is_dir():
        kind = backup.database_kind(settings.database_url)
        file = file / backup.dated_name(kind, datetime.now(SHANGHAI))
    try:
        report = backup.backup(
            url=settings.database_url, target=file, pg_bin_dir=settings.pg_bin_dir
        )
    except backup.BackupRefused as exc:
        fail(exc.message, 2)
    except backup.BackupFailed as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])
    out.print(
        f"backup of {_where()} written to {report.path}: {_size(report.size)}, "
        f"{report.contents.tables} tables, revision {report.contents.revision or 'none'}, "
        f"in {report.seconds:.2f} s" + (f" by {report.tool}" if report.tool else ""),
        highlight=False,
    )
    out.print(f"rows: {_rows(report.contents)}", highlight=False)
    out.print(f"checked: {report.verified}", highlight=False)


@db_app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="a backup written by `gridsupply db backup`")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="who restores it (default: GRIDSUPPLY_USER, or the OS user)"),
    ] = None,
) -> None:
    """Restore a backup into the configured database, which must be empty (a new SQLite file,
    or a new PostgreSQL database); its audit event is written into the restored database."""
    settings = get_settings()
    try:
        report = backup.restore(
            url=settings.database_url, source=file, now=cli_clock().now(), by=cli_user(by),
            pg_bin_dir=settings.pg_bin_dir,
        )  # fmt: skip
    except backup.BackupRefused as exc:
        fail(exc.message, 2)
    except backup.BackupFailed as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(f"cannot reach the database {_where()}: {exc.orig or exc}".splitlines()[0])
    out.print(
        f"restored {report.source} into {report.target}: {report.contents.tables} tables, "
        f"revision {report.contents.revision or 'none'}, in {report.seconds:.2f} s"
        + (f" by {report.tool}" if report.tool else ""),
        highlight=False,
    )
    out.print(f"rows: {_rows(report.contents)}", highlight=False)
    if report.audit_event_id is not None:
        out.print(f"audit event #{report.audit_event_id}: {backup.RESTORE_ACTION}", highlight=False)
    for note in report.notes:
        out.print(f"note: {note}", highlight=False)
    if report.contents.revision != migrate.head_revision():
        out.print(
            f"note: the backup is at revision {report.contents.revision}, this version's newest "
            f"is {migrate.head_revision()}: `gridsupply db upgrade` brings an older one up to "
            "date before it is served; a newer one needs the version that made it",
            highlight=False,
        )


def _size(size: int) -> str:
    value, unit = float(size), "bytes"
    for larger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size:,} bytes" if unit == "bytes" else f"{value:,.1f} {unit} ({size:,} bytes)"


def _rows(contents: backup.Contents) -> str:
    main = contents.main_rows()
    rest = sum(contents.rows.values()) - sum(main.values())
    return ", ".join(f"{table} {count:,}" for table, count in main.items()) + (
        f"; {rest:,} in the other tables"
    )


def register(app: typer.Typer) -> None:
    """Add the db commands to the app."""
    app.add_typer(db_app, name="db")


@contextmanager
def cli_session() -> Iterator[Session]:
    """A session on the configured database for one command; domain errors end it cleanly.

    Invalid input exits 2, anything else a user can cause (conflict, not found) exits 1.
    """
    require_current_schema()
    with Session(get_engine()) as session:
        try:
            yield session
        except InvalidInput as exc:
            fail(exc.message, 2)
        except DomainError as exc:
            fail(exc.message)
        except SettingsInvalid as exc:  # found unusable while running (a run folder, say)
            fail(str(exc), 2)


def cli_user(by: str | None) -> str:
    """Who is acting: --as (or --by) if given, else GRIDSUPPLY_USER, else the operating-system
    user. The command line is an administrator's tool on the server: it is trusted to say."""
    if by:
        return by
    if os.environ.get("GRIDSUPPLY_USER", "").strip():
        return os.environ["GRIDSUPPLY_USER"].strip()[:100]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
