"""Start a job in the background and record its steps and outcome as they happen.

The job's row is written in its own short transactions — at the start (with the audit event of
who started it), at each step, at the end — never inside the job's own writes, so any server
process can read its progress while it runs. The job runs in a thread of the process that
started it, with that request's context (its audit events carry the request's id).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from supply.core.audit import record
from supply.core.db import write_session
from supply.core.errors import DomainError, NotFound
from supply.core.settings import SettingsInvalid
from supply.jobs.models import JobRun, JobRunPublic, JobStatus, Outcome, Trigger

logger = logging.getLogger("gridsupply.jobs")

Step = Callable[[str], None]
INTERNAL_ERROR = "内部错误，详见服务器日志 / internal error: see the server's log"


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended well: in words, and what a page needs to show it (JSON values);
    `skipped` when it found nothing to do (not the cutoff day, already planned …)."""

    message: str
    result: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


Work = Callable[[Step], JobOutcome]


def claim_run(
    engine: Engine,
    *,
    name: str,
    user: str,
    now: datetime,
    trigger: Trigger = Trigger.PAGE,
    scheduled_for: datetime | None = None,
) -> int | None:
    """Record that `user` starts a run of `name` (audited, committed at once) and return its id.

    A scheduled run names its moment: the first process to record (name, moment) gets the id,
    any other — another server process or host on the same database — gets None and must not
    run it (the unique index decides, on SQLite and PostgreSQL alike)."""
    try:
        with write_session(engine) as session:
            job = JobRun(
                name=name, started_by=user[:100], started_at=now, trigger=trigger,
                scheduled_for=scheduled_for,
            )  # fmt: skip
            session.add(job)
            session.flush()
            assert job.id is not None
            record(
                session, actor=user, action="job.start", object_type="job_run",
                object_id=job.id,
                after={"name": name, "trigger": trigger, "scheduled_for": scheduled_for},
                at=now,
            )  # fmt: skip
            session.commit()
            return job.id
    except IntegrityError:
        if scheduled_for is None:
            raise
        return None


def start_job(
    engine: Engine, *, name: str, user: str, clock: Callable[[], datetime], work: Work
) -> int:
    """Record a run of `name` started by `user` (audited), start `work` in a thread with a
    `step(text)` that records each step, and return the run's id at once."""
    job_id = claim_run(engine, name=name, user=user, now=clock())
    assert job_id is not None  # not a scheduled moment: never contended
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(_run, engine, job_id, clock, work),
        name=f"job-{name}-{job_id}", daemon=True,
    )  # fmt: skip
    thread.start()
    return job_id


def run_claimed(
    engine: Engine, job_id: int, clock: Callable[[], datetime], work: Work
) -> JobRunPublic:
    """Run `work` for the claimed run `job_id` here and now, recording its steps and how it
    ended (audited as whoever started it); return the run as recorded."""
    _run(engine, job_id, clock, work)
    with Session(engine) as session:
        return get_job(session=session, job_id=job_id, now=clock())


def _run(engine: Engine, job_id: int, clock: Callable[[], datetime], work: Work) -> None:
    began = time.monotonic()
    started = [began]

    def update(change: Callable[[JobRun], None]) -> None:
        with write_session(engine) as session:
            job = session.get(JobRun, job_id)
            assert job is not None
            change(job)
            session.add(job)
            session.commit()

    def close_last(job: JobRun) -> list[dict[str, Any]]:
        steps = [dict(s) for s in job.steps]
        if steps and steps[-1]["seconds"] is None:
            steps[-1]["seconds"] = round(time.monotonic() - started[0], 2)
        return steps

    def step(text: str) -> None:
        def add(job: JobRun) -> None:
            job.steps = [*close_last(job), {"text": text, "seconds": None}]
            started[0] = time.monotonic()

        update(add)

    def finish(
        status: JobStatus, outcome: Outcome, message: str, result: dict[str, Any] | None
    ) -> None:
        with write_session(engine) as session:
            job = session.get(JobRun, job_id)
            assert job is not None
            job.steps = close_last(job)
            job.status, job.outcome = status, outcome
            job.message, job.result = message[:2000], result
            job.finished_at = clock()
            session.add(job)
            record(
                session, actor=job.started_by, action="job.finish", object_type="job_run",
                object_id=job_id,
                after={"name": job.name, "status": status, "outcome": outcome,
                       "message": job.message[:200]},
                at=job.finished_at,
            )  # fmt: skip
            session.commit()
            name = job.name
        log_job(name=name, run_id=job_id, outcome=outcome, seconds=time.monotonic() - began,
                message=message)  # fmt: skip

    try:
        outcome = work(step)
    except DomainError as exc:
        finish(JobStatus.FAILED, Outcome.FAILED, exc.message, None)
    except SettingsInvalid as exc:  # e.g. a run folder that cannot be written
        finish(JobStatus.FAILED, Outcome.FAILED, str(exc), None)
    except Exception:
        logger.exception("job %s failed", job_id)
        finish(JobStatus.FAILED, Outcome.FAILED, INTERNAL_ERROR, None)
    else:
        done = Outcome.SKIPPED if outcome.skipped else Outcome.RAN
        finish(JobStatus.SUCCEEDED, done, outcome.message, outcome.result)


def log_job(*, name: str, run_id: int, outcome: Outcome, seconds: float, message: str) -> None:
    """Write a run's one line in the log (`gridsupply.jobs`) as it ends: INFO when it ran or
    skipped, WARNING when it failed; `job`, `job_run_id`, `outcome`, `duration_s` as fields."""
    logger.log(
        logging.WARNING if outcome == Outcome.FAILED else logging.INFO,
        "job %s #%d %s in %.1f s: %s",
        name, run_id, outcome, seconds, message[:300],
        extra={"job": name, "job_run_id": run_id, "outcome": str(outcome),
               "duration_s": round(seconds, 3)},
    )  # fmt: skip


STALE_AFTER = timedelta(hours=1)  # a run still "running" after this: its process is gone
INTERRUPTED = (
    "运行中断：超过 1 小时未结束（服务器可能已重启），请重新运行 / interrupted: not ended after an "
    "hour (the server may have restarted); run it again"
)


def get_job(
    *, session: Session, job_id: int, now: datetime, name: str | None = None
) -> JobRunPublic:
    """A job's run as it stands at `now`; NotFound for no such run (or one of another job than
    `name`). A run still marked running after STALE_AFTER is reported as failed (interrupted):
    the thread that ran it went with its process, and a page must not wait for it forever."""
    job = session.get(JobRun, job_id)
    if job is None or (name is not None and job.name != name):
        raise NotFound(f"没有作业运行 {job_id} / no job run {job_id}", loc=("job_id",))
    found = JobRunPublic.model_validate(job, from_attributes=True)
    if found.status == JobStatus.RUNNING and now - found.started_at > STALE_AFTER:
        return found.model_copy(update={"status": JobStatus.FAILED, "message": INTERRUPTED})
    return found
