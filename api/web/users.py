"""用户: the users with their roles, unit, state and last sign-in (sorted, filtered, paged, as
Excel), and an administrator's changes — add a user, change roles, disable and enable, reset a
password — the same service calls as /api/v1/users (supply.auth.users). No page ever shows a
password or its hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.deps import ClockDep, SessionDep
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from supply.auth import users
from supply.auth.actor import Actor
from supply.auth.passwords import MAX_LENGTH, MIN_LENGTH
from supply.auth.roles import ROLE_ZH, Permission, Role
from supply.auth.units import list_units
from supply.core.errors import Conflict, DomainError, InvalidInput, NotFound
from supply.core.sheets import MEDIA_TYPES

router = APIRouter(prefix="/users", route_class=PageRoute, include_in_schema=False)
PER_PAGE = 50
MAX_OFFSET = 10**7
FRAGMENTS = {"users": "users/_table.html"}
EXPORT_NAME = "用户.xlsx"
Text = Annotated[str | None, Query(max_length=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
STATES = {"1": "启用", "0": "停用"}
DONE_ZH = {
    "added": "已新增",
    "roles": "已修改角色：",
    "disabled": "已停用（其登录与令牌在一分钟内失效）：",
    "enabled": "已启用：",
    "password": "已重置密码：",
}
ADD_FIELDS = ("login", "display_name", "unit", "roles", "password")


@dataclass
class UsersView:
    """The list's filters as the form sends them, what they select, and what is wrong."""

    form: dict[str, str]
    where: users.UserFilter = field(default_factory=users.UserFilter)
    errors: dict[str, str] = field(default_factory=dict)


def users_view(
    q: str, role: str, unit: str, state: str, sort: str, units: dict[str, str]
) -> UsersView:
    """Read the filters: a role, unit or state that does not exist is named under its field and
    not applied; an unknown sort is dropped."""
    form = {
        "q": q.strip()[:100],
        "role": role.strip()[:32],
        "unit": unit.strip()[:32],
        "state": state.strip()[:2],
        "sort": sort if sort.removeprefix("-") in users.SORTABLE else "",
    }
    errors: dict[str, str] = {}
    if form["role"] and form["role"] not in set(Role):
        errors["role"] = f"没有角色 {form['role']} / no such role"
    if form["unit"] and form["unit"] not in units:
        errors["unit"] = f"没有单位 {form['unit']} / no such unit"
    if form["state"] and form["state"] not in STATES:
        errors["state"] = "状态为启用或停用 / active or disabled"
    where = users.UserFilter(
        q=form["q"] or None,
        role=None if "role" in errors else form["role"] or None,
        unit=None if "unit" in errors else form["unit"] or None,
        active=None if "state" in errors or not form["state"] else form["state"] == "1",
        sort=form["sort"] or None,
    )
    return UsersView(form=form, where=where, errors=errors)


def _unit_names(session: Session) -> dict[str, str]:
    return {u.code: u.name for u in list_units(session)}


def _view(
    session: SessionDep,
    q: Text = None,
    role: Text = None,
    unit: Text = None,
    state: Text = None,
    sort: Text = None,
) -> UsersView:
    return users_view(
        q or "", role or "", unit or "", state or "", sort or "", _unit_names(session)
    )


View = Annotated[UsersView, Depends(_view)]


@dataclass
class Problems:
    """What an administrator's form got wrong: the message per field (`login`, `roles-<login>`,
    …), the values as sent (never a password), and which user's form to show open."""

    errors: dict[str, str] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)
    open: str = ""


def users_context(
    session: Session,
    *,
    actor: Actor,
    view: UsersView,
    offset: int = 0,
    problems: Problems | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """Everything the page shows: the users, the choices of the forms, what went wrong."""
    page = users.list_users(session, offset=offset, limit=PER_PAGE, where=view.where)
    problems = problems or Problems()
    return {
        "view": view,
        "params": view.form,
        "page": page,
        "units": _unit_names(session),
        "roles": [(r.value, ROLE_ZH[r]) for r in Role],
        "states": list(STATES.items()),
        "can_manage": actor.can(Permission.USERS_MANAGE),
        "me": actor.login,
        "errors": problems.errors,
        "sent": problems.sent,
        "open": problems.open,
        "password_min": MIN_LENGTH,
        "password_max": MAX_LENGTH,
        "notice": notice,
    }


def _notice(session: Session, done: str, login: str) -> str:
    """What was done to `login`, if it still holds ('' otherwise)."""
    if done not in DONE_ZH:
        return ""
    try:
        user = users.get_user(session, login)
    except NotFound:
        return ""
    if (done == "disabled" and user.active) or (done == "enabled" and not user.active):
        return ""
    words = DONE_ZH[done]
    if done == "added":
        return f"{words}用户 {user.login}（{user.display_name}）。"
    return f"{words}{user.login}（{user.display_name}）。"


@router.get("", dependencies=[page_require("users.read")])
def users_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    view: View,
    offset: Offset = 0,
    done: Annotated[str | None, Query(max_length=10)] = None,
    login: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The users by login (or as sorted); htmx asks for the table alone (`#users`); after a
    change (`?done=…&login=…`) a notice saying what was done."""
    notice = _notice(session, done, login) if done and login else ""
    context = users_context(session, actor=actor, view=view, offset=offset, notice=notice)
    return render(request, "users/index.html", context, fragments=FRAGMENTS)


@router.get("/export", dependencies=[page_require("users.read")])
def users_export(session: SessionDep, view: View) -> Response:
    """The filtered users as Excel, in the page's order (no passwords, no hashes)."""
    return Response(
        users.export_users(session, view.where),
        media_type=MEDIA_TYPES["xlsx"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(EXPORT_NAME)}",
            "Cache-Control": "no-store",
        },
    )


def _done(done: str, login: str) -> Response:
    """Back to the list (a reload does not send the form again), saying what was done."""
    return RedirectResponse("/users?" + urlencode({"done": done, "login": login}), status_code=303)


def _refused(
    request: Request, session: Session, actor: Actor, exc: DomainError, problems: Problems,
    field_of: dict[str, str],
) -> Response:  # fmt: skip
    """The page again (422) with the service's problem under the field it names."""
    session.rollback()
    where = exc.loc[-1] if exc.loc else ""
    problems.errors[field_of.get(str(where), next(iter(field_of.values())))] = exc.message
    view = users_view("", "", "", "", "", _unit_names(session))
    context = users_context(session, actor=actor, view=view, problems=problems)
    return render(request, "users/index.html", context, status=422)


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _roles(form: FormData) -> list[str]:
    return [str(v)[:32] for v in form.getlist("roles")][: len(Role) * 2]


@router.post("", dependencies=[page_require("users.manage")])
async def add_user(
    request: Request, session: SessionDep, clock: ClockDep, actor: PageActor
) -> Response:
    """新增用户: a person with roles and an initial password, as POST /api/v1/users."""
    form = await request.form()
    sent: dict[str, Any] = {
        "login": _text(form, "login", 40),
        "display_name": _text(form, "display_name", 100),
        "unit": _text(form, "unit", 40),
        "roles": _roles(form),
    }
    password = form.get("password", "")
    password = password if isinstance(password, str) else ""
    problems = Problems(sent=sent, open="add")
    if sent["unit"] and sent["unit"] not in _unit_names(session):
        problems.errors["unit"] = f"没有单位 {sent['unit']} / no such unit"
        view = users_view("", "", "", "", "", _unit_names(session))
        context = users_context(session, actor=actor, view=view, problems=problems)
        return render(request, "users/index.html", context, status=422)
    try:
        added = users.add_user(
            session, login=sent["login"], display_name=sent["display_name"], roles=sent["roles"],
            unit=sent["unit"] or None, password=password, by=actor.login, now=clock.now(),
        )  # fmt: skip
    except (InvalidInput, Conflict) as exc:
        fields = {name: name for name in ADD_FIELDS}
        return _refused(request, session, actor, exc, problems, fields)
    return _done("added", added.login)


@router.post("/{login}/roles", dependencies=[page_require("users.manage")])
async def change_roles(
    request: Request, session: SessionDep, clock: ClockDep, actor: PageActor, login: str
) -> Response:
    """修改角色: the roles ticked, as PATCH /api/v1/users/{login} (add the ticked, remove the
    others)."""
    login = login[:32]
    wanted = _roles(await request.form())
    problems = Problems(sent={f"roles-{login}": wanted}, open=f"roles-{login}")
    try:
        users.change_user(
            session, login, by=actor.login, now=clock.now(), add_roles=wanted,
            remove_roles=[r.value for r in Role if r.value not in wanted],
        )  # fmt: skip
    except InvalidInput as exc:
        return _refused(request, session, actor, exc, problems, {"roles": f"roles-{login}"})
    return _done("roles", login)


def _set_active(
    session: Session, clock: ClockDep, actor: Actor, login: str, active: bool
) -> Response:
    login = login[:32]
    users.change_user(session, login, by=actor.login, now=clock.now(), active=active)
    return _done("enabled" if active else "disabled", login)


@router.post("/{login}/disable", dependencies=[page_require("users.manage")])
def disable(session: SessionDep, clock: ClockDep, actor: PageActor, login: str) -> Response:
    """停用: the user can no longer sign in; their sessions end within a minute."""
    return _set_active(session, clock, actor, login, False)


@router.post("/{login}/enable", dependencies=[page_require("users.manage")])
def enable(session: SessionDep, clock: ClockDep, actor: PageActor, login: str) -> Response:
    """启用: the user may sign in again."""
    return _set_active(session, clock, actor, login, True)


@router.post("/{login}/password", dependencies=[page_require("users.manage")])
async def reset_password(
    request: Request, session: SessionDep, clock: ClockDep, actor: PageActor, login: str
) -> Response:
    """重置密码: a new password, as POST /api/v1/users/{login}/password."""
    login = login[:32]
    value = (await request.form()).get("password", "")
    password = value if isinstance(value, str) else ""
    problems = Problems(open=f"password-{login}")
    try:
        users.reset_password(session, login, password, by=actor.login, now=clock.now())
    except InvalidInput as exc:
        return _refused(request, session, actor, exc, problems, {"password": f"password-{login}"})
    return _done("password", login)
