"""A small history for the quota advisor's edges (HTTP, pages, command line): six weeks of
meter-front work at huancui, two lines a week — the replay of a year of it takes a moment."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.policy import ProjectType, build_deadline
from supply.projects.models import Priority
from supply.sample.history import (
    HISTORY_FROM,
    HISTORY_TO,
    HistoryLine,
    HistoryProject,
    SampleHistory,
    load_sample_history,
)

CALENDAR = default_calendar()
LOADED_AT = datetime(2026, 11, 30, 8, tzinfo=SHANGHAI)


def small_history(engine: Engine, *, weeks: int = 6) -> None:
    """Load `weeks` meter-front projects at huancui, one a week from 2026-03-04: 8 smart meters
    and 60 m of LV cable each."""
    history = SampleHistory(start=HISTORY_FROM, end=HISTORY_TO)
    for n in range(weeks):
        approved = date(2026, 3, 4) + timedelta(weeks=n)
        dates = build_deadline(ProjectType.lv_extension, approved=approved, calendar=CALENDAR)
        history.projects.append(
            HistoryProject(
                id=f"YK26-HC-H9{n:03d}", name=f"环翠区测试低压接入工程{n}", customer="某某",
                project_type=ProjectType.lv_extension, voltage_class="0.4kV", location="huancui",
                approved_on=approved, completion_date=None, deadline=dates.deadline,
                need_by=dates.need_by, priority=Priority.NORMAL,
                submitted_at=datetime.combine(approved, time(10), tzinfo=SHANGHAI),
                lines=(HistoryLine(1, "MTR-1P-SMART", 8), HistoryLine(2, "CBLV-4x50", 60)),
            )
        )  # fmt: skip
    with Session(engine) as session:
        load_sample_history(session=session, history=history, now=LOADED_AT)
