"""`gridsupply jobs …`: the scheduled jobs — list them, run one by hand (the same code the
scheduler runs, recorded and audited as you), show their history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from api.commands.db import cli_session, cli_user
from api.commands.render import fail, joined, out, styled

jobs_app = typer.Typer(
    help="定时作业 / the scheduled jobs: list them, run one by hand, show their history.",
    no_args_is_help=True,
)
By = Annotated[
    str | None, typer.Option("--by", "--as", help="操作人 / who is acting (default: you)")
]
OUTCOME_STYLE = {"ran": "green", "skipped": "yellow", "failed": "bold red"}


def _when(moment: datetime | None) -> str:
    from supply.core.clock import SHANGHAI

    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "—"


@jobs_app.command("list")
def list_command() -> None:
    """List the jobs: when each runs, when it next does its work, how it last ended."""
    from api.commands.environment import cli_clock, cli_settings
    from supply.calendar_store import load_calendar, policy_from_settings
    from supply.jobs.runner import list_jobs

    settings = cli_settings()
    with cli_session() as session:
        jobs = list_jobs(
            session=session, settings=settings, now=cli_clock().now(), calendar=load_calendar(),
            policy=policy_from_settings(settings),
        )  # fmt: skip
    table = Table(title="定时作业 / scheduled jobs (Asia/Shanghai)", title_justify="left")
    for column in (
        "job 作业",
        "what 内容",
        "schedule 时间",
        "next 下次",
        "last 最近",
        "outcome 结果",
    ):
        table.add_column(column, overflow="fold")
    for job in jobs:
        last = job.last_run
        table.add_row(
            job.name,
            job.title,
            job.schedule,
            _when(job.next_run),
            _when(last.started_at) if last else "—",
            styled(last.outcome or last.status, OUTCOME_STYLE.get(last.outcome, ""))
            if last
            else "—",
        )
    out.print(table)
    state = "on 开启" if settings.scheduler else "off 关闭 (GRIDSUPPLY_SCHEDULER=off)"
    out.print(f"scheduler in `gridsupply serve`: {state}", highlight=False)


@jobs_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="作业名 / the job, e.g. calendar (see jobs list)")],
    by: By = None,
) -> None:
    """Run a job now, by hand: the scheduler's code, recorded and audited as you."""
    from api.commands.environment import cli_clock, cli_settings
    from supply.calendar_store import load_calendar, policy_from_settings
    from supply.core.db import get_engine
    from supply.jobs.catalog import JOBS
    from supply.jobs.models import Trigger
    from supply.jobs.runner import run_job

    if name not in JOBS:
        fail(f"没有作业 {name} / no job {name!r}; one of: {', '.join(JOBS)}", 2)
    settings = cli_settings()
    with cli_session():
        attempt = run_job(
            name, engine=get_engine(), settings=settings, calendar=load_calendar(),
            policy=policy_from_settings(settings), clock=cli_clock(), user=cli_user(by),
            trigger=Trigger.MANUAL,
        )  # fmt: skip
    run = attempt.run
    label = styled(attempt.outcome, OUTCOME_STYLE.get(attempt.outcome, ""))
    out.print(joined(f"job {name} run {run.id if run else '-'}: ", label), highlight=False)
    for step in run.steps if run else []:
        out.print(f"  · {step['text']} ({step['seconds']} s)", highlight=False)
    out.print(attempt.message, highlight=False, soft_wrap=True)
    if attempt.outcome == "failed":
        raise typer.Exit(1)


@jobs_app.command("history")
def history_command(
    job: Annotated[str | None, typer.Option(help="只看一个作业 / one job's runs")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="行数 / rows")] = 20,
) -> None:
    """The runs of jobs, newest first: when, by whom, how triggered, the outcome."""
    from supply.jobs.runner import list_job_runs

    with cli_session() as session:
        page = list_job_runs(session=session, name=job, limit=limit)
    table = Table(title=f"作业运行 / job runs ({page.total})", title_justify="left")
    for column in (
        "id",
        "job 作业",
        "started 开始",
        "by 操作人",
        "trigger 触发",
        "outcome 结果",
        "message 说明",
    ):
        table.add_column(
            column,
            justify="right" if column == "id" else "left",
            no_wrap=column != "message 说明",
            overflow="fold",
        )
    for run in page.items:
        table.add_row(
            str(run.id),
            run.name,
            _when(run.started_at),
            run.started_by,
            run.trigger,
            styled(run.outcome or run.status, OUTCOME_STYLE.get(run.outcome, "")),
            run.message.split(" / ")[-1][:120],
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the jobs commands to the app."""
    app.add_typer(jobs_app, name="jobs")
