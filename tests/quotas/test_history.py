"""The generated year of Weihai demand history: seeded, about 4,000 projects of the sample's mix
with the seasons in it, marked as generated; loaded as completed projects whose lines are
issued, so no weekly run, urgent request or budget counts them again."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.demand.models import DemandLine, DemandStatus
from supply.demand.queries import open_demand
from supply.policy import DeadlinePolicy, ProjectType
from supply.projects.models import Project, ProjectStatus
from supply.projects.service import summary_by_type
from supply.sample.history import (
    GENERATED_BY,
    HISTORY_FROM,
    HISTORY_TO,
    URGENT_TYPES,
    load_sample_history,
    sample_history,
)
from tests.audit import events

CALENDAR = default_calendar()
POLICY = DeadlinePolicy()


@pytest.fixture(scope="module")
def year():  # type: ignore[no-untyped-def]
    return sample_history(calendar=CALENDAR, policy=POLICY)


def test_the_year_is_seeded_and_covers_the_52_weeks_before_the_sample_week(year) -> None:  # type: ignore[no-untyped-def]
    again = sample_history(calendar=CALENDAR, policy=POLICY)
    assert [p.id for p in again.projects] == [p.id for p in year.projects]
    other = sample_history(calendar=CALENDAR, policy=POLICY, seed=1)
    assert [p.id for p in other.projects] != [p.id for p in year.projects]
    assert (HISTORY_FROM.date(), HISTORY_TO.date()) == (date(2025, 11, 24), date(2026, 11, 23))
    assert all(HISTORY_FROM <= p.submitted_at < HISTORY_TO for p in year.projects)
    assert 3_700 <= len(year.projects) <= 4_300
    assert 6 <= year.lines / len(year.projects) <= 8


def test_types_places_and_seasons_follow_the_sample(year) -> None:  # type: ignore[no-untyped-def]
    kinds = Counter(p.project_type for p in year.projects)
    assert kinds.most_common(1)[0][0] is ProjectType.lv_extension
    assert kinds[ProjectType.lv_extension] / len(year.projects) > 0.55
    assert 0 < kinds[ProjectType.hv_35kv] + kinds[ProjectType.hv_110kv] <= 10
    places = Counter(p.location for p in year.projects)
    assert places.most_common(1)[0][0] == "huancui"
    months = Counter(p.approved_on.month for p in year.projects)
    assert months[2] == min(months.values())  # the Spring Festival
    assert months[2] < 0.5 * months[6] and months[10] < months[9]  # and the National Day week
    increases = Counter(
        p.approved_on.month for p in year.projects
        if p.project_type is ProjectType.area_capacity_increase
    )  # fmt: skip
    assert increases[7] > increases[4]  # summer load
    assert all(CALENDAR.is_working_day(p.approved_on) for p in year.projects)


def test_short_deadline_work_comes_in_on_its_approval_day_with_derived_dates(year) -> None:  # type: ignore[no-untyped-def]
    for p in year.projects:
        assert "-H" in p.id
        if p.project_type in URGENT_TYPES:
            assert p.submitted_at.date() == p.approved_on
        assert p.approved_on <= p.need_by <= p.deadline
        assert p.deadline.year <= 2026  # the calendar ends there


def test_the_year_loads_as_completed_projects_with_issued_lines(
    catalog_engine: Engine, year
) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 30, 8, tzinfo=SHANGHAI)
    with Session(catalog_engine) as session:
        loaded = load_sample_history(session=session, history=year, now=now)
    assert (loaded.projects, loaded.lines) == (len(year.projects), year.lines)
    with Session(catalog_engine) as session:
        statuses = session.exec(select(Project.status, func.count()).group_by(Project.status)).all()
        assert statuses == [(ProjectStatus.COMPLETED, loaded.projects)]
        lines = session.exec(
            select(DemandLine.status, func.count(), func.sum(DemandLine.quantity - DemandLine.covered))
            .group_by(DemandLine.status)
        ).all()  # fmt: skip
        assert lines == [(DemandStatus.ISSUED, loaded.lines, 0)]
        assert {p.created_by for p in session.exec(select(Project))} == {GENERATED_BY}
        assert open_demand(session, cutoff=datetime(2026, 11, 30, 12, tzinfo=SHANGHAI)) == []
        assert summary_by_type(session=session, cutoff=HISTORY_TO) == []
        first = session.exec(select(func.min(DemandLine.submitted_at))).one()
        assert first >= HISTORY_FROM
        assert (
            session.exec(select(func.count()).where(col(Project.package_id).is_not(None))).one()
            == 0
        )
    [event] = events(catalog_engine, action="sample.history")
    assert event.after == {"projects": loaded.projects, "lines": loaded.lines, "generated": True}
    assert event.actor == GENERATED_BY
