"""The sample week of projects: deterministic, realistic, inside the loaded calendar, loadable."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select

from catalogs.importing import import_catalog
from catalogs.models import CatalogKind
from supply.calendar import default_calendar
from supply.demand.models import DemandLine
from supply.demand.service import catalogued_materials, list_lines
from supply.policy import DeadlinePolicy, ProjectType, batch_for
from supply.projects.importing import import_projects
from supply.projects.models import Priority, Project
from supply.projects.rules import derive_project
from supply.projects.service import summary_by_type
from supply.sample.week import (
    PREVIOUS_CUTOFF,
    SAMPLE_CUTOFF,
    SAMPLE_DAY,
    SAMPLE_LOADED_AT,
    SPECIAL_MATERIALS,
    sample_week,
    sample_workbook,
)

CALENDAR = default_calendar()


def test_the_sample_batch_is_2026_w49_cutting_off_monday_noon() -> None:
    batch = batch_for(SAMPLE_CUTOFF - timedelta(seconds=1), calendar=CALENDAR)
    assert (batch.id, batch.cutoff) == ("2026-W49", SAMPLE_CUTOFF)
    assert batch_for(PREVIOUS_CUTOFF, calendar=CALENDAR).id == "2026-W49"
    assert batch_for(SAMPLE_CUTOFF, calendar=CALENDAR).id == "2026-W50"


def test_the_same_seed_gives_the_same_week_and_another_seed_another() -> None:
    week = sample_week(calendar=CALENDAR)
    assert week == sample_week(calendar=CALENDAR)
    assert week.projects != sample_week(calendar=CALENDAR, seed=7).projects


def test_the_week_has_every_type_in_weihai_proportions_and_its_key_projects() -> None:
    week = sample_week(calendar=CALENDAR)
    kinds = Counter(p.project_type for p in week.projects)
    assert 60 <= len(week.projects) <= 90 and set(kinds) == set(ProjectType)
    assert kinds[ProjectType.lv_extension] / len(week.projects) > 0.55  # mostly 5-day work
    assert kinds[ProjectType.hv_35kv] + kinds[ProjectType.hv_110kv] == 3
    assert all(p.completion_date for p in week.projects if p.project_type.startswith("hv_"))
    priorities = Counter(p.priority for p in week.projects)
    assert priorities[Priority.PROVINCIAL_KEY] >= 1 and priorities[Priority.CITY_KEY] >= 2
    assert len({p.location for p in week.projects}) == 9
    urgent = [
        p
        for p in week.projects
        if p.project_type in ("lv_extension", "area_capacity_increase")
        and p.approved_on.isoformat() >= "2026-11-25"
    ]
    assert len(urgent) >= 10


def test_every_derived_deadline_and_need_by_falls_in_the_loaded_2026_calendar() -> None:
    for project in sample_week(calendar=CALENDAR).projects:
        derived, problems = derive_project(
            project.project_type,
            voltage_class=project.voltage_class,
            approved_on=project.approved_on,
            completion_date=project.completion_date,
            calendar=CALENDAR,
            policy=DeadlinePolicy(),
        )
        assert problems == [], project.id
        assert derived is not None
        assert derived.deadline.year == derived.need_by.year == 2026, project.id


def test_lines_come_in_during_the_week_and_three_at_or_after_the_cutoff() -> None:
    week = sample_week(calendar=CALENDAR)
    after = [s for s in week.submissions if s.at >= SAMPLE_CUTOFF]
    assert sum(len(s.lines) for s in after) == 3
    assert min(s.at for s in after) == SAMPLE_CUTOFF  # one exactly at 12:00:00: next week
    assert max(s.at for s in week.submissions if s.at < SAMPLE_CUTOFF) == SAMPLE_CUTOFF - timedelta(
        seconds=1
    )
    assert all(PREVIOUS_CUTOFF <= s.at <= SAMPLE_LOADED_AT for s in week.submissions)
    listed = [line for s in week.submissions for line in s.lines if line.feasibility_listed]
    assert {line.material_code for line in listed} == {m["code"] for m in SPECIAL_MATERIALS}
    overrides = [line for s in week.submissions for line in s.lines if line.need_by_override]
    assert overrides and all(line.override_reason for line in overrides)


def test_the_week_session_holds_the_week_with_its_cutoff_membership(week_session: Session) -> None:
    week = sample_week(calendar=CALENDAR)
    total = sum(len(s.lines) for s in week.submissions)
    assert len(week_session.exec(select(Project)).all()) == len(week.projects)
    assert len(week_session.exec(select(DemandLine)).all()) == total
    before = list_lines(session=week_session, submitted_before=SAMPLE_CUTOFF, limit=1)
    assert before.total == total - 3
    special = {m["code"] for m in SPECIAL_MATERIALS}
    assert not special & catalogued_materials(session=week_session, today=SAMPLE_DAY)
    summary = {
        s.project_type: s for s in summary_by_type(session=week_session, cutoff=SAMPLE_CUTOFF)
    }
    assert summary["lv_extension"].lines_after == 2 and summary["area_new"].lines_after == 1
    assert max(s.latest_deadline for s in summary.values()).year == 2026


def test_the_sample_workbook_imports_through_the_ordinary_path(
    catalog_session: Session,
) -> None:
    files = sample_workbook(calendar=CALENDAR)
    import_catalog(
        session=catalog_session,
        kind=CatalogKind.MATERIALS,
        content=files["materials-special.xlsx"],
        file_name="materials-special.xlsx",
        imported_by="tester",
        now=SAMPLE_LOADED_AT,
    )
    report = import_projects(
        session=catalog_session,
        content=files["projects-2026-W49.xlsx"],
        file_name="projects-2026-W49.xlsx",
        calendar=CALENDAR,
        policy=DeadlinePolicy(),
        now=SAMPLE_LOADED_AT,
        user="tester",
    )
    week = sample_week(calendar=CALENDAR)
    assert (report.packages.inserted, report.projects.inserted, report.lines.inserted) == (
        len(week.packages),
        len(week.projects),
        sum(len(s.lines) for s in week.submissions),
    )
