"""What-if over HTTP: make one from JSON or from a file, list, read, replay, download; bad
changes named by the body's fields (422); a batch without a run 404; who may do what; the OpenAPI
document states both media types the operation takes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from supply.core.clock import FixedClock
from tests.audit import events, last_id, only
from tests.conftest import xlsx_bytes
from tests.signin import act_as
from tests.whatif.world import (
    BEFORE_CUTOFF,
    CABLE_LINE,
    CABLE_SUPPLIER,
    build_world,
    run_batch,
    settings_of,
)

DELAY = {"kind": "supplier_delay", "supplier": CABLE_SUPPLIER, "days": 10}


@pytest.fixture
def app(engine: Engine, tmp_path: Path) -> FastAPI:
    with Session(engine) as session:
        build_world(session)
        settings = settings_of(session, tmp_path)
        run_batch(session, settings)
    app = create_app()

    def session_() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session_
    app.dependency_overrides[get_clock] = lambda: FixedClock(BEFORE_CUTOFF)
    app.dependency_overrides[get_settings] = lambda: settings
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    act_as(app, "planner", ("planner",))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_make_list_read_replay_and_download(client: TestClient, engine: Engine) -> None:
    first = last_id(engine)
    made = client.post(
        "/api/v1/scenarios", json={"batch": "2026-W49", "name": "电缆延迟", "changes": [DELAY]}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["batch_id"], body["base"], body["name"], body["lines_changed"]) == (
        "2026-W49",
        "run",
        "电缆延迟",
        2,
    )
    assert body["on_time_lines"] == [2, 1] and body["change_list"] == [DELAY]
    cable = next(line for line in body["lines"] if line["demand"] == "P-CABLE/1")
    assert cable["verdict"] == "worse" and "交货延迟 10 天" in cable["note"]
    assert cable["scenario"]["parts"][0]["source_id"] == "E:CB10-300"
    event = only(events(engine, after_id=first), "scenario.create")
    assert event["actor"] == "planner" and event["object_id"] == str(body["id"])

    listed = client.get("/api/v1/scenarios", params={"batch": "2026-W49"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    assert client.get("/api/v1/scenarios", params={"batch": "2026-W50"}).json()["total"] == 0
    read = client.get(f"/api/v1/scenarios/{body['id']}")
    assert read.status_code == 200 and read.json() == body

    replayed = client.post(f"/api/v1/scenarios/{body['id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["same"] is True
    workbook = client.get(f"/api/v1/scenarios/{body['id']}/workbook")
    assert workbook.status_code == 200
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames == [
        "指标对比",
        "变化明细",
        "变更",
    ]
    instance = client.get(f"/api/v1/scenarios/{body['id']}/files/instance.json")
    assert instance.status_code == 200 and instance.json()["version"] == 1
    assert client.get(f"/api/v1/scenarios/{body['id']}/files/passwd").status_code == 404
    assert client.get("/api/v1/scenarios/999").status_code == 404
    assert client.post("/api/v1/scenarios/999/replay").status_code == 404


def test_a_change_file_comes_as_a_form(client: TestClient) -> None:
    rows = [["类型", "对象", "数值"], ["协议行失效", CABLE_LINE, None]]
    made = client.post(
        "/api/v1/scenarios",
        data={"batch": "2026-W49", "base": "current", "name": "协议行失效"},
        files={"changes": ("变更.xlsx", xlsx_bytes(rows, title="变更"))},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["base"] == "current" and body["base_run_id"] is None
    assert body["change_list"] == [{"kind": "agreement_expired", "agreement": CABLE_LINE}]
    json_file = json.dumps([DELAY]).encode()
    made = client.post(
        "/api/v1/scenarios",
        data={"batch": "2026-W49"},
        files={"changes": ("changes.json", json_file, "application/json")},
    )
    assert made.status_code == 201 and made.json()["change_list"] == [DELAY]


def test_bad_changes_are_named_by_the_body_s_fields(client: TestClient) -> None:
    refused = client.post(
        "/api/v1/scenarios",
        json={
            "batch": "2026-W49",
            "changes": [DELAY, {"kind": "supplier_delay", "supplier": "没有这家", "days": 3}],
        },
    )
    assert refused.status_code == 422
    [detail] = refused.json()["detail"]
    assert detail["loc"] == ["body", "changes", 1, "supplier"]
    assert "没有这家" in detail["msg"]
    malformed = client.post(
        "/api/v1/scenarios", json={"batch": "W49", "changes": [{"kind": "supplier_delay"}]}
    )
    assert malformed.status_code == 422
    locs = [d["loc"] for d in malformed.json()["detail"]]
    assert ["body", "batch"] in locs and ["body", "changes", 0, "supplier_delay", "days"] in locs
    bad_row = client.post(
        "/api/v1/scenarios",
        data={"batch": "2026-W49"},
        files={
            "changes": ("变更.xlsx", xlsx_bytes([["类型", "对象"], ["瞬移", "x"]], title="变更"))
        },
    )
    assert bad_row.status_code == 422
    locs = [d["loc"] for d in bad_row.json()["detail"]]
    assert ["body", "file", "changes", 2, "kind"] in locs
    nothing = client.post("/api/v1/scenarios", data={"batch": "2026-W49"})
    assert nothing.status_code == 422 and "没有变更" in nothing.text
    no_run = client.post("/api/v1/scenarios", json={"batch": "2026-W50", "changes": [DELAY]})
    assert no_run.status_code == 404 and "还没有计划" in no_run.text


@pytest.mark.parametrize(
    ("role", "read", "run"),
    [("planner", 200, 201), ("development", 200, 403), ("viewer", 200, 403),
     ("project_manager", 403, 403), ("marketing", 403, 403)],
)  # fmt: skip
def test_who_may_read_and_who_may_run(app: FastAPI, role: str, read: int, run: int) -> None:
    act_as(app, role, (role,))
    with TestClient(app, raise_server_exceptions=False) as client:
        made = client.post("/api/v1/scenarios", json={"batch": "2026-W49", "changes": [DELAY]})
        assert made.status_code == run
        assert client.get("/api/v1/scenarios").status_code == read


def test_the_document_states_both_media_types(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/api/v1/scenarios"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    kinds = {
        branch["properties"]["kind"]["const"]
        for branch in content["application/json"]["schema"]["properties"]["changes"]["items"][
            "oneOf"
        ]
    }
    assert kinds == {
        "supplier_delay",
        "agreement_expired",
        "agreement_exhausted",
        "stock_change",
        "quota_change",
        "warehouse_closed",
        "transport_days",
        "extra_projects",
    }
    assert "$ref" not in json.dumps(content["application/json"])
    assert {"401", "403", "404", "409", "413", "422"} <= set(operation["responses"])
