"""Schema migrations from code: the Alembic scripts ship inside the package (`migrations`)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from supply.core.db import make_engine
from supply.core.settings import get_settings


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """Build the Alembic configuration for `url` (default: the configured database)."""
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.attributes["url"] = url or get_settings().database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Take the database schema down to `revision` (default: empty)."""
    command.downgrade(alembic_config(url), revision)


@cache
def head_revision() -> str | None:
    """Return the newest revision the package ships (read once per process: it cannot change
    while the process runs)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every revision the package ships."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(revision.revision for revision in script.walk_revisions())


def revision_of(engine: Engine) -> str | None:
    """Return the revision the database behind `engine` is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str | None = None) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    engine = make_engine(url or get_settings().database_url)
    try:
        return revision_of(engine)
    finally:
        engine.dispose()
