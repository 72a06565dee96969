"""The scheduled jobs: each one's name, what it does, when it runs (a time of day from the
settings, Asia/Shanghai) and the function that does it. The scheduler, `gridsupply jobs` and the
HTTP API all read this one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger

from supply.calendar import CalendarError, WorkCalendar
from supply.core.clock import SHANGHAI
from supply.core.errors import NotFound
from supply.core.settings import Settings
from supply.jobs import daily, weekly
from supply.jobs.context import JobContext
from supply.jobs.service import JobOutcome
from supply.policy import DeadlinePolicy, batch_for


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: `at` names its time-of-day setting; `cutoff_days_only` when it acts
    only on a batch's cutoff day (it fires daily and looks)."""

    name: str
    title: str
    at: str
    run: Callable[[JobContext], JobOutcome]
    cutoff_days_only: bool = False

    def time_of_day(self, settings: Settings) -> time:
        """The time of day it runs at, from the settings."""
        value = getattr(settings, self.at)
        assert isinstance(value, time)
        return value

    def trigger(self, settings: Settings) -> CronTrigger:
        """Its APScheduler trigger: daily at its time, Asia/Shanghai."""
        at = self.time_of_day(settings)
        return CronTrigger(hour=at.hour, minute=at.minute, second=0, timezone=SHANGHAI)

    def schedule(self, settings: Settings) -> str:
        """When it runs, in words."""
        at = self.time_of_day(settings).strftime("%H:%M")
        if self.cutoff_days_only:
            return f"截止日 {at} / {at} on cutoff days"
        return f"每天 {at} / daily {at}"


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "monday_draft",
            "周计划草稿 / draft plan",
            "job_monday_draft_at",
            weekly.monday_draft,
            cutoff_days_only=True,
        ),
        JobSpec(
            "holds_expiry", "保留到期 / holds expiry", "job_holds_expiry_at", daily.holds_expiry
        ),
        JobSpec("filings", "备案与预算 / filings, budgets", "job_filings_at", daily.filings),
        JobSpec("agreements", "协议执行 / agreement lines", "job_agreements_at", daily.agreements),
        JobSpec("calendar", "工作日历 / calendar years", "job_calendar_at", daily.calendar_check),
        JobSpec("province", "省公司结果 / province result", "job_province_at", weekly.province),
    )
}


def get_spec(name: str) -> JobSpec:
    """The job named `name`, or NotFound listing the jobs."""
    try:
        return JOBS[name]
    except KeyError:
        raise NotFound(
            f"没有作业 {name} / no job {name!r}; one of: {', '.join(JOBS)}", loc=("name",)
        ) from None


def next_run(
    spec: JobSpec,
    *,
    settings: Settings,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> datetime | None:
    """When it next does its work after `now`: its next firing, for a cutoff-day job the next
    firing on a batch's cutoff day (None when the calendar cannot say within five weeks)."""
    trigger = spec.trigger(settings)
    moment = trigger.get_next_fire_time(None, now + timedelta(seconds=1))
    for _ in range(36):
        if moment is None or not spec.cutoff_days_only:
            return moment
        try:
            batch = batch_for(moment, calendar=calendar, policy=policy)
        except CalendarError:
            return None
        if batch.cutoff.astimezone(policy.zone).date() == moment.date():
            return moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return None


def scheduled_moment(spec: JobSpec, settings: Settings, fired: datetime, grace_s: int) -> datetime:
    """The scheduled moment a firing at `fired` is for: the trigger's time at or before it,
    within `grace_s` (a late firing names the same moment in every process)."""
    trigger = spec.trigger(settings)
    moment = trigger.get_next_fire_time(None, fired - timedelta(seconds=grace_s))
    return moment if moment is not None and moment <= fired else fired.replace(microsecond=0)
