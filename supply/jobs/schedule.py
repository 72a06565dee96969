"""The scheduler inside `gridsupply serve`: APScheduler's BackgroundScheduler, one cron trigger
per job (its time of day from the settings, Asia/Shanghai), each firing calling `run_job` as the
system user with the moment it was scheduled for.

Every server process runs a scheduler; the database decides which one runs each scheduled
moment (`supply.jobs.service.claim_run`), so several processes or hosts on one PostgreSQL run
each job once. On SQLite, serve from one host. `GRIDSUPPLY_SCHEDULER=off` turns it off.
`scheduler_alive()` says whether this process's scheduler is running, for a readiness check.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from supply.calendar_store import load_calendar, policy_from_settings
from supply.core.audit import SYSTEM_USER
from supply.core.clock import SHANGHAI, clock_for
from supply.core.db import get_engine
from supply.core.settings import Settings, get_settings
from supply.jobs.catalog import JOBS, scheduled_moment
from supply.jobs.models import Trigger
from supply.jobs.runner import run_job

logger = logging.getLogger(__name__)

# A firing this late (the process was busy or asleep) still runs; later ones are dropped, and
# missed firings of one job are run once (coalesced), never as a burst.
MISFIRE_GRACE_S = 15 * 60

_lock = threading.Lock()
_scheduler: BackgroundScheduler | None = None


def fire(name: str) -> None:
    """Run job `name` for the moment it was scheduled for, as the system user; log, never
    raise (a failure is recorded on the run)."""
    settings = get_settings()
    spec = JOBS[name]
    moment = scheduled_moment(spec, settings, datetime.now(SHANGHAI), MISFIRE_GRACE_S)
    try:
        attempt = run_job(
            name,
            engine=get_engine(),
            settings=settings,
            calendar=load_calendar(),
            policy=policy_from_settings(settings),
            clock=clock_for(settings.frozen_now),
            user=SYSTEM_USER,
            trigger=Trigger.SCHEDULE,
            scheduled_for=moment,
        )
    except Exception:
        logger.exception("scheduled job %s (%s) could not run", name, moment)
        return
    logger.info("job %s (%s): %s — %s", name, moment, attempt.outcome, attempt.message)


def start_scheduler(settings: Settings | None = None) -> BackgroundScheduler | None:
    """Start this process's scheduler (once; None when `GRIDSUPPLY_SCHEDULER` is off)."""
    global _scheduler
    settings = settings or get_settings()
    if not settings.scheduler:
        return None
    with _lock:
        if _scheduler is not None and _scheduler.running:
            return _scheduler
        scheduler = BackgroundScheduler(
            timezone=SHANGHAI,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_S,
            },
        )
        for spec in JOBS.values():
            scheduler.add_job(
                fire, spec.trigger(settings), args=[spec.name], id=spec.name, name=spec.title
            )
        scheduler.start()
        _scheduler = scheduler
    logger.info("scheduler started: %s", ", ".join(JOBS))
    return scheduler


def stop_scheduler() -> None:
    """Stop this process's scheduler (a job running finishes first)."""
    global _scheduler
    with _lock:
        scheduler, _scheduler = _scheduler, None
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=True)


def scheduler_alive() -> tuple[bool, str]:
    """Whether this process's scheduler is running, and why not (for a readiness check): off
    by setting counts as alive (nothing is expected of it)."""
    try:
        settings = get_settings()
    except ValueError as exc:  # SettingsInvalid
        return False, str(exc)
    if not settings.scheduler:
        return True, "调度已关闭 / the scheduler is off (GRIDSUPPLY_SCHEDULER=off)"
    with _lock:
        scheduler = _scheduler
    if scheduler is None:
        return False, "调度未启动 / the scheduler has not started in this process"
    thread = getattr(scheduler, "_thread", None)
    if not scheduler.running or thread is None or not thread.is_alive():
        return False, "调度线程已停止 / the scheduler's thread has stopped"
    jobs = scheduler.get_jobs()
    if not jobs:
        return False, "调度中没有作业 / the scheduler has no jobs"
    upcoming = min((j.next_run_time for j in jobs if j.next_run_time is not None), default=None)
    return True, f"{len(jobs)} jobs scheduled; next at {upcoming.isoformat() if upcoming else '-'}"
