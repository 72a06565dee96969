"""项目 pages in process: a project manager's reach (their unit's projects only, another unit's
a 404 page), the urgent-request form (answer per line, holds, field errors), issuing and
releasing a hold from the project page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.deps import get_clock, get_session, get_settings
from api.main import create_app
from api.web.menu import menu_for
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.auth.units import set_unit
from supply.auth.users import forget_cached
from supply.core.clock import FixedClock
from supply.core.db import make_engine
from supply.holds.models import Hold
from supply.requests.models import RequestAnswer, SupplyRequest
from tests.requests.conftest import FRIDAY, sqlite_world  # noqa: F401 - the world's fixture
from tests.signin import make_user
from tests.web.conftest import csrf_of, sign_in
from tests.weekly.world import settings_for

UNITS = (("weihai", "国网威海供电公司(市区)", ("huancui", "gaoqu", "jingqu", "lingang")),
         ("wendeng", "国网威海市文登区供电公司", ("wendeng", "nanhai")))  # fmt: skip
USERS = (("pm.wendeng", "project_manager", "wendeng"), ("pm.weihai", "project_manager", "weihai"),
         ("planner", "planner", "weihai"), ("viewer", "viewer", "weihai"))  # fmt: skip


@pytest.fixture
def world_engine(tmp_path: Path, sqlite_world: Path) -> Iterator[Engine]:  # noqa: F811
    """The small requests world (a transformer DT-400 in reserve at wendeng) with the two units
    and a user per role here."""
    path = tmp_path / "world.db"
    shutil.copy(sqlite_world, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        for code, name, locations in UNITS:
            set_unit(session, code=code, name=name, locations=locations, by="test", now=FRIDAY)
        session.commit()
    for login, role, unit in USERS:
        make_user(engine, login, (role,), now=FRIDAY, unit=unit)
    yield engine
    engine.dispose()
    forget_cached()


@pytest.fixture
def pages(world_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    app: FastAPI = create_app()

    def session() -> Iterator[Session]:
        with Session(world_engine) as s:
            yield s

    with Session(world_engine) as s:
        settings = settings_for(s, str(tmp_path / "runs"))
    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(FRIDAY)
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def _request(client: TestClient, data: dict[str, object]) -> object:
    form = client.get("/projects/request")
    assert form.status_code == 200, form.text
    key = re.search(r'name="key" value="([^"]+)"', form.text)
    assert key
    return client.post(
        "/projects/request", data={"csrf_token": csrf_of(form.text), "key": key.group(1), **data}
    )


def _new_project(project_id: str, location: str, lines: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "project_id": "",
        "new_id": project_id,
        "new_name": f"项目 {project_id}",
        "new_type": "area_capacity_increase",
        "new_location": location,
        "new_approved_on": "2026-11-27",
        "material_code": [code for code, _ in lines],
        "quantity": [quantity for _, quantity in lines],
    }


def test_the_menu_has_projects_for_whoever_reads_them() -> None:
    reader = Actor("pm", roles=("project_manager",),
                   permissions=frozenset({Permission.PROJECTS_READ}))  # fmt: skip
    assert "/projects" in [item.path for item in menu_for(reader)]
    assert "/projects" not in [item.path for item in menu_for(Actor("x"))]


def test_a_request_through_the_form_answers_each_line_and_holds_the_stock(
    pages: TestClient, world_engine: Engine
) -> None:
    sign_in(pages, "pm.wendeng")
    answered = _request(pages, _new_project("U-WD", "wendeng", [("DT-400", "1"), ("", "")]))
    assert answered.status_code == 201, answered.text  # type: ignore[attr-defined]
    html = answered.text  # type: ignore[attr-defined]
    assert "答复：紧急需求" in html and "U-WD" in html and "新建项目" in html
    assert "DT-400" in html and "已保留" in html and "实物储备" in html and "按时" in html
    assert "WH-WD" in html
    # the project is the manager's: listed, with its line and its hold
    listed = pages.get("/projects")
    assert listed.status_code == 200 and "U-WD" in listed.text
    assert 'class="overdue"' not in listed.text  # its need-by is still ahead
    detail = pages.get("/projects/U-WD")
    assert detail.status_code == 200, detail.text
    assert "DT-400" in detail.text and ">出库<" in detail.text and ">释放<" in detail.text
    # the line's source and arrival, as the request's answer gave them
    with Session(world_engine) as session:
        [asked] = session.exec(select(SupplyRequest).where(SupplyRequest.project_id == "U-WD"))
    answer = RequestAnswer.model_validate_json(asked.answer)
    [part] = answer.lines[0].allocations
    parts = detail.text.split('<td class="parts">')[1].split("</td>")[0]
    assert "已保留" in parts and f"紧急需求 {answer.request_id}" in parts
    assert part.arrival.isoformat() in parts and (part.warehouse_id or "") in parts


def test_a_project_manager_sees_only_their_unit_s_projects(pages: TestClient) -> None:
    sign_in(pages, "pm.weihai")
    made = _request(pages, _new_project("U-CITY", "huancui", [("DT-400", "1")]))
    assert made.status_code == 201, made.text  # type: ignore[attr-defined]
    sign_in(pages, "pm.wendeng")
    made = _request(pages, _new_project("U-WD", "wendeng", [("DT-400", "1")]))
    assert made.status_code == 201, made.text  # type: ignore[attr-defined]
    mine = pages.get("/projects")
    assert mine.status_code == 200 and "U-WD" in mine.text and "U-CITY" not in mine.text
    other = pages.get("/projects/U-CITY")
    assert other.status_code == 404 and "项目 U-CITY 不存在" in other.text
    assert "text/html" in other.headers["content-type"]
    # the planner and the viewer read every unit's projects
    for login in ("planner", "viewer"):
        sign_in(pages, login)
        every = pages.get("/projects")
        assert every.status_code == 200 and "U-WD" in every.text and "U-CITY" in every.text
        assert pages.get("/projects/U-CITY").status_code == 200


def test_releasing_and_issuing_holds_from_the_project_page(
    pages: TestClient, world_engine: Engine
) -> None:
    sign_in(pages, "pm.wendeng")
    made = _request(pages, _new_project("U-WD", "wendeng", [("DT-400", "2")]))
    assert made.status_code == 201, made.text  # type: ignore[attr-defined]
    with Session(world_engine) as session:
        held = session.exec(select(Hold).where(Hold.status == "held")).all()
    assert held, "the request held the transformers"
    hold_id = held[0].id
    page = pages.get("/projects/U-WD")
    token = csrf_of(page.text)
    # without the CSRF token: refused
    assert pages.post(f"/projects/U-WD/holds/{hold_id}/release", data={}).status_code == 403
    released = pages.post(
        f"/projects/U-WD/holds/{hold_id}/release", data={"csrf_token": token, "reason": "改期"}
    )
    assert released.status_code == 303, released.text
    assert released.headers["location"] == f"/projects/U-WD?done=released&hold={hold_id}"
    released = pages.get(released.headers["location"])
    assert f"保留 {hold_id} 已释放" in released.text
    holds_table = released.text.split('id="holds"', 1)[1]
    assert "已释放" in holds_table and ">释放<" not in holds_table
    with Session(world_engine) as session:
        hold = session.get(Hold, hold_id)
        assert hold is not None and hold.status == "released" and hold.closed_by == "pm.wendeng"
    again = pages.post(f"/projects/U-WD/holds/{hold_id}/release", data={"csrf_token": token})
    assert again.status_code == 409 and "text/html" in again.headers["content-type"]


def test_issuing_a_hold_from_the_project_page(pages: TestClient, world_engine: Engine) -> None:
    sign_in(pages, "pm.wendeng")
    made = _request(pages, _new_project("U-WD", "wendeng", [("DT-400", "1")]))
    assert made.status_code == 201, made.text  # type: ignore[attr-defined]
    with Session(world_engine) as session:
        hold_id = session.exec(select(Hold.id).where(Hold.status == "held")).first()
    token = csrf_of(pages.get("/projects/U-WD").text)
    issued = pages.post(f"/projects/U-WD/holds/{hold_id}/issue", data={"csrf_token": token})
    assert issued.status_code == 303, issued.text
    issued = pages.get(issued.headers["location"])
    assert f"保留 {hold_id} 已出库" in issued.text
    assert ">出库<" not in issued.text.split('id="holds"', 1)[1]
    sign_in(pages, "pm.weihai")  # another unit: neither the project nor its hold
    token = csrf_of(pages.get("/projects").text)
    refused = pages.post(f"/projects/U-WD/holds/{hold_id}/release", data={"csrf_token": token})
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"material_code": ["DT-400"], "quantity": ["1"]}, "请选择项目或填写新项目"),
        (_new_project("U-X", "wendeng", [("DT-400", "abc")]), "数量应为正整数"),
        (_new_project("U-X", "wendeng", []), "至少填写一行"),
        (
            {**_new_project("U-X", "wendeng", [("DT-400", "1")]), "new_approved_on": "2026-13-40"},
            "project.approved_on",
        ),
        (_new_project("U-X", "wendeng", [("NO-SUCH", "1")]), "物料编码 NO-SUCH 不在物料主数据中"),
        (_new_project("U-X", "nowhere", [("DT-400", "1")]), "地点 nowhere 不在运输天数表中"),
        (
            {"project_id": "NOPE", "material_code": ["DT-400"], "quantity": ["1"]},
            "项目 NOPE 不存在",
        ),
    ],
)
def test_bad_input_is_named_on_the_form_never_a_500(
    pages: TestClient, data: dict[str, object], words: str
) -> None:
    """InvalidInput, NotFound and the form's own checks: a 422 page with the form as sent and
    the problem next to its field."""
    sign_in(pages, "pm.wendeng")
    answer = _request(pages, data)
    assert answer.status_code == 422, answer.text  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    errors = re.findall(r'class="(?:field-error|error)"[^>]*>([^<]*)<', html)
    assert any(words in error for error in errors), errors
    assert "答复：紧急需求" not in html


def test_a_bad_filter_is_named_and_not_applied(pages: TestClient) -> None:
    sign_in(pages, "planner")
    page = pages.get("/projects", params={"type": "nonsense", "status": "gone"})
    assert page.status_code == 200
    assert "没有工程类型 nonsense" in page.text and "没有状态 gone" in page.text
    part = pages.get(
        "/projects", params={"q": "U-"}, headers={"HX-Request": "true", "HX-Target": "projects"}
    )
    assert part.status_code == 200 and part.text.lstrip().startswith("<section")
