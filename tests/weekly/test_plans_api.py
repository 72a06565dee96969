"""The weekly plan over HTTP: run, read, lines, approve, download, province matching, errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
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
from supply.core.settings import Settings
from tests.audit import events, last_id, only
from tests.conftest import xlsx_bytes
from tests.signin import act_as
from tests.weekly.world import (
    BEFORE_CUTOFF,
    add_on_time_and_late,
    load_world,
    settings_for,
)


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    with Session(engine) as session:
        load_world(session)
        add_on_time_and_late(session)
        settings = settings_for(session, str(tmp_path / "runs"))
    app: FastAPI = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(BEFORE_CUTOFF)
    act_as(app)
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_run_read_approve_download(client: TestClient) -> None:
    made = client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["run"]["batch_id"] == "2026-W49"
    assert set(body["exports"]) == {
        "agreement_requirements",
        "issue_list",
        "emergency",
        "late_unmet",
        "replenishment",
        "packages",
    }

    again = client.post("/api/v1/plans/runs", json={})  # now = before the cutoff: same batch
    assert again.status_code == 409
    assert again.json()["detail"][0]["type"] == "conflict"

    batch = client.get("/api/v1/plans/batches/2026-W49").json()
    assert batch["status"] == "draft" and batch["kpis"]["totals"]["lines"] == 2

    late = client.get("/api/v1/plans/batches/2026-W49/lines", params={"late_only": True}).json()
    assert late["total"] == 1
    line = late["items"][0]
    # 100 m of cable for a 5-day job: the agreement line arrives 12-17 + 1 day, need-by 12-02.
    assert (line["project_id"], line["kind"], line["arrival"], line["late_days"]) == (
        "P-LATE",
        "agreement",
        "2026-12-18",
        16,
    )
    assert "needed by 12-02" in line["reason"]

    file = client.get("/api/v1/plans/batches/2026-W49/exports/late_unmet")
    assert file.status_code == 200
    sheet = load_workbook(io.BytesIO(file.content))["延迟与未满足"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "P-LATE" and "needed by 12-02" in rows[1][-1]

    act_as(client.app, "director")  # type: ignore[arg-type]
    approved = client.post("/api/v1/plans/batches/2026-W49/approve")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "director"


def test_province_matching_upload_and_its_errors(client: TestClient) -> None:
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    header = ["物料编码", "交货仓库", "协议编号", "行号", "数量", "预计到货日期"]
    early = client.post(
        "/api/v1/plans/batches/2026-W49/province-match",
        files={
            "file": (
                "m.xlsx",
                xlsx_bytes(
                    [header, ["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, 100, "2026-12-15"]]
                ),
            )
        },
    )
    assert early.status_code == 409  # not approved yet
    client.post("/api/v1/plans/batches/2026-W49/approve")
    bad = client.post(
        "/api/v1/plans/batches/2026-W49/province-match",
        files={
            "file": (
                "m.xlsx",
                xlsx_bytes([header, ["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, "lots", "soon"]]),
            )
        },
    )
    assert bad.status_code == 422
    messages = [d["msg"] for d in bad.json()["detail"]]
    assert any("row 2 quantity" in m for m in messages) and any(
        "row 2 expected_arrival" in m for m in messages
    )
    ok = client.post(
        "/api/v1/plans/batches/2026-W49/province-match",
        files={
            "file": (
                "m.xlsx",
                xlsx_bytes(
                    [header, ["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, 100, "2026-12-15"]]
                ),
            )
        },
    )
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert {k: body[k] for k in ("rows", "agreement_lines", "plan_lines")} == {
        "rows": 1, "agreement_lines": 1, "plan_lines": 1,
    }  # fmt: skip
    [move] = body["moves"]  # what it changed: the cable comes 2 days earlier than planned
    assert (move["project_id"], move["need_by"], move["arrival_before"], move["arrival_after"],
            move["late_days_before"], move["late_days_after"]) == (
        "P-LATE", "2026-12-02", "2026-12-18", "2026-12-16", 16, 14,
    )  # fmt: skip
    lines = client.get("/api/v1/plans/batches/2026-W49/lines", params={"kind": "agreement"}).json()[
        "items"
    ]
    assert lines[0]["arrival"] == "2026-12-16"  # 12-15 at central, a day to huancui


def test_a_matching_file_over_20_mb_is_read_when_the_limit_is_raised(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    client.post("/api/v1/plans/batches/2026-W49/approve")
    row = "CB10-300,WH-CENTRAL,SD-2026-01,2,100,2026-12-15\n"
    content = ("物料编码,交货仓库,协议编号,行号,数量,预计到货日期\n" + row * 460_000).encode()
    assert len(content) > 21 * 1024 * 1024
    raised = get_settings_override(client).model_copy(update={"max_upload_bytes": 32 << 20})
    client.app.dependency_overrides[get_settings] = lambda: raised  # type: ignore[attr-defined]
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", str(32 << 20))  # the body limit reads it
    answer = client.post(
        "/api/v1/plans/batches/2026-W49/province-match", files={"file": ("m.csv", content)}
    )
    assert answer.status_code == 422, answer.text[:500]
    assert "more than 100000 data rows" in answer.json()["detail"][1]["msg"]


def get_settings_override(client: TestClient) -> Settings:
    return client.app.dependency_overrides[get_settings]()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/plans/batches/2026-W50", 404),
        ("get", "/api/v1/plans/batches/not-a-batch", 422),
        ("post", "/api/v1/plans/batches/2026-W50/approve", 404),
        ("get", "/api/v1/plans/batches/2026-W49/exports/secrets", 404),
        ("get", "/api/v1/plans/runs?batch_id=2026W49", 422),
    ],
)
def test_user_errors_are_4xx_never_500(
    client: TestClient, method: str, url: str, status: int
) -> None:
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    response = getattr(client, method)(url)
    assert response.status_code == status, response.text


def test_a_time_without_zone_or_beyond_the_calendar_is_refused(client: TestClient) -> None:
    naive = client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00"})
    assert naive.status_code == 422
    beyond = client.post("/api/v1/plans/runs", json={"at": "2027-03-01T11:00:00+08:00"})
    assert beyond.status_code == 409  # until an operator loads 2027
    assert "2027" in beyond.json()["detail"][0]["msg"]


def test_runs_list_keeps_history(client: TestClient) -> None:
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00", "rerun": True})
    runs = client.get("/api/v1/plans/runs").json()
    assert [r["status"] for r in runs] == ["draft", "superseded"]
    assert runs[0]["supersedes_id"] == runs[1]["id"]
    assert datetime.fromisoformat(runs[0]["run_at"]) == BEFORE_CUTOFF  # the service's clock


def test_a_run_and_its_approval_are_audited_by_who_did_them(
    client: TestClient, engine: Engine
) -> None:
    start = last_id(engine)
    act_as(client.app, "planner.a")  # type: ignore[arg-type]
    assert (
        client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"}).status_code
        == 201
    )
    act_as(client.app, "director")  # type: ignore[arg-type]
    assert client.post("/api/v1/plans/batches/2026-W49/approve").status_code == 200
    found = events(engine, after_id=start)
    run = only(found, "plan.run")
    planned = client.get("/api/v1/plans/batches/2026-W49/lines").json()["total"]
    assert (run["actor"], run["after"]["batch_id"]) == ("planner.a", "2026-W49")
    assert run["after"]["lines"] == planned > 0
    approved = only(found, "plan.approve")
    assert approved["actor"] == "director" and approved["object_id"] == run["object_id"]
    assert (approved["before"], approved["after"]["status"]) == ({"status": "draft"}, "approved")


def test_lines_sort_by_any_column_and_download_as_the_list_shows_them(client: TestClient) -> None:
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    url = "/api/v1/plans/batches/2026-W49/lines"
    saved = client.get(url).json()["items"]
    assert len(saved) >= 2
    for key, field in (("late_days", "late_days"), ("project", "project_id"),
                       ("arrival", "arrival")):  # fmt: skip
        up = [line[field] for line in client.get(url, params={"sort": key}).json()["items"]]
        down = [line[field] for line in client.get(url, params={"sort": f"-{key}"}).json()["items"]]
        present = [line[field] for line in saved if line[field] is not None]
        blanks = [None] * (len(saved) - len(present))  # empty values last, either way
        assert up == sorted(present) + blanks, key
        assert down == sorted(present, reverse=True) + blanks, key
    refused = client.get(url, params={"sort": "price; drop table"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "sort"

    file = client.get(url.replace("/lines", "/lines.xlsx"), params={"sort": "-late_days"})
    assert file.status_code == 200
    assert (
        "filename*=UTF-8''%E8%AE%A1%E5%88%92%E6%98%8E%E7%BB%86"
        in file.headers["content-disposition"]
    )  # 计划明细
    rows = list(load_workbook(io.BytesIO(file.content)).active.iter_rows(values_only=True))
    body = [row for row in rows[1:] if not str(row[0]).startswith("合计")]
    expected = client.get(url, params={"sort": "-late_days"}).json()["items"]
    assert [(r[0], r[1], r[5], r[10]) for r in body] == [
        (
            line["project_id"] or f"补库 {line['replenish_warehouse_id']}",
            line["material_code"],
            line["quantity"],
            line["late_days"],
        )
        for line in expected
    ]
    late = client.get(url.replace("/lines", "/lines.xlsx"), params={"late_only": True})
    late_rows = list(load_workbook(io.BytesIO(late.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in late_rows[1:] if not str(r[0]).startswith("合计")] == ["P-LATE"]


def test_a_project_s_timeline_over_http(client: TestClient) -> None:
    client.post("/api/v1/plans/runs", json={"at": "2026-11-30T11:00:00+08:00"})
    draft = client.get("/api/v1/projects/P-LATE/timeline").json()
    [line] = draft["lines"]
    assert [p["state"] for p in line["parts"]] == ["draft"]
    client.post("/api/v1/plans/batches/2026-W49/approve")
    timeline = client.get("/api/v1/projects/P-LATE/timeline").json()
    [line] = timeline["lines"]
    [part] = line["parts"]
    plan = client.get(
        "/api/v1/plans/batches/2026-W49/lines", params={"project_id": "P-LATE"}
    ).json()["items"]
    assert (part["state"], part["kind"], part["arrival"], part["quantity"]) == (
        "planned", plan[0]["kind"], plan[0]["arrival"], plan[0]["quantity"],
    )  # fmt: skip
    assert line["late_days"] == plan[0]["late_days"] > 0 and line["verdict"] == "late"
    assert timeline["at_risk"] is True and timeline["latest_arrival"] == plan[0]["arrival"]
    assert client.get("/api/v1/projects/NOPE/timeline").status_code == 404
