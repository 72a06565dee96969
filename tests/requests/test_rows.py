"""Row level for urgent requests and holds: a project manager sees and acts on the requests and
holds of their own projects only; another's are 404, as if they did not exist."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.requests.conftest import new_project
from tests.requests.test_requests_api import client  # noqa: F401 (the fixture)
from tests.signin import act_as

PM = ("project_manager",)


def test_a_project_manager_reaches_only_the_requests_and_holds_of_their_projects(
    client: TestClient,  # noqa: F811
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    act_as(app, "pm.a", PM, unit="unit-a")
    made = client.post("/api/v1/requests", json=new_project("U-A", [("DT-400", 1)]))
    assert made.status_code == 201, made.text
    request_id = made.json()["request_id"]
    [hold] = client.get("/api/v1/holds").json()["items"]
    assert hold["project_id"] == "U-A"  # theirs: they made the project

    act_as(app, "pm.b", PM, unit="unit-b")
    assert client.get(f"/api/v1/requests/{request_id}").status_code == 404
    assert client.post(f"/api/v1/requests/{request_id}/cancel", json={}).status_code == 404
    assert client.get("/api/v1/holds").json()["total"] == 0
    for method, path in (("GET", ""), ("POST", "/issue"), ("POST", "/release")):
        answer = client.request(method, f"/api/v1/holds/{hold['id']}{path}", json={})
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["detail"][0]["msg"].startswith(f"保留 {hold['id']} 不存在")
    more = client.post("/api/v1/requests", json={"project_id": "U-A", "lines": [
        {"material_code": "DT-400", "quantity": 1}]})  # fmt: skip
    assert more.status_code == 404 and "U-A" in more.json()["detail"][0]["msg"]

    act_as(app, "viewer", ("viewer",))
    assert client.get(f"/api/v1/requests/{request_id}").status_code == 200
    assert client.get("/api/v1/holds").json()["total"] == 1
    act_as(app, "pm.a", PM, unit="unit-a")
    assert client.post(f"/api/v1/holds/{hold['id']}/issue", json={}).status_code == 200
