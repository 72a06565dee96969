"""`gridsupply demo`: the weekly job end to end on the bundled Weihai sample.

The catalogs part loads the seeded Weihai sample into a fresh database (GRIDSUPPLY_DATABASE_URL, or
./gridsupply.db) through the ordinary import path and prints their summary. A database holding
anyone else's imports is left alone unless `--reset` is given. The catalogs are as of the sample
week's Monday (2026-11-30), and the week of projects for batch 2026-W49 follows them, so the demo
gives the same result every day; a generated year of demand history (batches 2025-W49 to
2026-W48, `supply.sample.history`) comes before the week. Then the Monday-noon run plans that
batch (at 11:00 that Monday), prints its KPIs against the hand planner's rule and names the
folder of its exports, and the quota advisor recommends 2026's quotas from the year, replayed
against the current ones (`gridsupply quotas`); the database is left for `gridsupply serve`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from api.commands.catalogs import report_table, summary_tables
from api.commands.plan import print_outcome, run_with_progress
from api.commands.projects import week_table
from api.commands.render import fail, out, titled_table
from catalogs.models import ImportRecord, ImportStatus
from catalogs.summary import catalog_summary
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core import migrate
from supply.core.db import describe_url, dispose_engines, get_engine, make_engine
from supply.core.settings import get_settings
from supply.projects.service import summary_by_type
from supply.sample.catalogs import DEMO_USER, load_sample
from supply.sample.history import load_sample_history, sample_history
from supply.sample.week import (
    SAMPLE_CATALOGS_AT,
    SAMPLE_CUTOFF,
    SAMPLE_DAY,
    SAMPLE_LOADED_AT,
    load_sample_week,
)

# The demo plans just before the cutoff (Monday 2026-11-30 12:00), as the department would.
SAMPLE_RUN_AT = datetime.fromisoformat("2026-11-30T11:00:00+08:00")


def _others_imports(url: str) -> list[str]:
    """Return who, other than the demo, has imported into the database at `url`."""
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table(ImportRecord.__tablename__):
            return []
        with Session(engine) as session:
            return list(
                session.exec(
                    select(ImportRecord.imported_by)
                    .where(
                        col(ImportRecord.imported_by) != DEMO_USER,
                        ImportRecord.status == ImportStatus.ACCEPTED,  # rejections wrote nothing
                    )
                    .distinct()
                )
            )
    finally:
        engine.dispose()


def fresh_database(url: str, *, reset: bool) -> None:
    """Empty the database at `url` and migrate it, refusing if it holds others' data."""
    others = _others_imports(url)
    if others and not reset:
        fail(
            f"数据库 {describe_url(url)} 中有 {', '.join(others[:3])} 导入的数据 / "
            "the database holds "
            "catalogs imported by others: run `gridsupply demo --reset` to replace them, or point "
            "GRIDSUPPLY_DATABASE_URL at another database"
        )
    dispose_engines()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).unlink(missing_ok=True)
    elif migrate.current_revision(url) is not None:
        migrate.downgrade(url, "base")
    migrate.upgrade(url)


def catalogs_demo(*, reset: bool) -> None:
    """Load the sample catalogs into a fresh database and print their summary."""
    url = get_settings().database_url
    try:
        fresh_database(url, reset=reset)
    except OperationalError as exc:
        fail(f"cannot reach the database {describe_url(url)}: {exc.orig or exc}".splitlines()[0])
    with Session(get_engine(url)) as session:
        loaded = load_sample(session=session, now=SAMPLE_CATALOGS_AT, today=SAMPLE_DAY)
        summary = catalog_summary(session=session, today=SAMPLE_DAY)
    out.print(f"sample catalogs loaded into {describe_url(url)}", highlight=False)
    out.print(report_table(loaded.reports))
    for table in summary_tables(summary):
        out.print(table)


def history_demo() -> None:
    """Load the generated year of demand history before the sample week (the quota advisor
    reads it: `gridsupply quotas recommend`)."""
    with Session(get_engine()) as session:
        history = sample_history(calendar=load_calendar(), policy=policy_from_settings())
        loaded = load_sample_history(session=session, history=history, now=SAMPLE_CATALOGS_AT)
    out.print(
        f"demand history loaded (generated): {loaded.projects:,} completed projects, "
        f"{loaded.lines:,} lines submitted {loaded.start:%Y-%m-%d %H:%M} to "
        f"{loaded.end:%Y-%m-%d %H:%M} (batches 2025-W49 to 2026-W48)",
        highlight=False,
    )


def week_demo() -> None:
    """Load the sample week of projects (batch 2026-W49) and print them by type."""
    with Session(get_engine()) as session:
        week = load_sample_week(
            session=session,
            calendar=load_calendar(),
            policy=policy_from_settings(),
            now=SAMPLE_LOADED_AT,
        )
        summary = summary_by_type(session=session, cutoff=SAMPLE_CUTOFF)
    out.print(
        f"sample week loaded: {week.projects} projects, {week.lines} demand lines "
        f"({week.lines_after_cutoff} submitted at or after the cutoff wait for next week), "
        f"{week.packages} project packages",
        highlight=False,
    )
    out.print(week_table(summary, cutoff=SAMPLE_CUTOFF))


def people_demo() -> None:
    """Add Weihai's units and one demo user per role."""
    from supply.sample.people import load_people

    with Session(get_engine()) as session:
        load_people(session, now=SAMPLE_CATALOGS_AT, by=DEMO_USER)


def print_people() -> None:
    """Print the demo users and their demo passwords."""
    from supply.auth.roles import ROLE_ZH, Role
    from supply.sample.people import DEMO_USERS, demo_password

    table = titled_table(
        "演示用户 / demo users (passwords for this demo database only)",
        [("登录名 / login", "left"), ("密码 / password", "left"), ("角色 / role", "left"),
         ("单位 / unit", "left")],
    )  # fmt: skip
    for login, name, roles, unit in DEMO_USERS:
        role_text = ", ".join(f"{ROLE_ZH[Role(r)]} {r}" for r in roles)
        table.add_row(login, demo_password(login), f"{name}: {role_text}", unit or "-")
    out.print(table)
    out.print(
        "sign in: `gridsupply serve --demo`, then open http://127.0.0.1:8000/ (网页 web pages) "
        "or POST /api/v1/auth/token with one of them",
        highlight=False,
    )


def plan_demo() -> None:
    """Run the Monday-noon plan of the sample batch and print its KPIs and where the exports are."""
    with Session(get_engine()) as session:
        outcome = run_with_progress(session, at=SAMPLE_RUN_AT, user=DEMO_USER, rerun=False)
    print_outcome(outcome, tz=SAMPLE_RUN_AT.tzinfo)
    out.print(
        f"exports written to {outcome.run_dir} — open them in Excel; "
        "`gridsupply serve --demo` opens this database (web pages at http://127.0.0.1:8000/, API "
        "docs at /docs)",
        highlight=False,
        soft_wrap=True,
    )
    if outcome.run.solve_status != "optimal":
        raise typer.Exit(1)


def advice_demo() -> None:
    """Recommend the year's quotas from the generated year and replay it against the current
    ones (the 库存与定额 page shows it); write the draft workbook beside the weekly run's."""
    from api.commands.quotas import print_recommendation, recommend_with_progress
    from supply.quotas import recommendation_workbook

    settings = get_settings()
    with Session(get_engine()) as session:
        done = recommend_with_progress(
            session, year=SAMPLE_DAY.year, service_level=settings.quota_service_level,
            now=SAMPLE_RUN_AT, user=DEMO_USER, workers=2,
        )  # fmt: skip
    folder = Path(settings.runs_dir) / "quotas"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{done.year}年储备定额建议_{done.id}.xlsx"
    target.write_bytes(recommendation_workbook(done))
    print_recommendation(done, lines=6)
    out.print(
        f"draft quota catalog written to {target} (the quotas import format; "
        "`gridsupply catalogs import quotas FILE` makes it the year's draft)",
        highlight=False,
        soft_wrap=True,
    )


def demo_command(
    reset: Annotated[
        bool, typer.Option(help="replace catalogs others imported into the database")
    ] = False,
) -> None:
    """Run the weekly job on the bundled Weihai sample (fresh database, batch 2026-W49).

    Loads the catalogs, a generated year of demand history and a week of projects, runs the
    Monday-noon plan with progress, prints its KPIs against the hand planner's rule and names
    the folder of its exports; then recommends the year's reserve quotas from the history,
    replayed against the current ones.
    """
    catalogs_demo(reset=reset)
    people_demo()
    history_demo()
    week_demo()
    plan_demo()
    advice_demo()
    print_people()


def register(app: typer.Typer) -> None:
    """Add the demo command to the app."""
    app.command("demo")(demo_command)
