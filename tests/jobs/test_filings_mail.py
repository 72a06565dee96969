"""The filings job against a real SMTP server on 127.0.0.1: the development department is
reminded of filings due soon and overdue (and packages over budget) in the app and by e-mail,
once; without a reachable server the reminders stay in the app, with the reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supply.auth.users import change_user
from supply.core.audit import AuditEvent
from supply.core.clock import SHANGHAI
from supply.jobs.models import JobRun
from supply.notifications.models import Notification
from supply.packages.models import Filing
from tests.jobs.conftest import Inbox, free_port, job
from tests.packages.world import build_budget_world
from tests.signin import make_user

T = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
TUESDAY = datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)


def add_filing(session: Session, package: str, project: str, review: date, due: date) -> int:
    filing = Filing(
        package_id=package, project_id=project, overrun=Decimal(100), review_on=review,
        due_on=due, created_at=T, created_by="发展部", updated_at=T,
    )  # fmt: skip
    session.add(filing)
    session.commit()
    assert filing.id is not None
    return filing.id


@pytest.fixture
def world(session: Session) -> Session:
    """The budget world (PK-A over budget), a filing due Wed 12-02 and one overdue since
    11-24; two development users (one with an e-mail address) and a planner with one."""
    build_budget_world(session)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    for login, role in (("zhang", "development"), ("zhao", "development"), ("li", "planner")):
        make_user(engine, login, (role,), now=T)
    for login in ("zhang", "li"):
        change_user(session, login, by="admin", now=T, email=f"{login}@weihai.example.cn")
    return session


def test_development_is_reminded_by_mail_once(world: Session, inbox: Inbox) -> None:
    engine = world.get_bind()
    assert isinstance(engine, Engine)
    due = add_filing(world, "PK-B", "P3", date(2026, 11, 30), date(2026, 12, 2))
    late = add_filing(world, "PK-A", "P1", date(2026, 11, 20), date(2026, 11, 24))

    attempt = job("filings", engine, TUESDAY)

    assert attempt.outcome == "ran", attempt.message
    assert attempt.run is not None and attempt.run.result is not None
    assert attempt.run.result["due"] == 1 and attempt.run.result["overdue"] == 1
    assert attempt.run.result["packages_over"] == 1  # PK-A
    assert all(r == ["zhang@weihai.example.cn"] for r in inbox.recipients)  # not li, not zhao
    by_subject = {str(m["Subject"]): m for m in inbox.to("zhang@weihai.example.cn")}
    assert len(by_subject) == 3, list(by_subject)
    [due_mail] = [m for s, m in by_subject.items() if f"备案 #{due} 将于 2026-12-02 到期" in s]
    body = due_mail.get_content()
    assert "P3" in body and "PK-B" in body and "2026-12-02" in body and "1 working day" in body
    assert f"gridsupply filings file {due}" in body
    assert due_mail["From"] == "gridsupply@weihai.example.cn"
    assert any(f"备案 #{late} 已逾期" in s and "2026-11-24" in s for s in by_subject)
    assert any("PK-A" in s and "53,380.00" in s for s in by_subject)

    again = job("filings", engine, TUESDAY.replace(hour=14))  # the same reminders: none new
    assert again.outcome == "ran" and again.run is not None and again.run.result is not None
    assert again.run.result["notified"] == 0 and len(inbox.messages) == 3

    with Session(engine) as session:
        rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        runs = session.exec(select(JobRun).order_by(col(JobRun.id))).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.object_type == "job_run")).all()
    assert sorted((n.login, n.kind) for n in rows) == sorted(
        (login, kind)
        for login in ("zhang", "zhao")
        for kind in ("filing.due", "filing.overdue", "package.over")
    )
    assert all((n.emailed_to is not None) == (n.login == "zhang") for n in rows)
    assert [(r.trigger, r.outcome, r.started_by) for r in runs] == [
        ("schedule", "ran", "system")
    ] * 2
    assert [e.action for e in events] == ["job.start", "job.finish"] * 2
    assert {e.actor for e in events} == {"system"}


def test_without_a_mail_server_the_reminders_stay_in_the_app(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = world.get_bind()
    assert isinstance(engine, Engine)
    add_filing(world, "PK-B", "P3", date(2026, 11, 30), date(2026, 12, 2))
    monkeypatch.setenv("GRIDSUPPLY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRIDSUPPLY_SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("GRIDSUPPLY_SMTP_SECURITY", "none")

    attempt = job("filings", engine, TUESDAY)

    assert attempt.outcome == "ran"
    with Session(engine) as session:
        mine = session.exec(select(Notification).where(Notification.login == "zhang")).all()
    assert {n.kind for n in mine} == {"filing.due", "package.over"}
    assert all(n.emailed_at is None and "127.0.0.1" in n.email_error for n in mine)
