"""用户 in process: an administrator adds a user (who then signs in), changes roles, disables and
enables, resets a password — each a form with the CSRF token, audited, with its problems named
under their fields; the viewer reads; everyone else is refused; the list sorts, filters and
downloads as Excel; no page or file shows a password or its hash."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supply.auth.models import User
from supply.auth.roles import Role
from supply.auth.units import set_unit
from supply.auth.users import forget_cached
from supply.core.audit import AuditEvent
from tests.signin import PASSWORD, bearer, make_user
from tests.web.conftest import NOW, csrf_of, sign_in

NEW_PASSWORD = "a new password of fourteen"
HOSTILE_NAME = "=1+2"


@pytest.fixture
def admin(web: TestClient, web_engine: Engine) -> TestClient:
    """The web client signed in as the administrator, with the units weihai and wendeng and a
    user whose name looks like a formula."""
    with Session(web_engine) as session:
        set_unit(session, code="weihai", name="国网威海供电公司", locations=["huancui"], by="t",
                 now=NOW)  # fmt: skip
        set_unit(session, code="wendeng", name="国网文登供电公司", locations=["wendeng"], by="t",
                 now=NOW)  # fmt: skip
        session.commit()
    make_user(web_engine, "formula", ("viewer",), now=NOW, unit="wendeng")
    with Session(web_engine) as session:
        user = session.exec(select(User).where(User.login == "formula")).one()
        user.display_name = HOSTILE_NAME
        session.add(user)
        session.commit()
    forget_cached()
    assert sign_in(web, "admin").status_code == 303
    return web


def logins_of(page: str) -> list[str]:
    """The users listed, in the page's order."""
    body = page.split('<table class="data users">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-login="([^"]+)"', body)


def row_of(page: str, login: str) -> list[str]:
    found = re.search(rf'<tr data-login="{re.escape(login)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, page[-3000:]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_of(client.get("/users").text)
    return client.post(path, data={"csrf_token": token, **data})


def user_of(engine: Engine, login: str) -> User | None:
    with Session(engine) as session:
        return session.exec(select(User).where(User.login == login)).first()


def events(engine: Engine, action: str, login: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == login)
            )
        )


NEW_USER = {
    "login": "dev.zhang",
    "display_name": "发展部 张工",
    "unit": "wendeng",
    "roles": ["development", "viewer"],
    "password": PASSWORD,
}


# ------------------------------------------------------------------ who may


@pytest.mark.parametrize("login", ["admin", "viewer"])
def test_the_administrator_and_the_viewer_read_the_users(web: TestClient, login: str) -> None:
    sign_in(web, login)
    page = web.get("/users")
    assert page.status_code == 200
    nav = page.text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert ">用户</a>" in nav
    assert logins_of(page.text) == sorted(r.value for r in Role)
    assert web.get("/users/export").status_code == 200
    # only the administrator manages: the viewer sees no form
    assert ('method="post" action="/users"' in page.text) == (login == "admin")
    assert ("/disable" in page.text) == (login == "admin")
    # no password, nor its hash, on the page
    assert "argon2" not in page.text and "password_hash" not in page.text


@pytest.mark.parametrize("login", ["planner", "project_manager", "development", "marketing"])
def test_everyone_else_is_refused_the_users(web: TestClient, login: str) -> None:
    sign_in(web, login)
    for path in ("/users", "/users/export"):
        refused = web.get(path)
        assert refused.status_code == 403 and "查看用户 (users.read)" in refused.text


def test_a_viewer_cannot_change_anyone(web: TestClient, web_engine: Engine) -> None:
    sign_in(web, "viewer")
    for path, data in (
        ("/users", NEW_USER),
        ("/users/planner/roles", {"roles": ["admin"]}),
        ("/users/planner/disable", {}),
        ("/users/planner/password", {"password": NEW_PASSWORD}),
    ):
        refused = post(web, path, data)
        assert refused.status_code == 403 and "管理用户与令牌 (users.manage)" in refused.text, path
    assert user_of(web_engine, "dev.zhang") is None
    planner = user_of(web_engine, "planner")
    assert planner is not None and planner.roles == ["planner"] and planner.active


def test_a_change_without_the_csrf_token_is_refused(admin: TestClient, web_engine: Engine) -> None:
    for token in ("", "forged"):
        refused = admin.post("/users", data={"csrf_token": token, **NEW_USER})
        assert refused.status_code == 403 and "CSRF" in refused.text
        assert admin.post("/users/planner/disable", data={"csrf_token": token}).status_code == 403
    assert user_of(web_engine, "dev.zhang") is None
    planner = user_of(web_engine, "planner")
    assert planner is not None and planner.active


# ------------------------------------------------------------------ adding


def test_the_administrator_adds_a_user_who_then_signs_in(
    admin: TestClient, web_engine: Engine
) -> None:
    added = post(admin, "/users", NEW_USER)
    assert added.status_code == 303, added.text
    assert added.headers["location"] == "/users?done=added&login=dev.zhang"
    shown = admin.get(added.headers["location"]).text
    assert "已新增用户 dev.zhang（发展部 张工）" in shown
    assert row_of(shown, "dev.zhang")[:5] == [
        "dev.zhang", "发展部 张工", "wendeng 国网文登供电公司", "发展部、只读", "启用",
    ]  # fmt: skip
    stored = user_of(web_engine, "dev.zhang")
    assert stored is not None and stored.roles == ["development", "viewer"]
    assert stored.created_by == "admin" and stored.unit == "wendeng"
    [event] = events(web_engine, "user.create", "dev.zhang")
    assert event.actor == "admin" and event.after is not None
    assert "password" not in str(event.after) and PASSWORD not in str(event.after)
    # the new user signs in with the initial password and lands on their first page
    other = TestClient(admin.app, follow_redirects=False)
    signed = sign_in(other, "dev.zhang", PASSWORD)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    assert other.get("/").headers["location"] == "/weekly"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"login": "planner"}, "login", "用户 planner 已存在"),
        ({"login": "张工"}, "login", "登录名为 2–32 位字母"),
        ({"login": "x" * 33}, "login", "登录名为 2–32 位字母"),
        ({"password": "short"}, "password", "密码至少 10 个字符"),
        ({"roles": []}, "roles", "至少一个角色"),
        ({"roles": ["chief"]}, "roles", "没有角色 'chief'"),
        ({"unit": "atlantis"}, "unit", "没有单位 atlantis"),
    ],
)
def test_bad_input_to_the_add_form_is_named_under_its_field(
    admin: TestClient, web_engine: Engine, change: dict[str, Any], field: str, words: str
) -> None:
    with Session(web_engine) as session:
        before = len(session.exec(select(User)).all())
    answer = post(admin, "/users", {**NEW_USER, **change})
    assert answer.status_code == 422, answer.text
    form = answer.text.split('<section class="card" id="add-user">', 1)[1].split("</section>")[0]
    assert "<details open>" in form  # the form is shown open, as sent
    named = form.split(f'name="{field}"', 1)[1]
    named = named.split("</fieldset>" if field == "roles" else "</label>", 1)[0]
    assert words in html.unescape(named), named
    assert PASSWORD not in answer.text  # the password is never sent back
    if field != "login":
        assert f'value="{NEW_USER["login"]}"' in form
    with Session(web_engine) as session:
        assert len(session.exec(select(User)).all()) == before
    planner = user_of(web_engine, "planner")
    assert planner is not None and planner.display_name == "planner"


# ------------------------------------------------------------------ changing


def test_changing_a_user_s_roles(admin: TestClient, web_engine: Engine) -> None:
    done = post(admin, "/users/planner/roles", {"roles": ["planner", "development"]})
    assert done.status_code == 303 and done.headers["location"] == "/users?done=roles&login=planner"
    assert "已修改角色：planner" in admin.get(done.headers["location"]).text
    stored = user_of(web_engine, "planner")
    assert stored is not None and stored.roles == ["planner", "development"]
    [event] = events(web_engine, "user.change", "planner")
    assert event.before == {"roles": ["planner"]}
    assert event.after == {"roles": ["planner", "development"]}
    other = TestClient(admin.app, follow_redirects=False)
    sign_in(other, "planner")
    nav = other.get("/weekly").text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert ">项目包与备案</a>" in nav
    # take development away again, give none: refused, named under the user's roles
    none = post(admin, "/users/planner/roles", {})
    assert none.status_code == 422
    form = none.text.split('action="/users/planner/roles"', 1)[1].split("</form>", 1)[0]
    assert "至少保留一个角色" in form
    assert "<details open>" in none.text.split('data-login="planner"', 1)[1].split("</tr>", 1)[0]
    stored = user_of(web_engine, "planner")
    assert stored is not None and stored.roles == ["planner", "development"]
    missing = post(admin, "/users/nobody/roles", {"roles": ["viewer"]})
    assert missing.status_code == 404 and "没有用户 nobody" in missing.text


def test_disabling_stops_signing_in_and_enabling_allows_it_again(
    admin: TestClient, web_engine: Engine
) -> None:
    other = TestClient(admin.app, follow_redirects=False)
    assert sign_in(other, "marketing").status_code == 303
    done = post(admin, "/users/marketing/disable", {})
    assert done.status_code == 303
    shown = admin.get(done.headers["location"]).text
    assert "已停用" in shown and row_of(shown, "marketing")[4] == "停用"
    refused = sign_in(other, "marketing")
    assert refused.status_code != 303 and "账号已停用" in refused.text
    assert [e.actor for e in events(web_engine, "user.disable", "marketing")] == ["admin"]
    assert post(admin, "/users/marketing/enable", {}).status_code == 303
    assert sign_in(other, "marketing").status_code == 303
    assert [e.actor for e in events(web_engine, "user.enable", "marketing")] == ["admin"]
    # the administrator is offered no button to disable themselves
    assert "/users/admin/disable" not in admin.get("/users").text


def test_resetting_a_password(admin: TestClient, web_engine: Engine) -> None:
    short = post(admin, "/users/viewer/password", {"password": "short"})
    assert short.status_code == 422
    form = short.text.split('action="/users/viewer/password"', 1)[1].split("</form>", 1)[0]
    assert "密码至少 10 个字符" in form
    assert events(web_engine, "user.reset_password", "viewer") == []
    done = post(admin, "/users/viewer/password", {"password": NEW_PASSWORD})
    assert done.status_code == 303
    assert "已重置密码：viewer" in admin.get(done.headers["location"]).text
    other = TestClient(admin.app, follow_redirects=False)
    assert sign_in(other, "viewer", PASSWORD).status_code != 303
    assert sign_in(other, "viewer", NEW_PASSWORD).status_code == 303
    [event] = events(web_engine, "user.reset_password", "viewer")
    assert event.actor == "admin" and event.after is None  # it changed; never to what


# ------------------------------------------------------------------ the list


def test_the_list_sorts_filters_and_shows_the_last_sign_in(
    admin: TestClient, web_engine: Engine
) -> None:
    everyone = sorted([*(r.value for r in Role), "formula"])
    assert logins_of(admin.get("/users").text) == everyone
    assert logins_of(admin.get("/users", params={"sort": "-login"}).text) == everyone[::-1]
    by_name = logins_of(admin.get("/users", params={"sort": "name"}).text)
    with Session(web_engine) as session:
        names = {u.login: u.display_name for u in session.exec(select(User))}
    assert [names[login] for login in by_name] == sorted(names.values())
    assert by_name[0] == "formula"  # '=' sorts before the letters
    assert logins_of(admin.get("/users", params={"role": "planner"}).text) == ["planner"]
    assert logins_of(admin.get("/users", params={"unit": "wendeng"}).text) == ["formula"]
    assert logins_of(admin.get("/users", params={"q": "ketin"}).text) == ["marketing"]
    post(admin, "/users/viewer/disable", {})
    assert logins_of(admin.get("/users", params={"state": "0"}).text) == ["viewer"]
    for name, value, words in (("role", "chief", "没有角色 chief"), ("unit", "x", "没有单位 x"),
                               ("state", "9", "状态为启用或停用")):  # fmt: skip
        page = admin.get("/users", params={name: value})
        assert page.status_code == 200
        listing = page.text.split('<section class="card" id="users">', 1)[1]
        field = listing.split(f'name="{name}"', 1)[1].split("</label>", 1)[0]
        assert words in field
        assert len(logins_of(page.text)) == len(everyone)  # not applied
    # the last sign-in, from the audit trail: admin signed in (at the fixed clock), planner never
    with Session(web_engine) as session:
        signed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "auth.sign_in",
                                     AuditEvent.object_id == "admin")
        ).all()  # fmt: skip
    assert signed
    page = admin.get("/users").text
    assert max(e.at for e in signed) == NOW  # the clock is fixed at Monday 2026-11-30 11:30
    assert row_of(page, "admin")[5] == "2026-11-30 周一 11:30"
    assert row_of(page, "planner")[5] == "—"
    assert logins_of(admin.get("/users", params={"sort": "-last_sign_in"}).text)[0] == "admin"


def test_the_excel_download_is_the_page_s_list_with_names_as_text(admin: TestClient) -> None:
    params = {"sort": "-login"}
    page = admin.get("/users", params=params).text
    download = admin.get("/users/export", params=params)
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:6] == ("登录名 / login", "姓名 / name", "单位 / unit", "类型 / kind",
                          "角色 / roles", "状态 / state")  # fmt: skip
    assert [r[0] for r in rows] == logins_of(page)
    for r in rows:
        cells = row_of(page, str(r[0]))
        assert (r[1], r[4], r[5]) == (cells[1], cells[3], cells[4])
    [formula] = [row for row in sheet.iter_rows(min_row=2) if row[0].value == "formula"]
    assert formula[1].data_type == "s" and formula[1].value == HOSTILE_NAME
    text = " ".join(str(c) for r in rows for c in r if c is not None)
    assert "argon2" not in text and PASSWORD not in text


def test_the_api_lists_users_with_their_last_sign_in_and_keeps_a_role(
    admin: TestClient, web_engine: Engine
) -> None:
    headers = bearer("admin", now=NOW)
    listed = admin.get("/api/v1/users", params={"sort": "-last_sign_in"}, headers=headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert items[0]["login"] == "admin" and items[0]["last_sign_in"] is not None
    assert {u["login"]: u["last_sign_in"] for u in items}["planner"] is None
    assert all("password_hash" not in u for u in items)
    emptied = admin.patch(
        "/api/v1/users/planner", json={"remove_roles": ["planner"]}, headers=headers
    )
    assert emptied.status_code == 409 and "至少保留一个角色" in emptied.text
    planner = user_of(web_engine, "planner")
    assert planner is not None and planner.roles == ["planner"]
