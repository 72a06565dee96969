"""Project services on SQLite and PostgreSQL: derived dates, references, updates, state changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from supply.calendar import WorkCalendar, default_calendar, library_arrangements
from supply.core.clock import SHANGHAI
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.demand.models import DemandLine, DemandLineCreate, DemandStatus
from supply.demand.service import add_lines
from supply.packages.models import PackageCreate
from supply.packages.service import create_package
from supply.policy import DeadlinePolicy
from supply.projects.models import Project, ProjectCreate, ProjectStatus, ProjectUpdate
from supply.projects.service import (
    cancel_project,
    complete_project,
    create_project,
    get_project_or_raise,
    list_projects,
    refresh_derived_dates,
    update_project,
)

CALENDAR = default_calendar()
POLICY = DeadlinePolicy()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


def new_project(session: Session, **changes: Any) -> Project:
    """Create a project through the service (a new transformer area in Huancui by default)."""
    values: dict[str, Any] = {
        "id": "P-1",
        "name": "鲸园街道海景花园新建台区工程",
        "project_type": "area_new",
        "location": "huancui",
        "approved_on": date(2026, 9, 28),
    } | changes
    return create_project(
        session=session,
        project=ProjectCreate(**values),
        calendar=CALENDAR,
        policy=POLICY,
        now=NOW,
        user="李工",
    )


def lines_for(session: Session, project_id: str, *codes: str) -> list[DemandLine]:
    return add_lines(
        session=session,
        project_id=project_id,
        lines=[DemandLineCreate(material_code=code, quantity=2) for code in codes],
        now=NOW,
        user="李工",
    )


def test_a_created_project_has_derived_dates_and_the_type_s_voltage(
    catalog_session: Session,
) -> None:
    project = new_project(catalog_session, customer="海景花园业主委员会")
    catalog_session.expire_all()
    stored = get_project_or_raise(session=catalog_session, project_id="P-1")
    assert (stored.deadline, stored.need_by) == (date(2026, 10, 23), date(2026, 10, 16))
    assert stored.voltage_class == "10kV" and stored.status == ProjectStatus.ACTIVE
    assert (stored.created_by, stored.created_at) == ("李工", NOW)
    assert project.priority == "normal"
    with pytest.raises(NotFound, match="P-2"):
        get_project_or_raise(session=catalog_session, project_id="P-2")


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"location": "mars"}, InvalidInput, "location mars has no transport days"),
        ({"package_id": "PK-9"}, InvalidInput, "project package PK-9 does not exist"),
        ({"approved_on": date(2026, 12, 21)}, InvalidInput, "calendar is loaded for 2027"),
        ({"project_type": "hv_35kv"}, InvalidInput, "needs the customer's completion date"),
        ({"voltage_class": "35kV"}, InvalidInput, "not 35kV"),
    ],
)
def test_a_project_that_cannot_be_built_as_given_is_refused_and_nothing_written(
    catalog_session: Session, changes: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        new_project(catalog_session, **changes)
    assert catalog_session.exec(select(Project)).first() is None


def test_a_project_id_is_used_once(catalog_session: Session) -> None:
    new_project(catalog_session)
    with pytest.raises(Conflict, match="P-1 already exists"):
        new_project(catalog_session, name="另一个")


def test_an_update_derives_the_dates_again_and_keeps_a_voltage_the_new_type_allows(
    catalog_session: Session,
) -> None:
    new_project(catalog_session, voltage_class="0.4kV")
    changed = update_project(
        session=catalog_session,
        project_id="P-1",
        changes=ProjectUpdate(
            project_type="area_capacity_increase", approved_on=date(2026, 11, 23)
        ),
        calendar=CALENDAR,
        policy=POLICY,
        now=NOW,
        user="test",
    )
    assert changed.voltage_class == "0.4kV"  # a transformer area may be recorded at 0.4 kV
    assert (changed.deadline, changed.need_by) == (date(2026, 12, 3), date(2026, 11, 30))
    changed = update_project(
        session=catalog_session,
        project_id="P-1",
        changes=ProjectUpdate(project_type="mv_10kv"),
        calendar=CALENDAR,
        policy=POLICY,
        now=NOW,
        user="test",
    )
    assert changed.voltage_class == "10kV"  # 0.4 kV is not allowed for 10 kV work: the default


def test_a_refused_update_changes_nothing(catalog_session: Session) -> None:
    new_project(catalog_session)
    with pytest.raises(InvalidInput, match="completion date"):
        update_project(
            session=catalog_session,
            project_id="P-1",
            changes=ProjectUpdate(project_type="hv_110kv", name="改名"),
            calendar=CALENDAR,
            policy=POLICY,
            now=NOW,
            user="test",
        )
    catalog_session.expire_all()
    stored = get_project_or_raise(session=catalog_session, project_id="P-1")
    assert (stored.project_type, stored.name) == ("area_new", "鲸园街道海景花园新建台区工程")
    with pytest.raises(InvalidInput, match="cannot be null"):
        update_project(
            session=catalog_session,
            project_id="P-1",
            changes=ProjectUpdate(approved_on=None),
            calendar=CALENDAR,
            policy=POLICY,
            now=NOW,
            user="test",
        )


def test_projects_are_listed_by_need_by_with_filters_and_pages(catalog_session: Session) -> None:
    create_package(
        session=catalog_session,
        package=PackageCreate(id="PK-1", name="包", year=2026, budget=1),
        now=NOW,
        user="test",
    )
    new_project(catalog_session, id="A", approved_on=date(2026, 11, 16))
    new_project(
        catalog_session,
        id="B",
        project_type="lv_extension",
        location="wendeng",
        approved_on=date(2026, 11, 26),
        package_id="PK-1",
        priority="city_key",
    )
    new_project(
        catalog_session,
        id="C",
        name="荣成某公司10千伏工程",
        project_type="mv_10kv",
        location="rongcheng",
        approved_on=date(2026, 11, 12),
    )

    def ids(**filters: Any) -> list[str]:
        return [p.id for p in list_projects(session=catalog_session, **filters).items]

    assert ids() == ["A", "B", "C"]  # need-by Nov 30, Dec 1, Dec 1 (then by id)
    assert ids(project_type="lv_extension") == ["B"]
    assert ids(location="rongcheng") == ["C"] and ids(q="荣成") == ["C"] and ids(q="b") == ["B"]
    assert ids(package_id="PK-1") == ids(priority="city_key") == ["B"]
    page = list_projects(session=catalog_session, offset=1, limit=1)
    assert [p.id for p in page.items] == ["B"] and page.total == 3
    cancel_project(session=catalog_session, project_id="A", now=NOW, user="test")
    assert ids(status="active") == ["B", "C"] and ids(status="cancelled") == ["A"]
    with pytest.raises(InvalidInput, match="limit"):
        list_projects(session=catalog_session, limit=0)


def test_cancelling_a_project_cancels_its_open_lines_unless_stock_is_held(
    catalog_session: Session,
) -> None:
    new_project(catalog_session)
    _first, second = lines_for(catalog_session, "P-1", "DT-OIL-S13-400", "JP-400")
    second.status = DemandStatus.HELD
    catalog_session.add(second)
    catalog_session.commit()
    with pytest.raises(Conflict, match=r"lines 2\(held\) of project P-1 are held or issued"):
        cancel_project(session=catalog_session, project_id="P-1", now=NOW, user="test")
    second.status = DemandStatus.PLANNED
    catalog_session.add(second)
    catalog_session.commit()
    cancelled = cancel_project(session=catalog_session, project_id="P-1", now=NOW, user="test")
    assert cancelled.status == ProjectStatus.CANCELLED
    statuses = catalog_session.exec(select(DemandLine.status).order_by(DemandLine.line_no)).all()
    assert statuses == ["cancelled", "cancelled"]
    with pytest.raises(Conflict, match="P-1 is cancelled; it cannot be cancelled"):
        cancel_project(session=catalog_session, project_id="P-1", now=NOW, user="test")
    with pytest.raises(Conflict, match="cannot be changed"):
        update_project(
            session=catalog_session,
            project_id="P-1",
            changes=ProjectUpdate(name="x"),
            calendar=CALENDAR,
            policy=POLICY,
            now=NOW,
            user="test",
        )


def test_a_project_is_completed_only_when_every_line_is_issued_or_cancelled(
    catalog_session: Session,
) -> None:
    new_project(catalog_session)
    first, second = lines_for(catalog_session, "P-1", "DT-OIL-S13-400", "JP-400")
    with pytest.raises(Conflict, match=r"still has lines 1\(open\), 2\(open\) not issued"):
        complete_project(session=catalog_session, project_id="P-1", now=NOW, user="test")
    first.status, second.status = DemandStatus.ISSUED, DemandStatus.CANCELLED
    catalog_session.add_all([first, second])
    catalog_session.commit()
    done = complete_project(session=catalog_session, project_id="P-1", now=NOW, user="test")
    assert done.status == ProjectStatus.COMPLETED


def test_refreshing_derived_dates_applies_a_changed_policy_to_active_projects(
    catalog_session: Session,
) -> None:
    new_project(catalog_session, id="A")
    new_project(catalog_session, id="B")
    cancel_project(session=catalog_session, project_id="B", now=NOW, user="test")
    slower = DeadlinePolicy(install_working_days={"area_new": 6})
    assert refresh_derived_dates(session=catalog_session, calendar=CALENDAR, policy=slower) == 1
    catalog_session.commit()
    catalog_session.expire_all()
    a = get_project_or_raise(session=catalog_session, project_id="A")
    b = get_project_or_raise(session=catalog_session, project_id="B")
    assert (a.deadline, a.need_by) == (date(2026, 10, 23), date(2026, 10, 15))
    assert b.need_by == date(2026, 10, 16)  # cancelled: left as it was
    assert refresh_derived_dates(session=catalog_session, calendar=CALENDAR, policy=slower) == 0


def test_refreshing_names_every_project_whose_calendar_year_is_missing(
    catalog_session: Session,
) -> None:
    new_project(catalog_session, id="A")
    new_project(catalog_session, id="B", approved_on=date(2026, 11, 16))
    only_2025: WorkCalendar = WorkCalendar.from_arrangements(
        a for a in library_arrangements() if a.year == 2025
    )
    with pytest.raises(InvalidInput) as caught:
        refresh_derived_dates(session=catalog_session, calendar=only_2025, policy=POLICY)
    assert "2 project(s)" in caught.value.message
    assert "A: " in caught.value.message and "B: " in caught.value.message
    assert "2026" in caught.value.message
