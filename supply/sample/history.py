"""A seeded year of Weihai demand history: the 52 weekly batches before the demo's (generated).

The quota advisor (`supply.quotas`) reads the last 12 months of projects and demand lines; the
demo database holds this year so that it has something to read. It covers the submissions of
batches 2025-W49 to 2026-W48: after Monday 2025-11-24 12:00, before Monday 2026-11-23 12:00,
when the sample week (`week.py`, batch 2026-W49) begins.

Generated, and marked so: every project and line is created by `GENERATED_BY`, project ids carry
an `H` (`YK26-HC-H0123`), and the load is one audit event (`sample.history`). The projects are
completed and their lines issued: history, not open demand — no weekly run plans them again and
no package budget counts them (they belong to no package).

How it is drawn (estimates, like the rest of the sample):
- **types**: each week a Poisson number of projects of each type, around the sample week's mix
  (`WEEKLY_MEAN`: mostly 5-working-day meter-front and LV branch work, about 80 projects a week,
  about 4,000 a year) — the 35/110 kV projects at weihai.md's rate, a few a year;
- **seasonality**: a factor by month (`SEASON`: the Spring Festival in February and the National
  Day week in October are quiet, spring and autumn busy), capacity increases also peaking with
  the summer and winter load (`CAPACITY_SEASON`), and every week scaled by its working days
  (projects are approved on working days only, by the PRC calendar);
- **places**: the locations' shares of weihai.md (`week.LOCATIONS`);
- **materials**: the typical lists of each type (`week.ITEMS`), as the sample week draws them;
- **timing**: the 5/8/15-day work is submitted on its approval day (an urgent request), the rest
  within three working days of approval.

`sample_history()` is pure and deterministic for a seed and calendar; `load_sample_history`
writes it in one transaction.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from supply.auth.units import units_by_location
from supply.calendar import CalendarError, WorkCalendar
from supply.core.audit import record
from supply.core.clock import SHANGHAI
from supply.demand.models import DemandLine, DemandStatus
from supply.policy import COMPLETION_TYPES, DeadlinePolicy, ProjectType, build_deadline
from supply.projects.models import TYPE_VOLTAGES, Priority, Project, ProjectStatus
from supply.sample.week import (
    ESTATES,
    FIRMS,
    ITEMS,
    LOCATIONS,
    LV_WORKS,
    PLACES,
    PREVIOUS_CUTOFF,
    SURNAMES,
    TRADES,
    Item,
)

SEED = 20251124
HISTORY_FROM = datetime(2025, 11, 24, 12, 0, tzinfo=SHANGHAI)  # the cutoff before 2025-W49
HISTORY_TO = PREVIOUS_CUTOFF  # 2026-11-23 12:00, the cutoff of 2026-W48
GENERATED_BY = "样例历史（生成）/ generated sample history"

# Projects of each type in an ordinary week (the sample week's mix, without its key projects).
WEEKLY_MEAN: dict[ProjectType, float] = {
    ProjectType.lv_extension: 52.0,
    ProjectType.area_capacity_increase: 10.0,
    ProjectType.area_new: 9.0,
    ProjectType.mv_10kv: 6.0,
    ProjectType.mv_10kv_civil: 4.0,
}
# 35/110 kV projects a year (weihai.md: about 6), approved early enough to finish in 2026.
YEARLY_HIGH_VOLTAGE: dict[ProjectType, int] = {ProjectType.hv_35kv: 5, ProjectType.hv_110kv: 2}
# By month of approval: quiet at the Spring Festival (February) and the National Day week
# (October), busy in spring, early summer and autumn, a push before the year ends.
SEASON: dict[int, float] = {
    1: 0.75, 2: 0.5, 3: 0.95, 4: 1.15, 5: 1.2, 6: 1.2,
    7: 1.05, 8: 0.95, 9: 1.15, 10: 0.9, 11: 1.15, 12: 1.05,
}  # fmt: skip
# Capacity increases follow the load as well: air conditioning in summer, electric heating
# (煤改电) in winter.
CAPACITY_SEASON: dict[int, float] = {
    1: 1.3, 2: 1.0, 3: 0.8, 4: 0.8, 5: 0.9, 6: 1.3,
    7: 1.4, 8: 1.2, 9: 0.8, 10: 0.8, 11: 1.0, 12: 1.3,
}  # fmt: skip
CITY_KEY_SHARE = 0.03
URGENT_TYPES = frozenset(
    {ProjectType.lv_extension, ProjectType.area_capacity_increase, ProjectType.area_new}
)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """A demand line of the history, in base units."""

    line_no: int
    material_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class HistoryProject:
    """A project of the history with its derived dates and its lines, submitted together."""

    id: str
    name: str
    customer: str
    project_type: ProjectType
    voltage_class: str
    location: str
    approved_on: date
    completion_date: date | None
    deadline: date
    need_by: date
    priority: Priority
    submitted_at: datetime
    lines: tuple[HistoryLine, ...]


@dataclass(slots=True)
class SampleHistory:
    """The year: its projects in submission order, and the window they were submitted in."""

    start: datetime
    end: datetime
    projects: list[HistoryProject] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """How many demand lines the year holds."""
        return sum(len(p.lines) for p in self.projects)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are below a hundred)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _round(quantity: int) -> int:
    """Round as a designer would: metres of cable to 10, large amounts to 50 or 100."""
    for step, above in ((100, 10_000), (50, 1_000), (10, 100)):
        if quantity >= above:
            return max(step, quantity // step * step)
    return quantity


def _lines(rng: random.Random, items: Sequence[Item]) -> tuple[HistoryLine, ...]:
    chosen: list[tuple[str, int]] = []
    for codes, chance, (low, high) in items:
        if rng.random() < chance:
            code = rng.choice(codes)
            if all(code != taken for taken, _ in chosen):
                chosen.append((code, _round(rng.randint(low, high))))
    return tuple(HistoryLine(n, code, q) for n, (code, q) in enumerate(chosen, start=1))


def _name(rng: random.Random, kind: ProjectType, location: str) -> tuple[str, str]:
    """A plausible project name and customer (fictional)."""
    district, place = LOCATIONS[location][0], rng.choice(PLACES[location])
    firm = f"威海{rng.choice(FIRMS)}{rng.choice(TRADES)}有限公司"
    if kind is ProjectType.lv_extension:
        work = rng.choice(LV_WORKS)
        customer = f"{rng.choice(SURNAMES)}某某" if work in ("居民新装", "民宿") else firm
        return f"{district}{place}{customer}{work}低压接入工程", customer
    if kind in (ProjectType.area_capacity_increase, ProjectType.area_new):
        estate = f"{rng.choice(ESTATES)}{rng.choice('一二三四')}期"
        work = "台区增容" if kind is ProjectType.area_capacity_increase else "新建台区"
        return f"{district}{place}{estate}{work}工程", f"{place}{estate}业主委员会"
    if kind in COMPLETION_TYPES:
        level = "35千伏" if kind is ProjectType.hv_35kv else "110千伏"
        return f"{district}{firm}{level}业扩配套工程", firm
    civil = "（含电缆通道土建）" if kind is ProjectType.mv_10kv_civil else ""
    return f"{district}{place}{firm}10千伏业扩配套工程{civil}", firm


def _moment(rng: random.Random, day: date) -> datetime:
    """A moment in office hours (08:30–17:30) on `day`."""
    start = datetime.combine(day, time(8, 30), tzinfo=SHANGHAI)
    return start + timedelta(seconds=rng.randrange(9 * 3600))


def _weeks(start: datetime, end: datetime) -> list[tuple[date, date]]:
    """The Monday-to-Sunday weeks from `start` to `end`."""
    monday = start.date() - timedelta(days=start.weekday())
    weeks = []
    while monday <= end.date():
        weeks.append((monday, monday + timedelta(days=6)))
        monday += timedelta(weeks=1)
    return weeks


def _approvals(
    rng: random.Random, calendar: WorkCalendar, start: datetime, end: datetime
) -> list[tuple[ProjectType, date]]:
    """Each project's type and approval day, week by week, with the season's factor."""
    drawn: list[tuple[ProjectType, date]] = []
    for monday, sunday in _weeks(start, end):
        days = [
            d
            for d in calendar.working_days_after(monday - timedelta(days=1), sunday)
            if start.date() <= d <= end.date()
        ]
        if not days:
            continue
        month = (monday + timedelta(days=3)).month
        for kind, mean in WEEKLY_MEAN.items():
            factor = SEASON[month] * len(days) / 5
            if kind is ProjectType.area_capacity_increase:
                factor *= CAPACITY_SEASON[month]
            drawn += [(kind, rng.choice(days)) for _ in range(_poisson(rng, mean * factor))]
    early = [d for d in calendar.working_days_after(start.date(), start.date() + timedelta(150))]
    for kind, count in YEARLY_HIGH_VOLTAGE.items():
        drawn += [(kind, rng.choice(early)) for _ in range(count)]
    return sorted(drawn, key=lambda pair: pair[1])


def sample_history(
    *,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    seed: int = SEED,
    start: datetime = HISTORY_FROM,
    end: datetime = HISTORY_TO,
) -> SampleHistory:
    """Draw the year of projects submitted after `start` and before `end` (deterministic).

    A project whose deadline would fall in a year the calendar does not hold is left out (the
    last weeks' 10 kV projects may reach into next year)."""
    rng = random.Random(seed)
    history = SampleHistory(start=start, end=end)
    locations = list(LOCATIONS)
    weights = [LOCATIONS[loc][1] for loc in locations]
    serial: dict[str, int] = {}
    for kind, approved in _approvals(rng, calendar, start, end):
        location = rng.choices(locations, weights)[0]
        name, customer = _name(rng, kind, location)
        completion = (
            approved + timedelta(days=rng.randint(180, 300)) if kind in COMPLETION_TYPES else None
        )
        lines = _lines(rng, ITEMS[kind])
        if kind in URGENT_TYPES:
            submitted = _moment(rng, approved)
        else:
            submitted = _moment(rng, calendar.add_working_days(approved, rng.randint(0, 3)))
        if not (start < submitted < end) or not lines:
            continue
        try:
            dates = build_deadline(
                kind, approved=approved, completion=completion, calendar=calendar, policy=policy
            )
        except CalendarError:
            continue
        short = LOCATIONS[location][2]
        serial[short] = serial.get(short, 0) + 1
        history.projects.append(
            HistoryProject(
                id=f"YK{approved.year % 100:02d}-{short}-H{serial[short]:04d}",
                name=name,
                customer=customer,
                project_type=kind,
                voltage_class=TYPE_VOLTAGES[kind][0].value,
                location=location,
                approved_on=approved,
                completion_date=completion,
                deadline=dates.deadline,
                need_by=dates.need_by,
                priority=Priority.CITY_KEY if rng.random() < CITY_KEY_SHARE else Priority.NORMAL,
                submitted_at=submitted,
                lines=lines,
            )
        )
    history.projects.sort(key=lambda p: (p.submitted_at, p.id))
    return history


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    """What loading the history created."""

    projects: int
    lines: int
    start: datetime
    end: datetime


def load_sample_history(
    *, session: Session, history: SampleHistory, now: datetime, user: str = GENERATED_BY
) -> LoadedHistory:
    """Write the history's projects (completed) and lines (issued) in one transaction, with
    one audit event for the load; rows are inserted in bulk (thousands of them)."""
    units = units_by_location(session)
    projects = [
        {
            "id": p.id,
            "name": p.name,
            "customer": p.customer,
            "project_type": p.project_type.value,
            "voltage_class": p.voltage_class,
            "location": p.location,
            "approved_on": p.approved_on,
            "completion_date": p.completion_date,
            "package_id": None,
            "priority": p.priority.value,
            "unit": units.get(p.location),
            "manager": None,
            "status": ProjectStatus.COMPLETED.value,
            "deadline": p.deadline,
            "need_by": p.need_by,
            "created_at": p.submitted_at,
            "created_by": user,
            "updated_at": p.submitted_at,
        }
        for p in history.projects
    ]
    lines = [
        {
            "project_id": p.id,
            "line_no": line.line_no,
            "material_code": line.material_code,
            "quantity": line.quantity,
            "need_by_override": None,
            "override_reason": "",
            "feasibility_listed": False,
            "status": DemandStatus.ISSUED.value,
            "covered": line.quantity,
            "submitted_at": p.submitted_at,
            "submitted_by": user,
        }
        for p in history.projects
        for line in p.lines
    ]
    connection = session.connection()
    connection.execute(insert(Project.__table__), projects)  # type: ignore[attr-defined]
    connection.execute(insert(DemandLine.__table__), lines)  # type: ignore[attr-defined]
    record(
        session, actor=user, action="sample.history", object_type="project",
        object_id=f"{history.start:%Y-%m-%d}..{history.end:%Y-%m-%d}",
        after={"projects": len(projects), "lines": len(lines), "generated": True},
        at=now,
    )  # fmt: skip
    session.commit()
    return LoadedHistory(
        projects=len(projects), lines=len(lines), start=history.start, end=history.end
    )
