"""Demand lines on SQLite and PostgreSQL: numbering, submission moment, R1.4, overrides, states."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from catalogs.models import AgreementLine, Material
from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.demand.models import DemandLine, DemandLineCreate, DemandLineUpdate, DemandStatus
from supply.demand.service import (
    add_lines,
    cancel_line,
    catalogued_materials,
    list_lines,
    need_by,
    project_detail,
    update_line,
)
from supply.policy import DeadlinePolicy
from supply.projects.models import ProjectCreate
from supply.projects.service import cancel_project, create_project, get_project_or_raise

NOW = datetime(2026, 11, 26, 10, 15, 30, 123456, tzinfo=SHANGHAI)
DEADLINE, NEED_BY = date(2026, 12, 7), date(2026, 11, 30)  # area_new approved 2026-11-16


@pytest.fixture
def project(catalog_session: Session) -> Session:
    """The sample catalogs with one new transformer area project, P-1."""
    create_project(
        session=catalog_session,
        project=ProjectCreate(
            id="P-1",
            name="新建台区",
            project_type="area_new",
            location="wendeng",
            approved_on=date(2026, 11, 16),
        ),
        calendar=default_calendar(),
        policy=DeadlinePolicy(),
        now=NOW,
        user="李工",
    )
    return catalog_session


def add(session: Session, *lines: DemandLineCreate, now: datetime = NOW) -> list[DemandLine]:
    return add_lines(session=session, project_id="P-1", lines=lines, now=now, user="王工")


def line(code: str = "DT-OIL-S13-400", quantity: int = 1, **extra: object) -> DemandLineCreate:
    return DemandLineCreate(material_code=code, quantity=quantity, **extra)  # type: ignore[arg-type]


def test_lines_are_numbered_on_and_submitted_at_the_moment_given(project: Session) -> None:
    first = add(project, line(), line("JP-400"))
    later = add(project, line("MTR-1P-SMART", 24, line_no=10), line("FUSE-HRW12-200", 3))
    assert [x.line_no for x in first + later] == [1, 2, 10, 11]
    project.expire_all()
    stored = project.exec(select(DemandLine).order_by(DemandLine.line_no)).all()
    assert {x.submitted_at for x in stored} == {NOW.replace(microsecond=0)}  # to the second
    assert {x.submitted_by for x in stored} == {"王工"} and {x.status for x in stored} == {"open"}
    detail = project_detail(session=project, project_id="P-1")
    assert [x.need_by for x in detail.lines] == [NEED_BY] * 4


def test_a_taken_line_number_rejects_the_whole_submission(project: Session) -> None:
    add(project, line())
    with pytest.raises(Conflict, match="already has line 1"):
        add(project, line("JP-400", line_no=2), line("JP-400", line_no=1))
    assert len(project.exec(select(DemandLine)).all()) == 1


def test_a_material_outside_every_catalog_needs_the_feasibility_listing(
    project: Session,
) -> None:
    project.add(
        Material(
            code="SVG-10-2000",
            name_zh="10kV静止无功发生器",
            unit="台",
            voltage_class="10kV",
            standard_price=Decimal(380000),
            emergency_lead_days=75,
            emergency_premium_pct=35,
            updated_at=NOW,
        )
    )
    project.commit()
    with pytest.raises(InvalidInput) as caught:
        add(project, line("SVG-10-2000"))
    assert "SVG-10-2000" in caught.value.message and "可研阶段列明" in caught.value.message
    assert caught.value.loc == ("lines", 0, "material_code")
    [listed] = add(project, line("SVG-10-2000", feasibility_listed=True))
    assert listed.feasibility_listed
    with pytest.raises(InvalidInput, match="TR-999 is not in the material master"):
        add(project, line("TR-999"))


def test_an_agreement_line_counts_as_a_catalog_only_while_it_serves(project: Session) -> None:
    today = NOW.date()
    project.add(
        Material(
            code="X-AGR",
            name_zh="协议物资",
            unit="台",
            voltage_class="10kV",
            standard_price=Decimal(100),
            emergency_lead_days=30,
            emergency_premium_pct=20,
            updated_at=NOW,
        )
    )
    project.commit()  # the material first: no ORM relationship orders the inserts
    agreement = AgreementLine(
        agreement_no="A-1",
        line_no=1,
        supplier="某公司",
        material_code="X-AGR",
        unit_price=Decimal(90),
        estimated_quantity=10,
        ordered_quantity=12,  # at the upper band (120 %): serves nothing
        valid_from=today - timedelta(days=10),
        valid_to=today + timedelta(days=10),
        lead_days=10,
        delivery_warehouse_id="WH-CENTRAL",
        updated_at=NOW,
    )
    project.add(agreement)
    project.commit()
    assert "X-AGR" not in catalogued_materials(session=project, today=today)
    agreement.ordered_quantity = 11
    project.add(agreement)
    project.commit()
    assert "X-AGR" in catalogued_materials(session=project, today=today)
    assert "X-AGR" not in catalogued_materials(session=project, today=today + timedelta(days=11))
    # Reserve-catalog, quota, agreement and consignment materials of the sample all count.
    assert {"MTR-1P-SMART", "PT110-SZ11-50000", "XARM-63-1500"} <= catalogued_materials(
        session=project, today=today
    )


def test_a_need_by_set_by_hand_needs_a_reason_and_clearing_it_clears_the_reason(
    project: Session,
) -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        add(project, line(need_by_override=date(2026, 12, 4)))
    [meters] = add(
        project,
        line(
            "MTR-1P-SMART", 40, need_by_override=date(2026, 12, 4), override_reason="送电当日装表"
        ),
    )
    p = get_project_or_raise(session=project, project_id="P-1")
    assert need_by(meters, p) == date(2026, 12, 4)
    with pytest.raises(InvalidInput, match="must fall between approval"):
        update_line(
            session=project,
            project_id="P-1",
            line_no=1,
            changes=DemandLineUpdate(need_by_override=DEADLINE + timedelta(days=1)),
            now=NOW,
            user="test",
        )
    cleared = update_line(
        session=project,
        project_id="P-1",
        line_no=1,
        changes=DemandLineUpdate(need_by_override=None, quantity=48),
        now=NOW,
        user="test",
    )
    assert (cleared.need_by_override, cleared.override_reason, cleared.quantity) == (None, "", 48)
    assert need_by(cleared, p) == NEED_BY


def test_only_an_open_line_changes_and_only_open_or_planned_lines_are_cancelled(
    project: Session,
) -> None:
    first, second, third = add(project, line(), line("JP-400"), line("FUSE-HRW12-200", 3))
    first.status, second.status = DemandStatus.PLANNED, DemandStatus.HELD
    project.add_all([first, second])
    project.commit()
    with pytest.raises(Conflict, match="line 1 of project P-1 is planned"):
        update_line(
            session=project,
            project_id="P-1",
            line_no=1,
            changes=DemandLineUpdate(quantity=2),
            now=NOW,
            user="test",
        )
    assert (
        cancel_line(session=project, project_id="P-1", line_no=1, now=NOW, user="test").status
        == "cancelled"
    )
    with pytest.raises(Conflict, match="is already cancelled"):
        cancel_line(session=project, project_id="P-1", line_no=1, now=NOW, user="test")
    with pytest.raises(Conflict, match="release the hold first"):
        cancel_line(session=project, project_id="P-1", line_no=2, now=NOW, user="test")
    with pytest.raises(NotFound, match="has no line 9"):
        cancel_line(session=project, project_id="P-1", line_no=9, now=NOW, user="test")
    assert third.status == "open"


def test_a_cancelled_project_takes_no_more_lines(project: Session) -> None:
    cancel_project(session=project, project_id="P-1", now=NOW, user="test")
    with pytest.raises(Conflict, match="its lines cannot be added or changed"):
        add(project, line())


def test_lines_are_listed_by_project_status_material_and_submission(project: Session) -> None:
    cutoff = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    add(project, line(), line("JP-400"), now=cutoff - timedelta(seconds=1))
    add(project, line("JP-400"), now=cutoff)  # at the cutoff exactly: not before it
    cancel_line(session=project, project_id="P-1", line_no=1, now=NOW, user="test")

    def numbers(**filters: object) -> list[int]:
        return [x.line_no for x in list_lines(session=project, **filters).items]  # type: ignore[arg-type]

    assert numbers() == [1, 2, 3] and numbers(project_id="P-2") == []
    assert numbers(material_code="JP-400") == [2, 3]
    assert numbers(status="open") == [2, 3] and numbers(status="cancelled") == [1]
    assert numbers(submitted_before=cutoff) == [1, 2]
    assert numbers(submitted_before=cutoff.astimezone(SHANGHAI).replace(second=1)) == [1, 2, 3]
    page = list_lines(session=project, offset=2, limit=1)
    assert (page.total, [x.line_no for x in page.items]) == (3, [3])
