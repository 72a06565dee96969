"""Run a scheduled job — by the scheduler or by hand, the same code — and read the jobs' history.

`run_job` claims the run first (`supply.jobs.service.claim_run`): a scheduled run names its
moment, and of several processes firing for the same moment only the one whose row is written
first runs; the others get a `skipped` attempt and record nothing. The run's steps, outcome and
audit events are written as it goes, as whoever started it (`system` for the scheduler).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, func, select

from supply.auth.users import ensure_system_account
from supply.calendar import WorkCalendar
from supply.core.audit import SYSTEM_USER
from supply.core.clock import Clock
from supply.core.db import import_models, write_session
from supply.core.paging import DEFAULT_LIMIT, Page, paginate
from supply.core.settings import Settings
from supply.jobs.catalog import JOBS, get_spec, next_run
from supply.jobs.context import JobContext
from supply.jobs.models import JobRun, JobRunPublic, Outcome, Trigger
from supply.jobs.service import JobOutcome, Step, claim_run, run_claimed
from supply.policy import DeadlinePolicy


@dataclass(frozen=True)
class JobAttempt:
    """What became of one call: the run recorded, or None when another process had already
    claimed this scheduled moment (then `outcome` is skipped)."""

    name: str
    outcome: str
    message: str
    run: JobRunPublic | None


def run_job(
    name: str,
    *,
    engine: Engine,
    settings: Settings,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    clock: Clock,
    user: str = SYSTEM_USER,
    trigger: Trigger = Trigger.MANUAL,
    scheduled_for: datetime | None = None,
) -> JobAttempt:
    """Run job `name` now, here; NotFound for no such job. A scheduled moment already claimed
    (by another server process or host) is not run again: the attempt is `skipped`."""
    spec = get_spec(name)
    import_models()  # a job may flush rows referring to any table (holds → requests …)
    now = clock.now()
    if user == SYSTEM_USER:
        with write_session(engine) as session:
            ensure_system_account(session, now=now)
    job_id = claim_run(
        engine, name=name, user=user, now=now, trigger=trigger, scheduled_for=scheduled_for
    )
    if job_id is None:
        return JobAttempt(
            name,
            Outcome.SKIPPED,
            f"{scheduled_for} 的 {name} 已由另一进程运行 / {name} for {scheduled_for} was claimed "
            "by another process",
            None,
        )

    def work(step: Step) -> JobOutcome:
        context = JobContext(
            engine=engine, settings=settings, calendar=calendar, policy=policy, now=now,
            user=user, step=step,
        )  # fmt: skip
        return spec.run(context)

    run = run_claimed(engine, job_id, clock.now, work)
    return JobAttempt(name, run.outcome, run.message, run)


class JobSummary(SQLModel):
    """A job: what it does, when it runs, and its last run."""

    name: str = Field(description="作业名 / job name")
    title: str = Field(description="作业 / what it does")
    schedule: str = Field(description="运行时间 / when it runs (Asia/Shanghai)")
    next_run: datetime | None = Field(description="下次运行 / when it next does its work")
    last_run: JobRunPublic | None = Field(description="最近一次运行 / its last run")


def list_jobs(
    *,
    session: Session,
    settings: Settings,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> list[JobSummary]:
    """Every scheduled job, its schedule, next run after `now` and last run."""
    latest = (
        select(func.max(JobRun.id))
        .where(col(JobRun.name).in_(list(JOBS)))
        .group_by(col(JobRun.name))
    )
    last = {
        run.name: JobRunPublic.model_validate(run, from_attributes=True)
        for run in session.exec(select(JobRun).where(col(JobRun.id).in_(latest)))
    }
    return [
        JobSummary(
            name=spec.name,
            title=spec.title,
            schedule=spec.schedule(settings),
            next_run=next_run(spec, settings=settings, now=now, calendar=calendar, policy=policy),
            last_run=last.get(spec.name),
        )
        for spec in JOBS.values()
    ]


def list_job_runs(
    *,
    session: Session,
    name: str | None = None,
    outcome: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[JobRunPublic]:
    """The runs of jobs, newest first; `name` keeps one job's, `outcome` one outcome's."""
    statement = select(JobRun)
    if name:
        statement = statement.where(JobRun.name == name)
    if outcome:
        statement = statement.where(JobRun.outcome == outcome)
    return paginate(
        session,
        statement,
        order_by=[col(JobRun.started_at).desc(), col(JobRun.id).desc()],
        offset=offset,
        limit=limit,
        convert=lambda run: JobRunPublic.model_validate(run, from_attributes=True),
    )
