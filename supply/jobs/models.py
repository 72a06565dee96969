"""A run of a job: what it is, who started it, its steps so far, and how it ended."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


JOB_STATUS_ZH = {
    JobStatus.RUNNING: "运行中",
    JobStatus.SUCCEEDED: "已完成",
    JobStatus.FAILED: "失败",
}


class Trigger(StrEnum):
    """What started a run: the scheduler inside `gridsupply serve`, a person by hand (command
    line or HTTP), or a page (the weekly run's button)."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    PAGE = "page"


class Outcome(StrEnum):
    """How a run ended, in one word: it did its work, it found nothing to do (or another
    process ran that scheduled moment), or it failed."""

    RAN = "ran"
    SKIPPED = "skipped"
    FAILED = "failed"


class JobRun(SQLModel, table=True):
    """One run of a job. `steps` grows as the job reports them: `{"text", "seconds"}`, the
    seconds of a step known once the next one starts (or the job ends).

    A scheduled run carries the moment it was scheduled for; the unique index on (name,
    scheduled_for) lets one process alone record — and so run — each scheduled moment, however
    many servers share the database (NULLs, runs by hand, never collide)."""

    __tablename__ = "job_run"
    __table_args__ = (Index("uq_job_run_name_scheduled_for", "name", "scheduled_for", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True, description="作业 / job name")
    status: str = Field(default=JobStatus.RUNNING, max_length=16)
    started_by: str = Field(max_length=100)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    steps: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    message: str = Field(default="", max_length=2000, description="结果或错误 / outcome in words")
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    trigger: str = Field(
        default=Trigger.PAGE, max_length=16, description="schedule | manual | page"
    )
    scheduled_for: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="计划时刻 / the scheduled moment (UTC)"
    )
    outcome: str = Field(default="", max_length=16, description="ran | skipped | failed")


class JobRunPublic(SQLModel):
    """A job's run as the pages and the API show it."""

    id: int
    name: str
    status: str = Field(description="running | succeeded | failed")
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    steps: list[dict[str, Any]] = Field(description="步骤 / steps: text, seconds")
    message: str
    result: dict[str, Any] | None
    trigger: str = Field(description="schedule | manual | page")
    scheduled_for: datetime | None = Field(description="计划时刻 / the scheduled moment")
    outcome: str = Field(description="ran | skipped | failed; empty while running")
