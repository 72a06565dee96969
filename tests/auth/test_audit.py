"""The audit trail: each kind of change writes exactly one event, by the signed-in user, with the
changed fields before and after, in the change's own transaction — a change that fails or rolls
back leaves no event — and nothing can update or delete an event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from api.deps import get_calendar, get_clock, get_session
from api.main import create_app
from supply.auth.users import forget_cached
from supply.calendar_store import load_calendar
from supply.core.audit import AuditEvent, record
from supply.core.clock import SHANGHAI, FixedClock
from supply.projects.models import Project
from tests.audit import events, last_id, only, summary
from tests.signin import act_as

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
PROJECT = {
    "id": "P-1",
    "name": "海景花园新建台区工程",
    "project_type": "area_new",
    "location": "huancui",
    "approved_on": "2026-11-16",
}


@pytest.fixture
def client(catalog_engine: Engine) -> Iterator[TestClient]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(catalog_engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(NOW)
    app.dependency_overrides[get_calendar] = load_calendar
    act_as(app, "li.gong")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    forget_cached()


def test_project_and_line_changes_each_leave_one_event_with_before_and_after(
    client: TestClient, catalog_engine: Engine
) -> None:
    start = last_id(catalog_engine)
    assert client.post("/api/v1/projects", json=PROJECT).status_code == 201
    assert client.patch("/api/v1/projects/P-1", json={"name": "新名称"}).status_code == 200
    lines = [{"material_code": "JP-400", "quantity": 1}]
    assert client.post("/api/v1/projects/P-1/lines", json=lines).status_code == 201
    assert client.patch("/api/v1/projects/P-1/lines/1", json={"quantity": 3}).status_code == 200
    assert client.post("/api/v1/projects/P-1/lines/1/cancel").status_code == 200
    assert client.post("/api/v1/projects/P-1/cancel").status_code == 200
    found = events(catalog_engine, after_id=start)
    assert summary(found) == [
        ("li.gong", "project.create", "project", "P-1"),
        ("li.gong", "project.update", "project", "P-1"),
        ("li.gong", "line.add", "project", "P-1"),
        ("li.gong", "line.update", "demand_line", "P-1/1"),
        ("li.gong", "line.cancel", "demand_line", "P-1/1"),
        ("li.gong", "project.cancel", "project", "P-1"),
    ]
    update = only(found, "project.update")
    assert (update["before"], update["after"]) == (
        {"name": "海景花园新建台区工程"},
        {"name": "新名称"},
    )
    assert only(found, "project.create")["after"]["location"] == "huancui"
    assert only(found, "line.update")["before"] == {"quantity": 1}
    assert only(found, "line.update")["after"] == {"quantity": 3}
    assert only(found, "project.cancel")["after"] == {"status": "cancelled"}
    assert all(e.request_id for e in found)  # each carries the request it came with


def test_a_refused_change_leaves_no_event(client: TestClient, catalog_engine: Engine) -> None:
    assert client.post("/api/v1/projects", json=PROJECT).status_code == 201
    start = last_id(catalog_engine)
    assert client.post("/api/v1/projects", json=PROJECT).status_code == 409  # the id is taken
    assert client.patch("/api/v1/projects/P-1", json={"location": "mars"}).status_code == 409
    assert client.post("/api/v1/projects/P-1/complete").status_code in (200, 409)
    found = events(catalog_engine, after_id=start)
    assert [e.action for e in found] in ([], ["project.complete"])


def test_a_change_that_rolls_back_at_commit_takes_its_event_with_it(
    catalog_engine: Engine,
) -> None:
    start = last_id(catalog_engine)
    with Session(catalog_engine) as session:

        def refuse(_: Session) -> None:
            raise RuntimeError("the commit fails")

        event.listen(session, "before_commit", refuse)
        session.add(
            Project(
                **PROJECT,
                voltage_class="10kV",
                deadline=NOW.date(),
                need_by=NOW.date(),
                created_at=NOW,
                created_by="x",
                updated_at=NOW,
            )
        )
        record(session, actor="x", action="project.create", object_type="project",
               object_id="P-1", at=NOW)  # fmt: skip
        with pytest.raises(RuntimeError):
            session.commit()
        session.rollback()
    assert events(catalog_engine, after_id=start) == []
    with Session(catalog_engine) as session:
        assert session.get(Project, "P-1") is None


def test_quota_confirmation_and_imports_are_audited(
    client: TestClient, catalog_engine: Engine
) -> None:
    start = last_id(catalog_engine)
    bad = "物料编码,物料名称,计量单位\n,无编码,台\n".encode()
    rejected = client.post("/api/v1/imports/materials", files={"file": ("m.csv", bad, "text/csv")})
    assert rejected.status_code == 422
    good = (
        "物料编码,物料名称,计量单位,电压等级,标准单价,紧急采购周期(天),紧急采购溢价(%)\n"
        "NEW-1,新物料,台,10kV,10,5,20\n"
    ).encode()
    accepted = client.post("/api/v1/imports/materials", files={"file": ("m.csv", good, "text/csv")})
    assert accepted.status_code == 201, accepted.text
    found = events(catalog_engine, after_id=start)
    assert [(e.actor, e.action) for e in found] == [
        ("li.gong", "import.rejected"),
        ("li.gong", "import.accepted"),
    ]
    assert found[0].after["problems"] >= 1 and found[1].after["inserted"] == 1

    quotas = "年度,仓库编码,物料编码,储备定额\n2026,WH-WD,JP-400,3\n".encode()
    assert (
        client.post(
            "/api/v1/imports/quotas", files={"file": ("q.csv", quotas, "text/csv")}
        ).status_code
        == 201
    )
    [draft] = [c for c in client.get("/api/v1/reserve/quota-catalogs").json()
               if c["status"] == "draft"]  # fmt: skip
    start = last_id(catalog_engine)
    confirmed = client.post(f"/api/v1/reserve/quota-catalogs/{draft['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_by"] == "li.gong"
    [event] = events(catalog_engine, after_id=start)
    assert (event.actor, event.action, event.object_id) == (
        "li.gong",
        "quotas.confirm",
        str(draft["id"]),
    )
    assert (event.before, event.after["status"]) == ({"status": "draft"}, "confirmed")


def test_nothing_updates_or_deletes_an_event(engine: Engine) -> None:
    with Session(engine) as session:
        record(session, actor="x", action="test.event", object_type="t", at=NOW)
        session.commit()
    for statement in ("UPDATE audit_event SET actor = 'y'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with Session(engine) as session:
        assert [e.actor for e in session.exec(select(AuditEvent)).all()] == ["x"]
