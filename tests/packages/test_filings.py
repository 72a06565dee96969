"""Filings (先实施、后备案) on SQLite and PostgreSQL: due dates by the working-day calendar, the
status moving with the clock, one open filing per project, filing with the province's reference."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from supply.calendar_store import load_calendar
from supply.core.clock import SHANGHAI
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.packages.budget import budget_check
from supply.packages.filings import (
    file_filing,
    filing_status,
    list_filings,
    record_filings,
)
from supply.packages.models import Filing, FilingStatus
from supply.policy import DeadlinePolicy
from tests.packages.world import build_budget_world

D = Decimal
CALENDAR = load_calendar()
POLICY = DeadlinePolicy()
NOW = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(session: Session) -> Session:
    build_budget_world(session)
    return session


def record(
    session: Session, additions: dict[str, Decimal], review: date = date(2026, 9, 30)
) -> list[Filing]:
    warnings = budget_check(session=session, additions=additions)
    filings = record_filings(
        session=session,
        warnings=warnings,
        review_date=review,
        now=NOW,
        by="发展部 张工",
        calendar=CALENDAR,
        policy=POLICY,
    )
    session.commit()
    return filings


def test_a_filing_reviewed_before_national_day_is_due_after_it(world: Session) -> None:
    [filing] = record(world, {"P3": D(600)})
    # Reviewed Wed 2026-09-30; 10-01..10-07 are the National Day holiday: the 2nd working day
    # after the review is Fri 10-09.
    assert (filing.package_id, filing.project_id, filing.overrun) == ("PK-B", "P3", D(100))
    assert (filing.review_on, filing.due_on) == (date(2026, 9, 30), date(2026, 10, 9))
    assert filing.created_by == "发展部 张工" and filing.filed_at is None
    # A review on an ordinary Monday is due on the Wednesday.
    [other] = record(world, {"P1": D(1)}, review=date(2026, 11, 23))
    assert (other.project_id, other.due_on) == ("P1", date(2026, 11, 25))


def test_the_status_moves_with_the_clock(world: Session) -> None:
    [filing] = record(world, {"P3": D(600)})
    assert filing_status(filing, today=date(2026, 10, 8)) == FilingStatus.DUE
    assert filing_status(filing, today=date(2026, 10, 9)) == FilingStatus.DUE  # the due day
    assert filing_status(filing, today=date(2026, 10, 10)) == FilingStatus.OVERDUE

    def ids(today: date, **filters: object) -> list[int]:
        return [f.id for f in list_filings(session=world, today=today, **filters).items]  # type: ignore[arg-type]

    # Monday 10-05: due this week (by Sunday 10-11), not overdue.
    assert ids(date(2026, 10, 5), due_this_week=True) == [filing.id]
    assert ids(date(2026, 10, 5), overdue=True) == []
    # The Monday before: due the week after, so not this week's.
    assert ids(date(2026, 9, 28), due_this_week=True) == []
    # Saturday 10-10 (a make-up working day): overdue, no longer "due".
    assert ids(date(2026, 10, 10), overdue=True) == [filing.id]
    assert ids(date(2026, 10, 10), due_this_week=True) == []
    assert ids(date(2026, 10, 10), due_this_week=True, overdue=True) == [filing.id]
    [shown] = list_filings(session=world, today=date(2026, 10, 10)).items
    assert (shown.status, shown.package_name, shown.project_name) == (
        FilingStatus.OVERDUE,
        "PK-B 项目包",
        "项目 P3",
    )
    assert ids(date(2026, 10, 10), status=FilingStatus.DUE) == []
    assert ids(date(2026, 10, 9), status=FilingStatus.DUE) == [filing.id]

    file_filing(
        session=world,
        filing_id=filing.id or 0,
        reference="鲁电发展备〔2026〕18号",
        by="张工",
        now=datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI),
    )
    assert ids(date(2026, 10, 12), overdue=True) == []
    assert ids(date(2026, 10, 12), status=FilingStatus.FILED) == [filing.id]


def test_a_second_check_updates_the_open_filing_instead_of_adding_one(world: Session) -> None:
    [first] = record(world, {"P3": D(600)})
    [again] = record(world, {"P3": D(750)}, review=date(2026, 10, 9))
    assert again.id == first.id
    world.expire_all()
    [only] = world.exec(select(Filing)).all()
    # The amount follows the latest check; the review and due dates stay the first review's.
    assert (only.overrun, only.review_on, only.due_on) == (
        D(250),
        date(2026, 9, 30),
        date(2026, 10, 9),
    )
    assert list_filings(session=world, today=date(2026, 10, 1)).total == 1


def test_once_filed_only_a_larger_overrun_opens_a_new_filing(world: Session) -> None:
    [first] = record(world, {"P3": D(600)})
    file_filing(session=world, filing_id=first.id or 0, reference="备-1", by="张工", now=NOW)
    assert record(world, {"P3": D(550)}) == []  # 50 over: already filed for 100
    [second] = record(world, {"P3": D(700)})  # 200 over: more than was filed
    assert second.id != first.id and second.overrun == D(200) and second.filed_at is None
    assert len(world.exec(select(Filing)).all()) == 2


def test_filing_takes_a_reference_once(world: Session) -> None:
    [filing] = record(world, {"P3": D(600)})
    filed = file_filing(
        session=world, filing_id=filing.id or 0, reference="  备-7 ", by="张工", now=NOW
    )
    assert (filed.reference, filed.filed_by, filed.filed_at) == ("备-7", "张工", NOW)
    with pytest.raises(Conflict, match="already filed by 张工 \\(reference 备-7\\)"):
        file_filing(session=world, filing_id=filing.id or 0, reference="备-8", by="李", now=NOW)
    with pytest.raises(NotFound, match="filing 999 does not exist"):
        file_filing(session=world, filing_id=999, reference="x", by="李", now=NOW)
    with pytest.raises(InvalidInput, match="reference number"):
        file_filing(session=world, filing_id=filing.id or 0, reference="  ", by="李", now=NOW)


def test_the_database_keeps_one_open_filing_per_project(world: Session) -> None:
    def open_filing() -> Filing:
        return Filing(
            package_id="PK-B",
            project_id="P3",
            overrun=D(1),
            review_on=date(2026, 9, 30),
            due_on=date(2026, 10, 9),
            created_at=NOW,
            created_by="x",
            updated_at=NOW,
        )

    world.add(open_filing())
    world.commit()
    world.add(open_filing())
    with pytest.raises(IntegrityError):
        world.commit()
    world.rollback()
    filed = open_filing()
    filed.filed_at, filed.reference = NOW, "备-2"
    world.add(filed)
    world.commit()  # a filed one beside the open one is fine
    assert len(world.exec(select(Filing)).all()) == 2
