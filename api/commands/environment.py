"""What every command stands on: the settings, the database it may use, and its clock.

Checked once, before any command runs (the app's callback, `api.cli`): a setting that cannot be
used, a run folder (`GRIDSUPPLY_RUNS_DIR`) that cannot be written for a command that writes runs,
a database URL of a kind we do not run on, a missing PostgreSQL driver or a read-only database
ends the command with one line — what is wrong and how to fix it — and exit 2, before anything
is read or written. Commands that read the time take it from `cli_clock()`:
`GRIDSUPPLY_FROZEN_NOW` when set, else the system clock; the HTTP API uses the same rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from api.commands.render import fail

if TYPE_CHECKING:
    from supply.core.clock import Clock
    from supply.core.settings import Settings

EXIT_MISCONFIGURED = 2

# Commands that open the configured database (the first word on the command line).
DATABASE_COMMANDS = frozenset(
    {"demo", "db", "catalogs", "serve", "plan", "projects", "packages", "filings", "request",
     "holds", "jobs"}
)  # fmt: skip
# Commands that read no setting at all: they need not pay for reading them.
STANDALONE_COMMANDS = frozenset({"solve", "check", "province"})
# Commands that write weekly runs (or serve the API that does): GRIDSUPPLY_RUNS_DIR must be usable.
RUNS_COMMANDS = frozenset({"demo", "serve", "plan"})


def cli_settings() -> Settings:
    """Return the settings, or end the command with one line naming the bad variable (exit 2)."""
    from supply.core.settings import SettingsInvalid, get_settings

    try:
        return get_settings()
    except SettingsInvalid as exc:
        fail(str(exc), EXIT_MISCONFIGURED)
        raise  # unreachable: fail exits


def check_environment(command: str | None) -> None:
    """Refuse to run `command` on unusable settings or an unusable database (one line, exit 2)."""
    if command is None or command in STANDALONE_COMMANDS:
        return
    settings = cli_settings()
    if command in RUNS_COMMANDS:
        from supply.core.settings import SettingsInvalid, check_runs_dir

        try:
            check_runs_dir(settings)
        except SettingsInvalid as exc:
            fail(str(exc), EXIT_MISCONFIGURED)
    if command not in DATABASE_COMMANDS:
        return
    from supply.core.db import DatabaseUnusable, check_database

    try:
        check_database(settings.database_url)
    except DatabaseUnusable as exc:
        fail(str(exc), EXIT_MISCONFIGURED)


def read_input(file: Path, limit: int) -> bytes:
    """Read a file to import: at most `limit` bytes and one more, so that the import can say it
    is too large (`GRIDSUPPLY_MAX_UPLOAD_BYTES`, the limit of an upload over HTTP too)."""
    try:
        with file.open("rb") as stream:
            return stream.read(limit + 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
        raise  # unreachable: fail exits


def cli_clock() -> Clock:
    """The clock commands run by: the frozen moment if `GRIDSUPPLY_FROZEN_NOW` is set."""
    from supply.core.clock import clock_for

    return clock_for(cli_settings().frozen_now)


def cli_today() -> date:
    """Today in the company's time zone, by `cli_clock()`."""
    from supply.core.clock import local_today

    return local_today(cli_clock().now())
