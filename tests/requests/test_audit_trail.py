"""Urgent requests, holds and the weekly plan in the audit trail: one event per request, per hold
step, per run and per approval, by the signed-in user."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.audit import events, last_id, only, summary
from tests.requests.conftest import new_project
from tests.requests.test_requests_api import client  # noqa: F401 (the fixture)


def test_a_request_its_hold_and_its_cancellation_are_each_audited(
    client: TestClient,  # noqa: F811
    engine: Engine,
) -> None:
    start = last_id(engine)
    made = client.post("/api/v1/requests", json=new_project("U-1", [("DT-400", 1), ("DT-400", 1)]))
    assert made.status_code == 201, made.text
    answer = made.json()
    [created] = events(engine, after_id=start)
    assert (created.actor, created.action, created.object_id) == (
        "tester",
        "request.create",
        str(answer["request_id"]),
    )
    assert created.after == {
        "project_id": "U-1",
        "lines": 2,
        "outcomes": {"held": 2},
    }
    holds = client.get("/api/v1/holds", params={"project_id": "U-1"}).json()["items"]
    first, second = sorted(h["id"] for h in holds)
    assert client.post(f"/api/v1/holds/{first}/issue", json={}).status_code == 200
    cancelled = client.post(
        f"/api/v1/requests/{answer['request_id']}/cancel", json={"reason": "撤"}
    )
    assert cancelled.status_code == 200
    found = events(engine, after_id=created.id or 0)
    assert summary(found) == [
        ("tester", "hold.issued", "hold", str(first)),
        ("tester", "hold.released", "hold", str(second)),
        ("tester", "request.cancel", "request", str(answer["request_id"])),
    ]
    assert only(found, "request.cancel")["after"]["holds_released"] == 1
