"""Whether this server can do its work: the checks `/readyz` runs, in a registry others add to.

Each check is a function of the `Probe` (the database engine, the settings, the moment) that
returns a `Verdict`: ready or not, in words that say how to fix it. The built-in checks are
`database` (reachable and writable), `migrations` (the schema is at the newest revision),
`calendar` (the working-day calendar covers today and the next `calendar_horizon_days`, 60 by
default: what the calendar job warns of)
and `scheduler`: the scheduler's own `scheduler_alive()` in a server that runs it
(`install_scheduler_check`, called as the application is built), else "not configured" (ready).
Other checks are added with `register_check`.

A check that raises is not ready, and says what it raised (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from supply.calendar import LOAD_HINT, CalendarError, format_years
from supply.calendar_store import load_calendar
from supply.core.clock import local_today
from supply.core.db import read_only_reason
from supply.core.migrate import head_revision, known_revisions, revision_of
from supply.core.settings import Settings

logger = logging.getLogger("gridsupply.readiness")


@dataclass(frozen=True)
class Probe:
    """What a check may look at."""

    engine: Engine
    settings: Settings
    now: datetime


@dataclass(frozen=True)
class Verdict:
    """A check's answer: ready or not, and in words what was found (how to fix it, if not)."""

    ready: bool
    detail: str


Check = Callable[[Probe], Verdict]

_checks: dict[str, Check] = {}
_lock = Lock()


def register_check(name: str, check: Check) -> None:
    """Run `check` on every readiness probe under `name`, replacing any check of that name
    (the scheduler replaces the `scheduler` placeholder this way)."""
    with _lock:
        _checks[name] = check


def unregister_check(name: str) -> None:
    """Stop running the check `name` (nothing happens if there is none)."""
    with _lock:
        _checks.pop(name, None)


def registered() -> dict[str, Check]:
    """The checks, by name, in the order they were first registered."""
    with _lock:
        return dict(_checks)


def run_checks(probe: Probe) -> dict[str, Verdict]:
    """Run every registered check; a check that raises is not ready."""
    verdicts: dict[str, Verdict] = {}
    for name, check in registered().items():
        try:
            verdicts[name] = check(probe)
        except Exception as exc:
            logger.exception("readiness check %s raised", name)
            verdicts[name] = Verdict(False, f"检查出错 / the check failed: {type(exc).__name__}")
    return verdicts


# ---------------------------------------------------------------- the built-in checks


def check_database(probe: Probe) -> Verdict:
    """The database answers and takes writes (what /api/v1/health checks)."""
    engine = probe.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        reason = read_only_reason(engine)
    except SQLAlchemyError as exc:
        logger.warning("readiness: the database does not answer: %s", exc)
        return Verdict(
            False,
            "数据库无法连接 / the database does not answer: check that it runs and that "
            "GRIDSUPPLY_DATABASE_URL points at it (the server log says what failed)",
        )
    if reason:
        return Verdict(False, reason)
    return Verdict(True, f"{engine.dialect.name}: 可读写 / answers and takes writes")


def check_migrations(probe: Probe) -> Verdict:
    """The database's schema is at the newest revision this version ships."""
    head = head_revision()
    try:
        current = revision_of(probe.engine)
    except SQLAlchemyError:
        return Verdict(False, "无法读取数据库版本 / cannot read the schema revision (see database)")
    if current == head:
        return Verdict(True, f"版本 {head} / at the newest revision {head}")
    if current is not None and current not in known_revisions():
        return Verdict(
            False,
            f"数据库版本 {current} 比本程序新 / the database is at revision {current}, which this "
            f"version does not know (a newer version migrated it): run that version, or restore "
            f"the backup taken before the upgrade",
        )
    return Verdict(
        False,
        f"数据库版本 {current or '空 empty'} 落后于 {head} / the database is at revision "
        f"{current or 'none'}, not the newest {head}: run `gridsupply db upgrade`",
    )


def check_calendar(probe: Probe) -> Verdict:
    """The working-day calendar has every year from today to `calendar_horizon_days` on."""
    today = local_today(probe.now)
    ahead = probe.settings.calendar_horizon_days
    until = today + timedelta(days=ahead)
    try:
        calendar = load_calendar(Path(probe.settings.calendar_dir))
    except CalendarError as exc:  # a stored year that cannot be read
        return Verdict(False, str(exc))
    missing = calendar.missing_years(today, until)
    if missing:
        years = format_years(missing)
        return Verdict(
            False,
            f"工作日历缺少 {years} 年 / the working-day calendar lacks {years}, within "
            f"{ahead} days of {today}: deadlines and need-by dates there cannot be "
            f"counted. Load the official arrangement with `{LOAD_HINT}` (format: "
            "docs/calendar.md)",
        )
    return Verdict(True, f"覆盖 {today} 至 {until} / covers {today} to {until}")


def scheduler_not_configured(probe: Probe) -> Verdict:
    """No scheduler runs in this server: nothing to wait for."""
    return Verdict(True, "未配置 / not configured")


def check_scheduler(probe: Probe) -> Verdict:
    """This process's scheduler runs and has its jobs (or is turned off by setting)."""
    from supply.jobs.schedule import scheduler_alive

    ready, detail = scheduler_alive()
    return Verdict(ready, detail)


def install_scheduler_check(*, scheduler: bool) -> None:
    """Check the scheduler if this server runs one (`gridsupply serve`), else say it is not
    configured (the application is built once per server process: its choice holds)."""
    register_check("scheduler", check_scheduler if scheduler else scheduler_not_configured)


register_check("database", check_database)
register_check("migrations", check_migrations)
register_check("calendar", check_calendar)
register_check("scheduler", scheduler_not_configured)
