"""What an operator's monitoring reads from the database: the work left open, and how jobs ended.

Counts only, each one indexed query (the HTTP server's /metrics asks on every scrape, from any
of its processes: the database is the one place they all agree on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from supply.holds.models import Hold, HoldStatus, Promise, PromiseStatus
from supply.jobs.models import JobRun, JobStatus
from supply.packages.models import Filing


@dataclass(frozen=True)
class OpenWork:
    """Holds on stock not yet issued or released, promises not yet fulfilled or cancelled,
    filings past their due date unfiled (on `today`), and job runs by name and outcome (ran,
    skipped, failed; `running` for those under way)."""

    holds_open: int
    promises_open: int
    filings_overdue: int
    job_runs: dict[tuple[str, str], int] = field(default_factory=dict)


def open_work(*, session: Session, today: date) -> OpenWork:
    """Count the open work as it stands on `today` (the company's date)."""
    holds = session.exec(select(func.count()).where(col(Hold.status) == HoldStatus.HELD)).one()
    promises = session.exec(
        select(func.count()).where(col(Promise.status) == PromiseStatus.PROMISED)
    ).one()
    overdue = session.exec(
        select(func.count()).where(col(Filing.filed_at).is_(None), col(Filing.due_on) < today)
    ).one()
    runs = session.exec(
        select(JobRun.name, JobRun.status, JobRun.outcome, func.count()).group_by(
            col(JobRun.name), col(JobRun.status), col(JobRun.outcome)
        )
    ).all()
    job_runs: dict[tuple[str, str], int] = {}
    for name, status, outcome, count in runs:
        # A finished run by its outcome (ran, skipped, failed); one finished before outcomes
        # were recorded, by its status; a run under way as `running`.
        key = (name, "running" if status == JobStatus.RUNNING else outcome or status)
        job_runs[key] = job_runs.get(key, 0) + int(count)
    return OpenWork(
        holds_open=int(holds),
        promises_open=int(promises),
        filings_overdue=int(overdue),
        job_runs=job_runs,
    )
