"""A filing due the Tuesday after the 2026 Spring Festival is reminded before the holiday: the
reminder window counts working days on the calendar (cn-2026: 02-14 Sat is worked, 02-15 to
02-23 are off), not calendar days."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supply.core.clock import SHANGHAI
from supply.notifications.models import Notification
from tests.jobs.conftest import job
from tests.jobs.test_filings_mail import add_filing
from tests.packages.world import build_budget_world
from tests.signin import make_user

DUE = date(2026, 2, 24)  # the Tuesday after the holiday


def at(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=SHANGHAI)


def test_a_filing_due_after_the_holiday_is_reminded_before_it(session: Session) -> None:
    build_budget_world(session)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    make_user(engine, "zhang", ("development",), now=at(date(2026, 2, 1)))
    filing = add_filing(session, "PK-B", "P3", date(2026, 2, 10), DUE)
    key = f"filing.due:{filing}"

    def reminded() -> list[Notification]:
        with Session(engine) as s:
            return list(s.exec(select(Notification).where(Notification.key == key)))

    outcomes = {}
    for day in range(12, 25):  # every day from Thu 02-12 to the due day, as the scheduler runs
        today = date(2026, 2, day)
        attempt = job("filings", engine, at(today))
        outcomes[today] = attempt.outcome
        if today == date(2026, 2, 12):  # 3 working days left (02-13, 02-14, 02-24): not yet
            assert reminded() == []
    [notification] = reminded()
    # First reminded on Fri 02-13, two working days before the due day (02-14 and 02-24) —
    # eleven calendar days before it, before the holiday; not again on the make-up Saturday or
    # after the holiday.
    assert notification.created_at.astimezone(SHANGHAI).date() == date(2026, 2, 13)
    assert (DUE - date(2026, 2, 13)).days == 11
    assert "2026-02-24" in notification.title and "2 working day" in notification.body
    # The holiday's days are not working days: the job reminds nobody on them.
    assert {outcomes[date(2026, 2, d)] for d in range(15, 24)} == {"skipped"}
    assert outcomes[date(2026, 2, 14)] == "ran" and outcomes[DUE] == "ran"
    assert notification.login == "zhang" and notification.kind == "filing.due"
