"""`gridsupply calendar …`, `gridsupply deadline` and `gridsupply cutoff`: working days and dates.

This is the file edge of the working-day calendar. `calendar load FILE` validates an operator's
calendar file and stores each year it covers as `<year>.csv` in the directory named by
GRIDSUPPLY_CALENDAR_DIR (default: `calendars/` in the working directory); every command builds
its calendar from the chinesecalendar library plus those stored years, which replace the
library's. The rules themselves live in `supply.calendar` and `supply.policy`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.commands.environment import cli_clock
from api.commands.render import err, fail, joined, out, styled
from supply.calendar import (
    WEEKDAY_ZH,
    CalendarError,
    CalendarFileRejected,
    WorkCalendar,
    YearArrangement,
    decode_calendar_bytes,
    differences,
    format_calendar_csv,
    library_arrangements,
    parse_calendar_csv,
    plausibility_warnings,
)
from supply.calendar_store import (
    calendar_dir,
    load_calendar,
    policy_from_settings,
    read_stored_arrangements,
    store_arrangements,
)
from supply.policy import (
    DeadlineError,
    DeadlinePolicy,
    NaiveDatetimeError,
    ProjectType,
    batch_for,
    build_deadline,
    outcome_if_arriving,
)

EXIT_INVALID = 2
WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHOWN_PROBLEMS = 30

calendar_app = typer.Typer(
    help="工作日历 / the PRC working-day calendar: count, add, load a year.",
    no_args_is_help=True,
)


# --- the file edge: where operator years are stored and read back ---------------------------


def current_calendar() -> WorkCalendar:
    """Load the calendar for a command, or exit with the reason."""
    try:
        return load_calendar()
    except CalendarError as exc:
        fail(f"{exc} (stored calendar: {calendar_dir()})")
    except OSError as exc:
        fail(f"cannot read the stored calendar in {calendar_dir()}: {exc}")
    raise AssertionError  # unreachable: fail() exits


def current_policy() -> DeadlinePolicy:
    """Return the deadline policy, with any overrides from the settings."""
    return policy_from_settings()


# --- argument parsing -----------------------------------------------------------------------


def parse_day(text: str, what: str) -> date:
    """Read a YYYY-MM-DD argument or exit 2 naming it."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{what} {text!r} 不是日期 / is not a date: use YYYY-MM-DD", EXIT_INVALID)
    raise AssertionError  # unreachable: fail() exits


def parse_moment(text: str) -> datetime:
    """Read an ISO 8601 moment argument or exit 2."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        fail(
            f"--at {text!r} 不是时刻 / is not a moment: use ISO 8601 with an offset, "
            "e.g. 2026-11-30T11:59:00+08:00",
            EXIT_INVALID,
        )
    raise AssertionError  # unreachable: fail() exits


def describe_day(calendar: WorkCalendar, day: date) -> str:
    """Write a date with its weekday and, for a make-up working day, say so."""
    text = f"{day.isoformat()} {WEEKDAY_ZH[day.weekday()]} {WEEKDAY_EN[day.weekday()]}"
    if calendar.is_makeup_day(day):
        text += "  调休上班 make-up working day"
    return text


# --- gridsupply calendar … ------------------------------------------------------------------


@calendar_app.command("workdays")
def workdays_command(
    start: Annotated[str, typer.Argument(metavar="FROM", help="YYYY-MM-DD, not counted")],
    end: Annotated[str, typer.Argument(metavar="TO", help="YYYY-MM-DD, counted")],
) -> None:
    """Count and list the working days after FROM up to and including TO (次日起算)."""
    first, last = parse_day(start, "FROM"), parse_day(end, "TO")
    calendar = current_calendar()
    try:
        count = calendar.working_days_between(first, last)
        days = calendar.working_days_after(min(first, last), max(first, last))
        lines = [describe_day(calendar, day) for day in days]
    except CalendarError as exc:
        fail(str(exc), EXIT_INVALID)
    typer.echo(f"working_days: {count}")
    for line in lines:
        typer.echo(line)
    if last < first:
        note = (
            f"TO 早于 FROM：计 {last} 次日至 {first}（含）的工作日，取负数 / TO is before FROM: "
            f"the working days after {last} through {first}, negated"
        )
    else:
        note = f"自 {first} 次日起算，含 {last} / counted from the day after {first} through {last}"
    err.print(note, highlight=False, soft_wrap=True)


@calendar_app.command("add", context_settings={"ignore_unknown_options": True})
def add_command(
    start: Annotated[str, typer.Argument(metavar="FROM", help="YYYY-MM-DD, not counted")],
    n: Annotated[int, typer.Argument(metavar="N", help="working days; negative counts back")],
) -> None:
    """Print the N-th working day after FROM (before it if N is negative; FROM itself if 0)."""
    first = parse_day(start, "FROM")
    calendar = current_calendar()
    try:
        result = calendar.add_working_days(first, n)
        described = describe_day(calendar, result)
    except CalendarError as exc:
        fail(str(exc), EXIT_INVALID)
    typer.echo(f"date: {result.isoformat()}")
    err.print(
        f"{first} {n:+d} 个工作日 working days = {described}", highlight=False, soft_wrap=True
    )


@calendar_app.command("load")
def load_command(
    file: Annotated[Path, typer.Argument(help="calendar file (CSV: date,type,name)")],
    check: Annotated[bool, typer.Option("--check", help="validate only; store nothing")] = False,
    by: Annotated[
        str | None, typer.Option("--as", help="操作人 / who is acting (default: GRIDSUPPLY_USER)")
    ] = None,
) -> None:
    """Validate an operator calendar file and store each year it covers.

    A year in the file replaces that year's arrangement from the library or an earlier load.
    Exit 2 naming every bad row (row number and column) if the file is invalid; nothing is
    stored then.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read calendar file {file}: {exc.strerror or exc}")
    try:
        arrangements = parse_calendar_csv(decode_calendar_bytes(data), source=str(file))
    except CalendarFileRejected as exc:
        err.print(
            joined(
                styled("日历文件未加载 / calendar file rejected", "bold red"),
                f": {file}, {len(exc.problems)} problem(s)",
            ),
            highlight=False,
            soft_wrap=True,
        )
        for problem in exc.problems[:SHOWN_PROBLEMS]:
            err.print(f"  {problem}", highlight=False, soft_wrap=True)
        if len(exc.problems) > SHOWN_PROBLEMS:
            err.print(f"  … and {len(exc.problems) - SHOWN_PROBLEMS} more")
        raise typer.Exit(EXIT_INVALID) from None
    directory = calendar_dir()
    previous = _previous_years(directory)
    for arrangement in arrangements:
        typer.echo(_load_summary(arrangement, previous.get(arrangement.year)))
        for warning in plausibility_warnings(arrangement):
            err.print(
                joined(styled("warning:", "yellow"), " ", warning), highlight=False, soft_wrap=True
            )
    if check:
        typer.echo("checked, not stored / 仅校验，未保存")
        return
    try:
        stored = store_arrangements(directory, arrangements, origin=str(file))
    except OSError as exc:
        fail(f"cannot store the calendar in {directory}: {exc.strerror or exc}")
    for path in stored:
        typer.echo(f"stored: {path}")
    _audit_load(file, [a.year for a in arrangements], by)


def _audit_load(file: Path, years: list[int], by: str | None) -> None:
    """Record the load in the audit trail. The years are files beside the database, so the event
    follows the files (it cannot share their transaction); without a database the load stands
    and a warning says it is not in the audit trail."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from api.commands.db import cli_user
    from api.commands.environment import cli_clock
    from supply.core import migrate
    from supply.core.audit import record
    from supply.core.db import get_engine

    try:
        if migrate.current_revision() != migrate.head_revision():
            raise LookupError("the database is not at the newest schema")
        with Session(get_engine()) as session:
            record(
                session, actor=cli_user(by), action="calendar.load", object_type="calendar",
                object_id=",".join(map(str, years)), after={"file": file.name, "years": years},
                at=cli_clock().now(),
            )  # fmt: skip
            session.commit()
    except (SQLAlchemyError, LookupError) as exc:
        err.print(
            f"warning: the load is not in the audit trail (database: {exc})".splitlines()[0],
            highlight=False,
        )


def _previous_years(directory: Path) -> dict[int, YearArrangement]:
    years = {a.year: a for a in library_arrangements()}
    try:
        years.update({a.year: a for a in read_stored_arrangements(directory)})
    except (CalendarError, OSError) as exc:
        # A broken stored year must not stop the operator loading its correction.
        err.print(
            joined(styled("warning:", "yellow"), " ", str(exc)), highlight=False, soft_wrap=True
        )
    return years


def _load_summary(arrangement: YearArrangement, previous: YearArrangement | None) -> str:
    year = arrangement.year
    counts = (
        f"{year}: {len(arrangement.weekday_holidays())} weekday holidays 工作日放假, "
        f"{len(arrangement.workdays)} make-up working days 调休上班"
    )
    if previous is None:
        return f"{counts} — new year 新增"
    changed = differences(previous, arrangement)
    if not changed:
        return f"{counts} — same as {previous.source} 与现有一致"
    shown = ", ".join(d.isoformat() for d in changed[:10]) + (" …" if len(changed) > 10 else "")
    return f"{counts} — replaces {previous.source}, {len(changed)} day(s) differ 天不同: {shown}"


@calendar_app.command("years")
def years_command() -> None:
    """List the years loaded, where each comes from, and their day counts."""
    calendar = current_calendar()
    out.print(f"stored years 已加载的年份文件: {calendar_dir()}", highlight=False, soft_wrap=True)
    table = Table(title="工作日历 working-day calendar")
    table.add_column("year 年", no_wrap=True)
    table.add_column("source 来源", overflow="fold", ratio=1)
    table.add_column("weekday off 工作日放假", justify="right", no_wrap=True)
    table.add_column("make-up 调休上班", justify="right", no_wrap=True)
    for year, arrangement in calendar.years.items():
        table.add_row(
            str(year),
            arrangement.source,
            str(len(arrangement.weekday_holidays())),
            str(len(arrangement.workdays)),
        )
    out.print(table)


@calendar_app.command("show")
def show_command(
    year: Annotated[int, typer.Argument(help="the year to print")],
) -> None:
    """Print a year's arrangement in the calendar file format, to copy, correct and load."""
    calendar = current_calendar()
    try:
        arrangement = calendar.arrangement(year)
    except CalendarError as exc:
        fail(str(exc), EXIT_INVALID)
    typer.echo(f"# {year}: {arrangement.source}")
    typer.echo(format_calendar_csv([arrangement]), nl=False)


# --- gridsupply deadline and gridsupply cutoff ----------------------------------------------


def deadline_command(
    project_type: Annotated[
        str,
        typer.Option("--type", help="project type: " + ", ".join(t.value for t in ProjectType)),
    ],
    approved: Annotated[str, typer.Option(help="administrative approval date, YYYY-MM-DD")],
    completion: Annotated[
        str | None,
        typer.Option(help="customer's completion date (hv_35kv, hv_110kv only), YYYY-MM-DD"),
    ] = None,
    arrival: Annotated[
        str | None,
        typer.Option(help="also say what materials arriving on this date mean, YYYY-MM-DD"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print a project's build deadline, its materials need-by date and its working days.

    Exit 2 if a date falls outside the loaded calendar, or the type or dates are invalid.
    """
    approved_on = parse_day(approved, "--approved")
    completion_on = parse_day(completion, "--completion") if completion else None
    arrival_on = parse_day(arrival, "--arrival") if arrival else None
    calendar = current_calendar()
    try:
        result = build_deadline(
            project_type,
            approved=approved_on,
            completion=completion_on,
            calendar=calendar,
            policy=current_policy(),
        )
        outcome = outcome_if_arriving(result, arrival_on, calendar=calendar) if arrival_on else None
    except (CalendarError, DeadlineError) as exc:
        fail(str(exc), EXIT_INVALID)
    fields: dict[str, object] = {
        "deadline": result.deadline.isoformat(),
        "need_by": result.need_by.isoformat(),
        "working_days": result.working_days,
    }
    if outcome is not None:
        fields |= {
            "arrival": outcome.arrival.isoformat(),
            "earliest_completion": outcome.earliest_completion.isoformat(),
            "working_days_late": outcome.working_days_late,
        }
    if as_json:
        document = {
            "project_type": result.project_type.value,
            "approved": result.approved.isoformat(),
            "completion": result.completion.isoformat() if result.completion else None,
            "install_working_days": result.install_working_days,
            **fields,
        }
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for key, value in fields.items():
        typer.echo(f"{key}: {value}")


def cutoff_command(
    at: Annotated[
        str | None,
        typer.Option(help="submission moment, ISO 8601 with offset (default: now)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print the weekly agreement-stock batch a requirement submitted at --at falls in.

    The cutoff is Monday 12:00 Asia/Shanghai (the next working day's noon when Monday is a day
    off); 12:00:00 exactly is next week's batch. Exit 2 on a moment without a time zone.
    """
    moment = parse_moment(at) if at is not None else cli_clock().now()
    calendar = current_calendar()
    try:
        batch = batch_for(moment, calendar=calendar, policy=current_policy())
    except (CalendarError, NaiveDatetimeError) as exc:
        fail(str(exc), EXIT_INVALID)
    fields = {
        "batch": batch.id,
        "cutoff": batch.cutoff.isoformat(),
        "province_match": batch.province_match.isoformat(),
    }
    if as_json:
        document = {"at": moment.isoformat(), "named_for": batch.named_for.isoformat(), **fields}
        typer.echo(json.dumps(document, indent=2))
        return
    for key, value in fields.items():
        typer.echo(f"{key}: {value}")


def register(app: typer.Typer) -> None:
    """Add the calendar group and the deadline and cutoff commands to the app."""
    app.add_typer(calendar_app, name="calendar")
    app.command("deadline")(deadline_command)
    app.command("cutoff")(cutoff_command)
