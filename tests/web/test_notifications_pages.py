"""提醒: each user reads their own notifications on a page, with the count unread in the header,
and marks one read (audited) — another's is not there."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supply.auth.models import User
from supply.core.audit import AuditEvent
from supply.notifications.models import Notification
from supply.notifications.service import Reminder, notify
from tests.web.conftest import NOW, csrf_of, sign_in


def _remind(engine: Engine, login: str, key: str, link: str = "") -> int:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.login == login)).one()
        [made] = notify(session, [(user, Reminder("filing.due", key, f"备案 {key} 即将到期",
                                                   "=HYPERLINK(\"x\")", link))],
                        now=NOW, by="system")  # fmt: skip
        session.commit()
    return made


def _unread(page: str) -> int:
    found = re.search(r'data-unread="(\d+)"', page)
    return int(found.group(1)) if found else 0


def test_each_user_reads_their_own_and_marks_one_read(web: TestClient, web_engine: Engine) -> None:
    first = _remind(web_engine, "planner", "filing.due:1", link="/packages")
    _remind(web_engine, "planner", "filing.due:2")
    others = _remind(web_engine, "viewer", "filing.due:3")
    sign_in(web, "planner")
    page = web.get("/notifications").text
    shown = [int(i) for i in re.findall(r'data-notification="(\d+)"', page)]
    assert sorted(shown) == sorted([first, first + 1]) and others not in shown
    assert "=HYPERLINK" in page and '<a href="x"' not in page  # their text, as text
    assert _unread(web.get("/notifications/badge").text) == 2
    read = web.post(f"/notifications/{first}/read", data={"csrf_token": csrf_of(page)})
    assert read.status_code == 303 and read.headers["location"] == "/packages"  # its page
    assert _unread(web.get("/notifications/badge").text) == 1
    unread = web.get("/notifications?unread=1").text
    assert [int(i) for i in re.findall(r'data-notification="(\d+)"', unread)] == [first + 1]
    with Session(web_engine) as session:
        note = session.get(Notification, first)
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "notification.read"))
        assert note is not None and note.read_at is not None
        assert [(e.actor, e.object_id) for e in events] == [("planner", str(first))]
    refused = web.post(f"/notifications/{others}/read", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 404  # the viewer's: not there for the planner
    no_csrf = web.post(f"/notifications/{first + 1}/read")
    assert no_csrf.status_code == 403


def test_the_header_loads_the_badge_on_every_page(web: TestClient) -> None:
    sign_in(web, "viewer")
    page = web.get("/weekly").text
    assert 'hx-get="/notifications/badge"' in page
    web.cookies.delete("gridsupply_session")
    assert web.get("/notifications").status_code == 303  # signed out: to the sign-in page
