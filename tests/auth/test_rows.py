"""Row level: project managers of two units each see and act on their own unit's projects (and
those assigned to them) only — in lists, reads, writes and exports; another's is a 404, worded as
for a project that does not exist. Planners and viewers see all."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_calendar, get_clock, get_session
from api.main import create_app
from supply.auth.users import forget_cached
from supply.calendar_store import load_calendar
from supply.core.clock import SHANGHAI, FixedClock
from supply.sample.people import load_people
from tests.signin import bearer

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
BASE = {"name": "海景花园新建台区工程", "project_type": "area_new", "approved_on": "2026-11-16"}
LINE = [{"material_code": "JP-400", "quantity": 1}]


@pytest.fixture
def client(catalog_engine: Engine) -> Iterator[TestClient]:
    """The sample catalogs, Weihai's units and demo users; projects in two units and one that a
    Wendeng project manager made at a city location (so it is theirs)."""
    with Session(catalog_engine) as session:
        load_people(session, now=NOW, by="test")
    forget_cached()
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(catalog_engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(NOW)
    app.dependency_overrides[get_calendar] = load_calendar
    with TestClient(app, raise_server_exceptions=False) as client:
        for project_id, location, who in (
            ("P-CITY", "huancui", "planner"),
            ("P-WD", "wendeng", "planner"),
            ("P-WD-MADE", "gaoqu", "pm.wendeng"),
        ):
            made = client.post(
                "/api/v1/projects",
                json={**BASE, "id": project_id, "location": location},
                headers=bearer(who, now=NOW),
            )
            assert made.status_code in (201, 403), made.text
            if made.status_code == 403:  # a planner does not write projects; a PM of the unit does
                unit_pm = "pm.weihai" if location != "wendeng" else "pm.wendeng"
                made = client.post(
                    "/api/v1/projects",
                    json={**BASE, "id": project_id, "location": location},
                    headers=bearer(unit_pm, now=NOW),
                )
            assert made.status_code == 201, made.text
        yield client
    forget_cached()


def ids(answer: dict) -> set[str]:
    return {item["id"] if "id" in item else item["project_id"] for item in answer["items"]}


def test_each_project_manager_lists_reads_and_exports_only_their_own(client: TestClient) -> None:
    reach = {
        "pm.weihai": {"P-CITY", "P-WD-MADE"},  # P-WD-MADE is at gaoqu, a city location
        "pm.wendeng": {"P-WD", "P-WD-MADE"},  # their unit's, and the one they made
        "planner": {"P-CITY", "P-WD", "P-WD-MADE"},
        "viewer": {"P-CITY", "P-WD", "P-WD-MADE"},
    }
    for who, mine in reach.items():
        auth = bearer(who, now=NOW)
        listed = client.get("/api/v1/projects", headers=auth).json()
        assert ids(listed) == mine and listed["total"] == len(mine), who
        for project_id in ("P-CITY", "P-WD", "P-WD-MADE"):
            read = client.get(f"/api/v1/projects/{project_id}", headers=auth)
            lines = client.get(f"/api/v1/projects/{project_id}/lines", headers=auth)
            expected = 200 if project_id in mine else 404
            assert (read.status_code, lines.status_code) == (expected, expected), (who, project_id)
            if expected == 404:
                missing = client.get("/api/v1/projects/NO-SUCH", headers=auth).json()
                assert read.json()["detail"][0]["msg"] == missing["detail"][0]["msg"].replace(
                    "NO-SUCH", project_id
                )
        exported = client.get("/api/v1/projects/export", headers=auth)
        sheet = load_workbook(io.BytesIO(exported.content))["项目"]
        assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == mine, who
        csv_rows = client.get("/api/v1/projects/export/projects.csv", headers=auth).text
        assert {row.split(",")[0] for row in csv_rows.splitlines()[1:]} == mine, who


def test_a_project_manager_cannot_change_or_add_to_another_unit_s_project(
    client: TestClient,
) -> None:
    wendeng = bearer("pm.wendeng", now=NOW)
    for method, path, body in (
        ("PATCH", "/api/v1/projects/P-CITY", {"name": "改名"}),
        ("POST", "/api/v1/projects/P-CITY/lines", LINE),
        ("POST", "/api/v1/projects/P-CITY/cancel", None),
        ("POST", "/api/v1/projects/P-CITY/complete", None),
    ):
        answer = client.request(method, path, json=body, headers=wendeng)
        assert answer.status_code == 404, (method, path, answer.text)
    own = client.post("/api/v1/projects/P-WD/lines", json=LINE, headers=wendeng)
    assert own.status_code == 201, own.text
    city = client.post(
        "/api/v1/projects/P-CITY/lines", json=LINE, headers=bearer("pm.weihai", now=NOW)
    )
    assert city.status_code == 201, city.text
    lines = client.get("/api/v1/demand-lines", headers=wendeng).json()
    assert {item["project_id"] for item in lines["items"]} == {"P-WD"}
    everyone = client.get("/api/v1/demand-lines", headers=bearer("viewer", now=NOW)).json()
    assert {item["project_id"] for item in everyone["items"]} == {"P-WD", "P-CITY"}
