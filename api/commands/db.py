"""`gridsupply db …`: migrate the database schema (Alembic scripts shipped with the package)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.commands.render import fail, out
from supply.core import migrate
from supply.core.db import describe_url, get_engine
from supply.core.errors import DomainError, InvalidInput
from supply.core.settings import SettingsInvalid, get_settings

db_app = typer.Typer(
    help="数据库 / the database: migrate it, show its revision.", no_args_is_help=True
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
