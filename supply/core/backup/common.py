"""What backing up and restoring share: the errors, what a database holds, the reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import Engine

from supply.core.db import make_engine
from supply.core.errors import InvalidInput

Kind = Literal["sqlite", "postgresql"]

# The tables whose rows a backup or restore reports (every table is in the backup).
MAIN_TABLES = (
    "project", "demand_line", "plan_run", "plan_line", "supply_request", "hold", "promise",
    "reserve_stock", "material", "app_user", "audit_event",
)  # fmt: skip
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


def refuse_not_empty(where: str, tables: int) -> None:
    """Refuse to restore into the database `where` when it has any table (`tables`)."""
    if tables:
        raise BackupRefused(
            f"数据库 {where} 不是空的 / the database {where} is not empty ({tables} tables): a "
            "backup is restored only into an empty database; point GRIDSUPPLY_DATABASE_URL at a "
            "new one (a new SQLite file, or createdb)"
        )


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    """An engine of its own on `url`, disposed of afterwards."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
