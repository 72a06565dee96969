"""Urgent requests and holds over HTTP: status codes, idempotency, errors never 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from supply.core.clock import FixedClock
from supply.core.settings import Settings
from tests.api.schemathesis_hooks import dates_in_order
from tests.requests.conftest import FRIDAY, new_project
from tests.signin import act_as


@pytest.fixture
def client(engine: Engine, world: Settings) -> Iterator[TestClient]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(FRIDAY)
    act_as(app)
    app.dependency_overrides[get_settings] = lambda: world
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _post(client: TestClient, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {}
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/requests", json=body, headers=headers)


def test_request_answer_hold_issue_and_history(client: TestClient) -> None:
    made = _post(client, new_project("U-1", [("DT-400", 1), ("CB10-300", 200)]), key="k-1")
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["answered_by"] == "tester" and answer["batch_id"] == "2026-W49"
    transformer, cable = answer["lines"]
    assert transformer["outcome"] == "held" and transformer["on_time"] is True
    assert cable["outcome"] == "promised" and cable["reason"]
    assert cable["earliest_completion"] and cable["meets_deadline"] is False
    again = _post(client, new_project("U-1", [("DT-400", 1), ("CB10-300", 200)]), key="k-1")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["lines"] == answer["lines"]
    assert client.get(f"/api/v1/requests/{answer['request_id']}").json()["lines"] == answer["lines"]

    holds = client.get("/api/v1/holds", params={"project_id": "U-1"}).json()
    assert holds["total"] == 1
    hold_id = holds["items"][0]["id"]
    issued = client.post(f"/api/v1/holds/{hold_id}/issue", json={})
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    assert [e["event"] for e in issued.json()["events"]] == ["held", "issued"]
    twice = client.post(f"/api/v1/holds/{hold_id}/issue", json={})
    assert twice.status_code == 409
    stock = client.get("/api/v1/reserve/stock", params={"material_code": "DT-400"})
    assert stock.status_code == 200, stock.text
    rows = stock.json()["items"]
    assert [r["quantity"] for r in rows if r["warehouse_id"] == "WH-WD"] == [1]  # 2 − 1 issued


def test_cancel_over_http(client: TestClient) -> None:
    answer = _post(client, new_project("U-1", [("DT-400", 2)])).json()
    cancelled = client.post(
        f"/api/v1/requests/{answer['request_id']}/cancel", json={"reason": "撤"}
    )
    assert cancelled.status_code == 200
    held = client.get("/api/v1/holds", params={"status": "held"}).json()
    assert held["total"] == 0
    assert (
        client.post(f"/api/v1/requests/{answer['request_id']}/cancel", json={}).status_code == 409
    )


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"lines": [{"material_code": "DT-400", "quantity": 1}]}, 422, "body"),
        ({"project_id": "NOPE", "lines": []}, 404, "project_id"),
        (new_project("U-9", []), 422, "body"),
        (new_project("U-9", [("DT-400", 0)]), 422, "quantity"),
        (new_project("U-9", [("NO-SUCH", 1)]), 409, "material_code"),
        (new_project("U-9", [("DT-400", 1)], location="mars"), 409, "location"),
        (new_project("U-9", [("DT-400", 1)], approved="2027-03-01"), 409, "approved_on"),
        (new_project("U-9", [("DT-400", 1)], kind="hv_35kv"), 422, "completion_date"),
        ({"project_id": "x" * 40}, 422, "project_id"),
    ],
)
def test_bad_requests_are_4xx_with_where(
    client: TestClient, body: dict[str, Any], status: int, where: str
) -> None:
    got = _post(client, body)
    assert got.status_code == status, got.text
    detail = got.json()["detail"]
    assert detail and all(d["msg"] for d in detail)
    assert any(where in ".".join(map(str, d["loc"])) for d in detail)
    assert client.get("/api/v1/holds").json()["total"] == 0


def test_key_reused_for_another_body_is_refused(client: TestClient) -> None:
    assert _post(client, new_project("U-1", [("DT-400", 1)]), key="same").status_code == 201
    other = _post(client, new_project("U-2", [("DT-400", 1)]), key="same")
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    too_long = _post(client, new_project("U-3", [("DT-400", 1)]), key="k" * 201)
    assert too_long.status_code == 422


def test_hold_routes_validate(client: TestClient) -> None:
    assert client.get("/api/v1/holds/999").status_code == 404
    assert client.get("/api/v1/holds/0").status_code == 422
    assert client.get("/api/v1/holds", params={"status": "gone"}).status_code == 422
    assert client.post("/api/v1/holds/1/issue", json={"quantity": -1}).status_code == 422
    assert client.post("/api/v1/holds/expire").json() == {"released": []}
    assert client.get("/api/v1/requests/12345").status_code == 404


@pytest.mark.parametrize("completion", ["2026-11-20", "2026-11-27"])
def test_a_new_project_completing_by_its_approval_is_refused_as_documented(
    client: TestClient, completion: str
) -> None:
    # The rule tests/api/schemathesis_hooks.py states for schemathesis, kept by the API.
    body = new_project("U-9", [("DT-400", 1)], kind="hv_35kv", completion_date=completion)
    assert not dates_in_order(body)
    response = _post(client, body)
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail.keys() == {"type", "loc", "msg"} and detail["type"] == "invalid_input"
    assert detail["loc"][-1] == "completion_date"
    assert detail["msg"] == (
        f"客户要求完工日期 {completion} 应晚于审批日 2026-11-27 / the completion date "
        f"{completion} must fall after approval on 2026-11-27"
    )
    assert client.get("/api/v1/projects/U-9").status_code == 404
