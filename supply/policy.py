"""Deadline policy: build deadlines, need-by dates, the weekly cutoff and filing due dates.

DESIGN.md R3 (build deadlines in working days, counted from the day after approval), R5 (the
Monday-noon agreement-stock batch) and R7 (a filing within 2 working days of the review).
Every function is pure: the calendar, the policy and the moment are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from supply.calendar import WorkCalendar
from supply.core.errors import InvalidInput
from supply.core.project_types import ProjectType as ProjectType  # named by the settings too

PROJECT_TYPE_ZH: Mapping[ProjectType, str] = {
    ProjectType.lv_extension: "表前线/低压分支线延伸",
    ProjectType.area_capacity_increase: "增容台区",
    ProjectType.area_new: "新建台区",
    ProjectType.mv_10kv: "10千伏工程",
    ProjectType.mv_10kv_civil: "10千伏有土建工程",
    ProjectType.hv_35kv: "35千伏工程",
    ProjectType.hv_110kv: "110千伏工程",
}

# Deadlines counted backwards from the customer's completion date, not forwards from approval.
COMPLETION_TYPES = frozenset({ProjectType.hv_35kv, ProjectType.hv_110kv})

# The founding document, 15(2): working days from the day after administrative approval.
DEFAULT_BUILD_WORKING_DAYS: Mapping[ProjectType, int] = {
    ProjectType.lv_extension: 5,
    ProjectType.area_capacity_increase: 8,
    ProjectType.area_new: 15,
    ProjectType.mv_10kv: 20,
    ProjectType.mv_10kv_civil: 30,
}

# Working days of site work after the materials arrive; docs/calendar.md gives the reasons.
DEFAULT_INSTALL_WORKING_DAYS: Mapping[ProjectType, int] = {
    ProjectType.lv_extension: 2,
    ProjectType.area_capacity_increase: 3,
    ProjectType.area_new: 5,
    ProjectType.mv_10kv: 7,
    ProjectType.mv_10kv_civil: 10,
    ProjectType.hv_35kv: 20,
    ProjectType.hv_110kv: 30,
}

WorkingDays = Annotated[int, Field(ge=0)]


class DeadlineError(InvalidInput, ValueError):
    """Deadline input that cannot give a deadline (say which field and why)."""


class NaiveDatetimeError(InvalidInput, ValueError):
    """A moment without a time zone: the cutoff cannot be placed."""


class DeadlinePolicy(BaseModel):
    """The editable numbers behind deadlines, need-by dates, the cutoff and filings.

    Tables given partially are merged over the defaults, so `DeadlinePolicy(
    install_working_days={"area_new": 6})` changes only area_new.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    build_working_days: dict[ProjectType, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_BUILD_WORKING_DAYS)
    )
    install_working_days: dict[ProjectType, WorkingDays] = Field(
        default_factory=lambda: dict(DEFAULT_INSTALL_WORKING_DAYS)
    )
    province_match_working_days: WorkingDays = 2
    cutoff_weekday: Annotated[int, Field(ge=0, le=6)] = 0  # Monday
    cutoff_time: time = time(12, 0)
    timezone: str = "Asia/Shanghai"
    filing_working_days: WorkingDays = 2

    @field_validator("build_working_days", mode="after")
    @classmethod
    def _merge_build(cls, value: dict[ProjectType, int]) -> dict[ProjectType, int]:
        wrong = sorted(set(value) & COMPLETION_TYPES)
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} 的期限按客户要求完工日期倒排，不设工作日数 / the deadline of "
                f"{', '.join(wrong)} comes from the customer's completion date, not a day count"
            )
        return {**DEFAULT_BUILD_WORKING_DAYS, **value}

    @field_validator("install_working_days", mode="after")
    @classmethod
    def _merge_install(cls, value: dict[ProjectType, int]) -> dict[ProjectType, int]:
        return {**DEFAULT_INSTALL_WORKING_DAYS, **value}

    @field_validator("cutoff_time", mode="after")
    @classmethod
    def _local_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("cutoff_time is a wall-clock time in `timezone`; give it no offset")
        return value

    @field_validator("timezone", mode="after")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """Return the time zone the cutoff is set in."""
        return ZoneInfo(self.timezone)


DEFAULT_POLICY = DeadlinePolicy()


# --- build deadlines and need-by dates ------------------------------------------------------


@dataclass(frozen=True)
class BuildDeadline:
    """A project's build deadline and the date its materials are needed by."""

    project_type: ProjectType
    approved: date
    completion: date | None  # the customer's completion date (35/110 kV only)
    deadline: date  # the last day the build may finish on
    need_by: date  # materials on site by this date keep the deadline
    working_days: int  # working days after approval up to and including the deadline
    install_working_days: int


@dataclass(frozen=True)
class ArrivalOutcome:
    """What a given arrival date means for a project's deadline."""

    arrival: date
    earliest_completion: date
    deadline: date
    working_days_late: int  # 0 when the deadline is met

    @property
    def on_time(self) -> bool:
        """Say whether the deadline is still met."""
        return self.working_days_late == 0


def build_deadline(
    project_type: ProjectType | str,
    *,
    approved: date,
    completion: date | None = None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> BuildDeadline:
    """Compute a project's build deadline and need-by date from its approval date.

    Types with a day count finish on the n-th working day after approval (次日起算); 35/110 kV
    finish on the last working day before the customer's completion date. Need-by is the
    deadline less the type's installation working days, never before the approval date.
    """
    kind = parse_project_type(project_type)
    if kind in COMPLETION_TYPES:
        if completion is None:
            raise DeadlineError(
                f"{kind} 须给出客户要求完工日期 / {kind} needs the customer's completion date "
                "(--completion): its deadline is the last working day before it"
            )
        deadline = calendar.previous_working_day(completion)
        if deadline < approved:
            raise DeadlineError(
                f"客户要求完工日期 {completion} 前的最后一个工作日 {deadline} "
                f"早于审批日 {approved} / "
                f"the last working day before the completion date {completion} is {deadline}, "
                f"before approval on {approved}"
            )
        working_days = calendar.working_days_between(approved, deadline)
    else:
        if completion is not None:
            raise DeadlineError(
                f"{kind} 的期限自审批次日起算，不用完工日期 / {kind} counts from approval; "
                "a completion date applies only to hv_35kv and hv_110kv"
            )
        working_days = policy.build_working_days[kind]
        deadline = calendar.add_working_days(approved, working_days)
    install = policy.install_working_days[kind]
    # Counting back `install` working days from the deadline reaches the approval date or earlier
    # exactly when the window holds no more working days than that: then it is the approval date.
    too_short = install >= working_days
    need_by = approved if too_short else calendar.add_working_days(deadline, -install)
    return BuildDeadline(
        project_type=kind,
        approved=approved,
        completion=completion,
        deadline=deadline,
        need_by=need_by,
        working_days=working_days,
        install_working_days=install,
    )


def outcome_if_arriving(
    deadline: BuildDeadline, arrival: date, *, calendar: WorkCalendar
) -> ArrivalOutcome:
    """Give the earliest completion and lateness if the materials arrive on `arrival`.

    Site work cannot start before approval, so the installation working days are counted from
    the later of arrival and approval; arriving on the need-by date finishes on the deadline.
    """
    start = max(arrival, deadline.approved)
    finish = calendar.add_working_days(start, deadline.install_working_days)
    late = max(0, calendar.working_days_between(deadline.deadline, finish))
    return ArrivalOutcome(
        arrival=arrival,
        earliest_completion=finish,
        deadline=deadline.deadline,
        working_days_late=late,
    )


def parse_project_type(value: ProjectType | str) -> ProjectType:
    """Return the project type named by `value` or raise DeadlineError listing the valid ones."""
    try:
        return ProjectType(value)
    except ValueError:
        valid = ", ".join(t.value for t in ProjectType)
        raise DeadlineError(
            f"未知的工程类型 {value!r} / unknown project type {value!r}; one of: {valid}"
        ) from None


# --- the weekly agreement-stock batch -------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """The weekly agreement-stock batch a requirement falls in."""

    id: str  # ISO week of the day the batch is named for, e.g. "2026-W49"
    named_for: date  # the nominal cutoff day (a Monday by default)
    cutoff: datetime  # aware, in the policy's time zone; submissions strictly before it count
    province_match: date  # the province's central matching returns on this date


def batch_for(
    moment: datetime, *, calendar: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> Batch:
    """Return the batch a requirement submitted at `moment` (timezone-aware) belongs to.

    The cutoff is 12:00 on Monday, moved to 12:00 of the next working day when the Monday is
    not one; a moment at or after a cutoff waits for the next batch. When two nominal Mondays
    share a moved cutoff (both Mondays inside one long holiday), they are one batch, named for
    the later Monday: the week the cutoff falls in.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(
            f"时刻 {moment.isoformat()} 没有时区 / {moment.isoformat()} has no time zone: "
            "give a UTC offset such as +08:00 (Asia/Shanghai) or Z"
        )
    local = moment.astimezone(policy.zone)
    named_for = local.date() - timedelta(days=(local.weekday() - policy.cutoff_weekday) % 7)
    cutoff_day = calendar.on_or_after(named_for)
    while _at_cutoff(cutoff_day, policy) <= moment:
        named_for += timedelta(weeks=1)
        cutoff_day = calendar.on_or_after(named_for)
    # A cutoff moved a whole week or more is also the next nominal day's cutoff.
    while cutoff_day >= named_for + timedelta(weeks=1):
        named_for += timedelta(weeks=1)
    year, week, _ = named_for.isocalendar()
    return Batch(
        id=f"{year}-W{week:02d}",
        named_for=named_for,
        cutoff=_at_cutoff(cutoff_day, policy),
        province_match=calendar.add_working_days(cutoff_day, policy.province_match_working_days),
    )


def _at_cutoff(day: date, policy: DeadlinePolicy) -> datetime:
    return datetime.combine(day, policy.cutoff_time, tzinfo=policy.zone)


# --- implement first, file later (先实施、后备案) -----------------------------------------------


def filing_due(
    review: date, *, calendar: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> date:
    """Return the date a package-overrun filing is due: the review date + 2 working days."""
    return calendar.add_working_days(review, policy.filing_working_days)
