"""The province's matching over HTTP: the province planner's permission, problems by file, the
results kept and downloaded, the audit event."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from filelock import FileLock
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from supply.core.clock import FixedClock
from supply.core.errors import NotFound
from supply.core.settings import Settings
from supply.province.service import get_match, match_file, start_match
from tests.audit import events
from tests.province.test_matching import small_province
from tests.signin import act_as


@pytest.fixture
def served(engine: Engine, now: datetime, tmp_path: Path) -> Iterator[tuple[TestClient, object]]:
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(now)
    app.dependency_overrides[get_settings] = lambda: Settings(runs_dir=str(tmp_path / "runs"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app


def files() -> list[tuple[str, tuple[str, bytes]]]:
    cities, agreements, transport = small_province()
    return [
        ("agreements", (agreements.name, agreements.content)),
        ("transport", (transport.name, transport.content)),
        *[("cities", (c.name, c.content)) for c in cities],
    ]


def finished(client: TestClient, match_id: str) -> dict[str, object]:
    """The matching once it is no longer matching (it is matched in a thread of the server)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, object] = client.get(f"/api/v1/province/matches/{match_id}").json()
        if body["state"] != "matching":
            return body
        time.sleep(0.05)
    raise AssertionError(f"matching {match_id} still matching after 60 s")


def test_the_province_planner_matches_and_downloads_each_citys_result(
    served: tuple[TestClient, object], engine: Engine
) -> None:
    client, app = served
    act_as(app, "province-1", ("province_planner",))  # type: ignore[arg-type]
    answer = client.post("/api/v1/province/matches", data={"batch": "2026-W49"}, files=files())
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["created_by"] == "province-1" and accepted["match_day"] == "2026-12-02"
    assert sorted(accepted["city_names"]) == ["威海", "济南", "青岛"]
    body = finished(client, accepted["id"])
    assert (body["state"], body["status"], body["message"]) == ("done", "optimal", "")
    assert {c["city"] for c in body["cities"]} == {"济南", "青岛", "威海"}
    name = "2026-W49_威海_省公司匹配结果.xlsx"
    assert name in body["files"]
    got = client.get(f"/api/v1/province/matches/{body['id']}/files/{name}")
    assert got.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(got.content))["匹配结果"]
    weihai = next(c for c in body["cities"] if c["city"] == "威海")
    assert sum(r[5] for r in sheet.iter_rows(min_row=2, values_only=True)) == weihai["matched"]
    listed = client.get("/api/v1/province/matches", params={"batch": "2026-W49"}).json()
    assert [m["id"] for m in listed] == [body["id"]]
    (event,) = events(engine, action="province.match")
    assert (event.actor, event.object_id) == ("province-1", body["id"])
    (end,) = events(engine, action="province.match_finish")
    assert (end.actor, end.object_id, end.after["state"]) == ("province-1", body["id"], "done")
    assert end.after["objective"] == body["objective"]
    # Nothing outside the matching's folder, and no matching that is not there.
    assert client.get(f"/api/v1/province/matches/{body['id']}/files/..%2F..%2Fx").status_code == 404
    assert client.get("/api/v1/province/matches/2026-W49-20261201000000-abcdef").status_code == 404


def test_a_city_planner_may_not_run_the_provinces_matching(
    served: tuple[TestClient, object],
) -> None:
    client, app = served
    act_as(app, "planner-1", ("planner",))  # type: ignore[arg-type]
    answer = client.post("/api/v1/province/matches", data={"batch": "2026-W49"}, files=files())
    assert answer.status_code == 403


def test_a_bad_file_is_refused_with_its_file_sheet_row_and_column(
    served: tuple[TestClient, object], engine: Engine
) -> None:
    client, app = served
    act_as(app, "province-1", ("province_planner",))  # type: ignore[arg-type]
    sent = files()
    sent[1] = ("transport", ("省内运输天数.xlsx", b"not a workbook"))
    answer = client.post("/api/v1/province/matches", data={"batch": "2026-W49"}, files=sent)
    assert answer.status_code == 422
    assert any("省内运输天数.xlsx" in str(d["loc"]) for d in answer.json()["detail"][1:])
    assert events(engine, action="province.match") == []
    bad_batch = client.post("/api/v1/province/matches", data={"batch": "49"}, files=files())
    assert bad_batch.status_code == 422


def test_one_matching_at_a_time_and_nothing_kept_when_refused(
    served: tuple[TestClient, object], engine: Engine, tmp_path: Path
) -> None:
    client, app = served
    act_as(app, "province-1", ("province_planner",))  # type: ignore[arg-type]
    (tmp_path / "runs" / "province").mkdir(parents=True)
    other = FileLock(tmp_path / "runs" / "province" / ".matching.lock", thread_local=False)
    with other.acquire(timeout=0):  # another process is matching
        busy = client.post("/api/v1/province/matches", data={"batch": "2026-W49"}, files=files())
    assert busy.status_code == 409, busy.text
    assert client.get("/api/v1/province/matches").json() == []
    assert events(engine, action="province.match") == []
    # Released: the next one goes through, and the lock is free again once it is done.
    answer = client.post("/api/v1/province/matches", data={"batch": "2026-W49"}, files=files())
    assert answer.status_code == 202, answer.text
    assert finished(client, answer.json()["id"])["state"] == "done"
    with other.acquire(timeout=0):
        pass


def test_a_matching_whose_process_stopped_is_reported_interrupted(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    settings = Settings(runs_dir=str(tmp_path / "runs"))
    cities, agreements, transport = small_province()
    started = start_match(
        engine=engine, batch_id="2026-W49", agreements=agreements, transport=transport,
        cities=cities, settings=settings, user="province-1", now=now,
    )  # fmt: skip
    started.lock.release()  # as the OS does when the server's process ends mid-matching
    assert get_match(settings, started.id, now=now + timedelta(minutes=14))["state"] == "matching"
    late = get_match(settings, started.id, now=now + timedelta(minutes=16))
    assert late["state"] == "failed" and "中断" in late["message"]
    assert "files" not in late
    with pytest.raises(NotFound):  # nothing to download from a matching that is not done
        match_file(settings, started.id, "plan.json")
