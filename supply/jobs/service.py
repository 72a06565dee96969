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
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supply.core.audit import record
from supply.core.db import write_session
from supply.core.errors import DomainError, NotFound
from supply.jobs.models import JobRun, JobRunPublic, JobStatus

logger = logging.getLogger("gridsupply.jobs")

Step = Callable[[str], None]
INTERNAL_ERROR = "内部错误，详见服务器日志 / internal error: see the server's log"


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended well: in words, and what a page needs to show it (JSON values)."""

    message: str
    result: dict[str, Any] = field(default_factory=dict)


Work = Callable[[Step], JobOutcome]


def start_job(
    engine: Engine, *, name: str, user: str, clock: Callable[[], datetime], work: Work
) -> int:
    """Record a run of `name` started by `user` (audited), start `work` in a thread with a
    `step(text)` that records each step, and return the run's id at once."""
    with Session(engine) as session:
        job = JobRun(name=name, started_by=user, started_at=clock())
        session.add(job)
        session.flush()
        assert job.id is not None
        record(
            session, actor=user, action="job.start", object_type="job_run", object_id=job.id,
            after={"name": name}, at=job.started_at,
        )  # fmt: skip
        session.commit()
        job_id = job.id
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(_run, engine, name, job_id, clock, work),
        name=f"job-{name}-{job_id}", daemon=True,
    )  # fmt: skip
    thread.start()
    return job_id


def _run(engine: Engine, name: str, job_id: int, clock: Callable[[], datetime], work: Work) -> None:
    began = time.monotonic()
    started = [began]

    def update(change: Callable[[JobRun], None]) -> None:
        # Read and write under the write lock: two jobs updating at once on SQLite would
        # otherwise each hold a read lock the other's write waits for ("database is locked").
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

    def finish(status: JobStatus, message: str, result: dict[str, Any] | None) -> None:
        def end(job: JobRun) -> None:
            job.steps = close_last(job)
            job.status, job.message, job.result = status, message[:2000], result
            job.finished_at = clock()

        update(end)
        log_job(name=name, run_id=job_id, status=status, seconds=time.monotonic() - began,
                message=message)  # fmt: skip

    try:
        outcome = work(step)
    except DomainError as exc:
        finish(JobStatus.FAILED, exc.message, None)
    except Exception:
        logger.exception("job %s failed", job_id)
        finish(JobStatus.FAILED, INTERNAL_ERROR, None)
    else:
        finish(JobStatus.SUCCEEDED, outcome.message, outcome.result)


def log_job(*, name: str, run_id: int, status: str, seconds: float, message: str) -> None:
    """Write a job run's one line in the log (`gridsupply.jobs`): INFO when it succeeded,
    WARNING when not, with `job`, `job_run_id`, `outcome` and `duration_s` as fields."""
    logger.log(
        logging.INFO if status == JobStatus.SUCCEEDED else logging.WARNING,
        "job %s #%d %s in %.1f s: %s",
        name, run_id, status, seconds, message[:300],
        extra={"job": name, "job_run_id": run_id, "outcome": str(status),
               "duration_s": round(seconds, 3)},
    )  # fmt: skip


def get_job(*, session: Session, job_id: int, name: str | None = None) -> JobRunPublic:
    """A job's run as it stands; NotFound for no such run (or one of another job than `name`)."""
    job = session.get(JobRun, job_id)
    if job is None or (name is not None and job.name != name):
        raise NotFound(f"没有作业运行 {job_id} / no job run {job_id}", loc=("job_id",))
    return JobRunPublic.model_validate(job, from_attributes=True)
