"""Scheduled jobs: what runs when, their history, and running one by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import (
    CalendarDep,
    ClockDep,
    PageDep,
    PolicyDep,
    SessionDep,
    SettingsDep,
    UserDep,
    require,
)
from supply.core.paging import Page
from supply.jobs.catalog import get_spec
from supply.jobs.models import JobRunPublic, Outcome, Trigger
from supply.jobs.runner import JobSummary, list_job_runs, list_jobs, run_job
from supply.jobs.schedule import scheduler_alive

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobName = Annotated[
    str,
    Path(
        max_length=32,
        pattern=r"^[a-z_]+$",
        description="作业名 / job name: monday_draft, holds_expiry, filings, agreements, "
        "calendar, province",
    ),
]


class SchedulerState(BaseModel):
    """Whether the answering server process's scheduler is running."""

    alive: bool = Field(description="调度是否运行 / running (or off by setting)")
    reason: str = Field(description="说明 / why, or what is next")


class JobsAnswer(BaseModel):
    """The scheduled jobs and the scheduler of the process that answers."""

    scheduler: SchedulerState
    jobs: list[JobSummary]


@router.get("", response_model=JobsAnswer, dependencies=[require("jobs.read")])
def get_jobs(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
) -> JobsAnswer:
    """定时作业及其最近一次运行 / The scheduled jobs: schedule, next run, last run."""
    alive, reason = scheduler_alive()
    return JobsAnswer(
        scheduler=SchedulerState(alive=alive, reason=reason),
        jobs=list_jobs(
            session=session, settings=settings, now=clock.now(), calendar=calendar, policy=policy
        ),
    )


@router.get("/runs", response_model=Page[JobRunPublic], dependencies=[require("jobs.read")])
def get_job_runs(
    session: SessionDep,
    page: PageDep,
    job: Annotated[str | None, Query(max_length=64, description="作业名 / one job's runs")] = None,
    outcome: Annotated[Outcome | None, Query(description="结果 / ran, skipped or failed")] = None,
) -> Page[JobRunPublic]:
    """作业运行记录, 新的在前 / Runs of jobs, newest first (scheduled, by hand, from pages)."""
    return list_job_runs(
        session=session, name=job, outcome=outcome, offset=page.offset, limit=page.limit
    )


@router.post(
    "/{name}/run",
    response_model=JobRunPublic,
    dependencies=[require("jobs.run")],
    responses={404: {"description": "没有此作业 / no such job"}},
)
def run_job_now(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    user: UserDep,
    name: JobName,
) -> JobRunPublic:
    """立即运行一个作业(与定时运行同一代码, 记为本人) / Run a job now, by hand: the scheduler's
    code, recorded and audited as the signed-in user; answers with the run as it ended."""
    get_spec(name)
    attempt = run_job(
        name, engine=session.get_bind(),  # type: ignore[arg-type]
        settings=settings, calendar=calendar, policy=policy, clock=clock, user=user,
        trigger=Trigger.MANUAL,
    )  # fmt: skip
    assert attempt.run is not None  # a run by hand claims no scheduled moment
    return attempt.run
