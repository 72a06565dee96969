"""The pages in process: sign-in with the cookie (the API never takes it), CSRF on every unsafe
request, a permission on every page, errors as pages, the audit page's filters."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_clock, get_session
from api.main import create_app
from api.web import ROUTERS, formats
from api.web.menu import MENU
from api.web.render import PageRoute, local_path
from api.web.session import page_actor
from api.web.weekly import by_type_rows, kpi_comparison
from supply.auth.actor import Actor
from supply.auth.roles import PERMISSION_ZH, Permission, Role
from supply.auth.users import change_user, forget_cached
from supply.core.clock import SHANGHAI, FixedClock
from supply.sample.people import load_people
from tests.auth.test_permissions import permissions_of
from tests.signin import PASSWORD, bearer
from tests.web.conftest import NOW, csrf_of, sign_in

# Pages anyone may open (the sign-in), or any signed-in user (home, sign-out).
PUBLIC_PAGES = {("GET", "/login"), ("POST", "/login")}
SIGNED_IN_PAGES = {
    ("GET", "/"), ("GET", "/logout"), ("POST", "/logout"),
    ("GET", "/notifications"), ("GET", "/notifications/badge"),
    ("POST", "/notifications/{notification_id}/read"),
}  # fmt: skip


def page_routes() -> list[APIRoute]:
    found = [route for router in ROUTERS for route in router.routes]
    assert all(isinstance(route, PageRoute) for route in found)
    return found  # type: ignore[return-value]


# ------------------------------------------------------------------ formats


def test_numbers_money_and_dates_are_written_as_the_pages_show_them() -> None:
    assert formats.number(1234567) == "1,234,567"
    assert formats.number(None) == "—"
    assert formats.money(Decimal("1234567.885")) == "1,234,567.89"  # half up, to the fen
    assert formats.money(0.1 + 0.2) == "0.30"
    assert formats.money(57558828.5) == "57,558,828.50"
    assert formats.yuan(Decimal("45000")) == "45,000.00 元"
    assert formats.day(date(2026, 11, 30)) == "2026-11-30 周一"
    assert formats.day("2026-12-06") == "2026-12-06 周日"
    moment = datetime(2026, 11, 30, 4, 0, tzinfo=SHANGHAI).astimezone(SHANGHAI)
    assert formats.moment(moment) == "2026-11-30 周一 04:00"
    assert formats.moment(datetime.fromisoformat("2026-11-30T04:00:00+00:00")) == (
        "2026-11-30 周一 12:00"  # stored in UTC, shown in Beijing time
    )
    assert formats.workdays(2) == "2 个工作日"
    assert formats.days(0) == "—" and formats.days(25) == "25 天"
    assert formats.percent(1, 3) == "33.3%" and formats.percent(1, 0) == "—"
    assert formats.roles_label(["planner", "viewer"]) == "物资部计划员、只读"
    assert formats.permission_label("plans.run") == "运行周计划 (plans.run)"


def test_every_permission_has_words_for_the_pages() -> None:
    assert set(PERMISSION_ZH) == set(Permission)


# ------------------------------------------------------------------ routes


def test_every_page_declares_its_permission_and_none_is_in_the_openapi_document(
    web_app: FastAPI,
) -> None:
    routes = page_routes()
    assert {r.path for r in routes} >= {"/login", "/", "/weekly", "/audit"}
    for route in routes:
        for method in route.methods:
            if (method, route.path) in PUBLIC_PAGES | SIGNED_IN_PAGES:
                continue
            assert permissions_of(route), f"{method} {route.path} declares no permission"
    documented = set(web_app.openapi()["paths"])
    assert documented and not documented & {r.path for r in routes}  # pages are not API
    for item in MENU:
        [route] = [r for r in routes if r.path == item.path and "GET" in r.methods]
        assert permissions_of(route) == {item.permission.value}


# ------------------------------------------------------------------ signing in


def test_signing_in_sets_an_http_only_same_site_cookie_that_the_api_does_not_take(
    web: TestClient,
) -> None:
    answer = sign_in(web, "planner")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = SimpleCookie(
        next(v for v in answer.headers.get_list("set-cookie") if "gridsupply_session=" in v)
    )["gridsupply_session"]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and not cookie["secure"]
    assert cookie["max-age"] == "1800" and cookie["path"] == "/"
    home = web.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/weekly"
    assert web.get("/weekly").status_code == 200
    # The API takes the Authorization header only: the cookie alone is not a sign-in there.
    assert web.get("/api/v1/auth/me").status_code == 401
    assert web.get("/api/v1/plans/runs").status_code == 401
    bearer = {"Authorization": f"Bearer {cookie.value}"}
    assert web.get("/api/v1/auth/me", headers=bearer).json()["login"] == "planner"


def test_the_cookie_is_secure_over_https(web_app: FastAPI) -> None:
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as client:
        answer = sign_in(client, "viewer")
    assert answer.status_code == 303
    [session] = [v for v in answer.headers.get_list("set-cookie") if "gridsupply_session=" in v]
    assert "Secure" in session and "HttpOnly" in session


def test_a_wrong_password_and_a_disabled_account_say_so(
    web: TestClient, web_engine: Engine
) -> None:
    wrong = sign_in(web, "planner", "not the password")
    assert wrong.status_code == 200 and "用户名或密码错误" in wrong.text
    assert "gridsupply_session" not in wrong.headers.get("set-cookie", "")
    with Session(web_engine) as session:
        change_user(session, "viewer", by="admin", now=NOW, active=False)
    forget_cached()
    disabled = sign_in(web, "viewer")
    assert disabled.status_code == 200 and "账号已停用" in disabled.text


def test_too_many_failed_sign_ins_are_refused_with_429(web: TestClient) -> None:
    for _ in range(5):
        assert "用户名或密码错误" in sign_in(web, "marketing", "wrong password!").text
    refused = sign_in(web, "marketing")  # even the right password, while throttled
    assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
    assert "登录失败次数过多" in refused.text and "15 分钟" in refused.text


def test_the_sign_in_form_needs_its_csrf_token(web: TestClient) -> None:
    web.get("/login")
    forged = web.post("/login", data={"username": "planner", "password": PASSWORD})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert "gridsupply_session" not in forged.headers.get("set-cookie", "")
    other = TestClient(web.app, follow_redirects=False)  # another browser: its own sign-in cookie
    token = csrf_of(other.get("/login").text)
    stolen = web.post("/login", data={"username": "planner", "password": PASSWORD,
                                      "csrf_token": token})  # fmt: skip
    assert stolen.status_code == 403


def test_after_signing_in_the_user_goes_back_to_the_page_but_never_to_another_site(
    web: TestClient,
) -> None:
    first = web.get("/audit?actor=admin")
    assert (
        first.status_code == 303
        and first.headers["location"] == "/login?next=%2Faudit%3Factor%3Dadmin"
    )
    form = web.get(first.headers["location"])
    assert 'name="next" value="/audit?actor=admin"' in form.text
    answer = web.post("/login", data={"username": "admin", "password": PASSWORD,
                                      "csrf_token": csrf_of(form.text), "next": "/audit?actor=admin"})  # fmt: skip
    assert answer.headers["location"] == "/audit?actor=admin"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        assert local_path(target) == "/"


def test_htmx_is_sent_to_the_sign_in_page_too(web: TestClient) -> None:
    answer = web.get(
        "/weekly?offset=50",
        headers={"HX-Request": "true", "HX-Target": "lines",
                 "HX-Current-URL": "http://testserver/weekly?kind=agreement"},
    )  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["hx-redirect"] == "/login?next=%2Fweekly%3Fkind%3Dagreement"


def test_an_expired_sign_in_goes_to_the_sign_in_page_saying_so(web: TestClient) -> None:
    web.cookies.set("gridsupply_session", "not-a-token")
    answer = web.get("/weekly")
    assert answer.status_code == 303 and "expired=1" in answer.headers["location"]
    assert "登录已失效" in web.get(answer.headers["location"]).text


def test_signing_out_is_a_post_with_the_csrf_token(web: TestClient) -> None:
    sign_in(web, "planner")
    page = web.get("/weekly")
    asked = web.get("/logout")  # a link to it asks; only the POST signs out
    assert asked.status_code == 200 and 'action="/logout"' in asked.text
    assert web.get("/weekly").status_code == 200
    refused = web.post("/logout")
    assert refused.status_code == 403 and "CSRF" in refused.text
    out = web.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login?out=1"
    assert web.get("/weekly").status_code == 303


# ------------------------------------------------------------------ CSRF and permissions


def test_an_unsafe_request_without_the_session_s_csrf_token_is_refused(web: TestClient) -> None:
    sign_in(web, "planner")
    token = csrf_of(web.get("/weekly").text)
    for headers, data in (({}, {}), ({"X-CSRF-Token": "forged"}, {}), ({}, {"csrf_token": "x"})):
        refused = web.post("/weekly/run", headers=headers, data=data)
        assert refused.status_code == 403, refused.text
        assert "CSRF" in refused.text and "text/html" in refused.headers["content-type"]
    # another session's token is not this one's
    other = TestClient(web.app, follow_redirects=False)
    sign_in(other, "viewer")
    stolen = csrf_of(other.get("/weekly").text)
    assert web.post("/logout", data={"csrf_token": stolen}).status_code == 403
    # with its own token, in the header (htmx) or the form field, the request goes through
    assert web.post("/logout", headers={"X-CSRF-Token": token}).status_code == 303
    sign_in(web, "planner")
    token = csrf_of(web.get("/weekly").text)
    assert web.post("/logout", data={"csrf_token": token}).status_code == 303


@pytest.mark.parametrize(
    ("login", "path", "permission"),
    [
        ("marketing", "/weekly", "plans.read"),
        ("planner", "/audit", "audit.read"),
        ("project_manager", "/audit/export", "audit.read"),
    ],
)
def test_a_page_the_role_does_not_open_is_403_naming_the_permission(
    web: TestClient, login: str, path: str, permission: str
) -> None:
    sign_in(web, login)
    refused = web.get(path)
    assert refused.status_code == 403
    assert f"{PERMISSION_ZH[Permission(permission)]} ({permission})" in refused.text
    assert "没有权限" in refused.text


def test_a_viewer_may_read_the_weekly_page_but_neither_run_nor_approve(web: TestClient) -> None:
    sign_in(web, "viewer")
    page = web.get("/weekly")
    assert page.status_code == 200 and 'action="/weekly/run"' not in page.text
    token = csrf_of(page.text)
    for path, permission in (
        ("/weekly/run", "plans.run"),
        ("/weekly/2026-W49/approve", "plans.approve"),
    ):
        refused = web.post(path, data={"csrf_token": token})
        assert refused.status_code == 403 and f"({permission})" in refused.text
    htmx = web.post("/weekly/run", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.headers["hx-retarget"] == "#flash"


@pytest.mark.parametrize(
    ("login", "menu"),
    [(role.value, titles) for role, titles in {
        Role.PLANNER: ["周计划", "假设分析", "项目", "库存与定额", "项目包与备案", "导入"],
        Role.PROJECT_MANAGER: ["项目", "库存与定额"],
        Role.DEVELOPMENT: ["周计划", "假设分析", "项目", "库存与定额", "项目包与备案"],
        Role.MARKETING: ["项目", "库存与定额"],
        Role.VIEWER: ["周计划", "假设分析", "项目", "库存与定额", "项目包与备案", "省公司匹配", "审计", "用户"],
        Role.ADMIN: ["库存与定额", "导入", "审计", "用户"],
        Role.PROVINCE_PLANNER: ["省公司匹配"],
    }.items()],
)  # fmt: skip
def test_home_sends_each_role_to_its_first_page(
    web: TestClient, login: str, menu: list[str]
) -> None:
    sign_in(web, login)
    home = web.get("/")
    paths = {item.title: item.path for item in MENU}
    assert home.status_code == 303 and home.headers["location"] == paths[menu[0]]
    page = web.get(paths[menu[0]]).text
    nav = page.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert [t for t in paths if f">{t}</a>" in nav] == menu


# ------------------------------------------------------------------ errors as pages


def test_what_does_not_exist_is_a_page_for_a_browser_and_json_for_the_api(web: TestClient) -> None:
    sign_in(web, "planner")
    browser = {"Accept": "text/html,application/xhtml+xml"}
    missing = web.get("/nowhere", headers=browser)
    assert missing.status_code == 404 and "没有这个页面" in missing.text
    no_batch = web.get("/weekly/2026-W01/exports/issue_list", headers=browser)
    assert no_batch.status_code == 404 and "还没有计划" in no_batch.text
    bad = web.get("/weekly?batch=W49", headers=browser)
    assert bad.status_code == 404 and "没有批次" in bad.text
    api = web.get("/api/v1/nowhere", headers=browser)
    assert api.status_code == 404 and api.json()["detail"][0]["type"] == "not_found"


def test_a_bad_filter_is_named_under_its_field_and_not_applied(web: TestClient) -> None:
    sign_in(web, "planner")
    page = web.get("/weekly?kind=gold&project=" + "X" * 40)
    assert page.status_code == 200
    sign_in(web, "admin")
    audit = web.get("/audit?since=2026-13-01&until=yesterday")
    assert audit.status_code == 200
    assert audit.text.count("日期写作 YYYY-MM-DD") >= 2


# ------------------------------------------------------------------ the audit page


def test_the_audit_page_filters_pages_and_downloads_the_events(web: TestClient) -> None:
    sign_in(web, "admin")
    for _ in range(3):
        sign_in(web, "admin")
    page = web.get("/audit?action=auth.&actor=admin")
    assert page.status_code == 200
    assert page.text.count(">auth.sign_in<") == 4 and ">user.create<" not in page.text
    fragment = web.get(
        "/audit?action=user.create", headers={"HX-Request": "true", "HX-Target": "events"}
    )
    assert fragment.text.lstrip().startswith("<section") and "<html" not in fragment.text
    assert fragment.text.count(">user.create<") == len(Role)
    since = web.get("/audit?action=user.create&since=2026-12-01")
    assert "没有符合条件的审计记录" in since.text
    download = web.get("/audit/export?action=auth.sign_in")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert rows[0][3] == "动作 / action" and {r[3] for r in rows[1:] if r[0]} == {"auth.sign_in"}


def test_the_vendored_scripts_are_served_with_their_licences(web: TestClient) -> None:
    for path in ("htmx/htmx.min.js", "echarts/echarts.min.js", "htmx/LICENSE", "echarts/LICENSE",
                 "echarts/NOTICE"):  # fmt: skip
        answer = web.get(f"/static/web/vendor/{path}")
        assert answer.status_code == 200 and len(answer.content) > 100, path
    assert web.get("/static/web/web.css").status_code == 200
    assert web.get("/static/vendor/redoc/redoc.standalone.js").status_code == 200  # the docs' own


def test_a_year_no_calendar_covers_is_said_on_the_weekly_page(
    web: TestClient, web_app: FastAPI
) -> None:
    # (a year before the calendar's first: tokens are not issued for a moment still to come)
    web_app.dependency_overrides[get_clock] = lambda: FixedClock(
        datetime(2003, 6, 2, 9, 0, tzinfo=SHANGHAI)
    )
    sign_in(web, "planner")
    page = web.get("/weekly")
    assert page.status_code == 200
    assert "无法确定本周批次" in page.text and "2003 年的工作日历未加载" in page.text
    assert 'action="/weekly/run"' not in page.text


def test_another_unit_s_project_is_a_404_page(catalog_engine: Engine) -> None:
    """Row level on pages goes through the same scope functions: a project manager (here one
    given plans.read, which no role grants them yet) filtering the plan by another unit's
    project is told it does not exist, as for a missing project."""
    when = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    with Session(catalog_engine) as session:
        load_people(session, now=when, by="test")
    forget_cached()
    app = create_app()

    def session() -> Iterator[Session]:
        with Session(catalog_engine) as s:
            yield s

    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_clock] = lambda: FixedClock(when)
    project = {"name": "海景花园新建台区工程", "project_type": "area_new",
               "approved_on": "2026-11-16"}  # fmt: skip
    wendeng = Actor("pm.wendeng", "项目经理 张文登", "wendeng", ("project_manager",), "person",
                    frozenset({Permission.PLANS_READ}))  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as client:
        for project_id, location, who in (("P-CITY", "huancui", "pm.weihai"),
                                          ("P-WD", "wendeng", "pm.wendeng")):  # fmt: skip
            made = client.post(
                "/api/v1/projects",
                json={**project, "id": project_id, "location": location},
                headers=bearer(who, now=when),
            )
            assert made.status_code == 201, made.text
        app.dependency_overrides[page_actor] = lambda: wendeng
        other = client.get("/weekly?project=P-CITY")
        assert other.status_code == 404 and "项目 P-CITY 不存在" in other.text
        assert client.get("/weekly?project=P-NOWHERE").status_code == 200  # no such project
        assert client.get("/weekly?project=P-WD").status_code == 200
    forget_cached()


def test_a_run_whose_kpis_lack_a_measure_shows_no_comparison_rather_than_failing() -> None:
    assert kpi_comparison({}) == [] and kpi_comparison({"totals": {}}) == []
    assert by_type_rows({}) == []
