"""Users and service accounts: add, list, change roles, disable and enable, reset a password,
issue and revoke API tokens. Every change is audited in its own transaction's session."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from supply.auth.actor import Actor
from supply.auth.models import (
    LOGIN_PATTERN,
    ApiToken,
    ApiTokenIssued,
    ApiTokenPublic,
    User,
    UserListed,
    UserPublic,
)
from supply.auth.passwords import check_new_password, hash_password
from supply.auth.roles import ROLE_ZH, Permission, Role, parse_roles
from supply.auth.tokens import new_api_token, token_digest
from supply.core.audit import SYSTEM_USER, AuditEvent, record
from supply.core.clock import SHANGHAI
from supply.core.errors import (
    Conflict,
    ConflictingInput,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from supply.core.paging import Page, paginate, sort_order
from supply.core.sheets import Column, Sheet, write_xlsx

# How long a process trusts what it read of a user (roles, active): a user disabled elsewhere
# loses access within this many seconds (the issue's "within a minute").
ACTOR_TTL_S = 30.0
_cache: dict[str, tuple[float, Actor | None]] = {}
_cache_lock = threading.Lock()


def forget_cached() -> None:
    """Drop what this process remembers of users and tokens (after a change it made)."""
    with _cache_lock:
        _cache.clear()


def public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


def _get(session: Session, login: str) -> User:
    user = session.exec(select(User).where(User.login == login)).first()
    if user is None:
        raise NotFound(f"没有用户 {login} / no user {login}", loc=("login",))
    return user


def _check_login(login: str) -> str:
    if not re.match(LOGIN_PATTERN, login):
        raise InvalidInput(
            "登录名为 2–32 位字母、数字、点、下划线或连字符 / a login is 2–32 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit",
            loc=("login",),
        )
    return login


def _roles(names: Iterable[str], field: str = "roles") -> list[str]:
    """The roles named, in table order; one that does not exist is InvalidInput."""
    try:
        return [r.value for r in parse_roles(names)]
    except ValueError as exc:
        raise InvalidInput(str(exc), loc=(field,)) from None


EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")


def check_email(address: str) -> str | None:
    """The address to store (None for blank), or InvalidInput for one that is not an address."""
    text = address.strip()
    if not text:
        return None
    if len(text) > 254 or not EMAIL_PATTERN.match(text):
        raise InvalidInput(
            f"不是电子邮箱地址 / not an e-mail address: {text[:60]!r} (e.g. li.gong@example.cn)",
            loc=("email",),
        )
    return text


def _state(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "unit": user.unit,
        "roles": list(user.roles),
        "active": user.active,
        "kind": user.kind,
    }


def add_user(
    session: Session,
    *,
    login: str,
    display_name: str,
    roles: Iterable[str],
    unit: str | None,
    password: str | None,
    by: str,
    now: datetime,
    kind: str = "person",
) -> UserPublic:
    """Add a person (with a password) or a service account (kind `service`, no password)."""
    _check_login(login)
    chosen = _roles(roles)
    if not chosen:
        raise InvalidInput("至少一个角色 / give at least one role", loc=("roles",))
    if password is not None:  # a person without one signs in once an administrator sets it
        if kind != "person":
            raise InvalidInput(
                "服务账号没有密码 / a service account has no password", loc=("password",)
            )
        check_new_password(password)
    if session.exec(select(User.id).where(User.login == login)).first() is not None:
        raise Conflict(f"用户 {login} 已存在 / user {login} exists", loc=("login",))
    user = User(
        login=login,
        display_name=(display_name or login).strip()[:100],
        unit=(unit or None),
        kind=kind,
        roles=chosen,
        password_hash=hash_password(password) if password is not None else None,
        created_at=now,
        created_by=by,
        changed_at=now,
        changed_by=by,
    )
    session.add(user)
    record(
        session, actor=by, action="user.create", object_type="user", object_id=login,
        after=_state(user), at=now,
    )  # fmt: skip
    session.commit()
    forget_cached()
    return public(user)


def ensure_system_account(session: Session, *, now: datetime) -> None:
    """Make the service account `system` — who scheduled jobs act and are audited as — unless
    it exists: no password, no tokens, so no one signs in as it, and no person can take its
    name. Two processes making it at once: one does, the other finds it."""
    if session.exec(select(User.id).where(User.login == SYSTEM_USER)).first() is not None:
        return
    try:
        add_user(
            session, login=SYSTEM_USER, display_name="系统(定时作业) / system (scheduled jobs)",
            roles=[Role.VIEWER.value], unit=None, password=None, by=SYSTEM_USER, now=now,
            kind="service",
        )  # fmt: skip
    except (Conflict, IntegrityError):
        session.rollback()


@dataclass(frozen=True)
class UserFilter:
    """Which users a list shows, and in what order: `q` a part of the login or the name, one
    role, one unit, active or disabled; `sort` a key of `SORTABLE` (`-key` descending), None for
    by login."""

    q: str | None = None
    role: str | None = None
    unit: str | None = None
    active: bool | None = None
    sort: str | None = None


SIGN_IN = "auth.sign_in"  # the audit action of a successful sign-in (supply.auth.signin)


def _last_sign_ins() -> Any:
    """Each login's last successful sign-in, from the audit trail (a subquery)."""
    return (
        select(col(AuditEvent.object_id).label("login"), func.max(AuditEvent.at).label("at"))
        .where(AuditEvent.action == SIGN_IN, AuditEvent.object_type == "user")
        .group_by(col(AuditEvent.object_id))
        .subquery()
    )


def _listing(where: UserFilter) -> tuple[Any, dict[str, Any]]:
    last = _last_sign_ins()
    statement = select(User, last.c.at).outerjoin(last, last.c.login == col(User.login))
    if where.q:
        statement = statement.where(
            col(User.login).contains(where.q, autoescape=True)
            | col(User.display_name).contains(where.q, autoescape=True)
        )
    if where.role:  # a JSON list: its text holds the role in quotes, on SQLite and PostgreSQL
        quoted = f'"{where.role}"'
        statement = statement.where(cast(User.roles, String).contains(quoted, autoescape=True))
    if where.unit:
        statement = statement.where(User.unit == where.unit)
    if where.active is not None:
        statement = statement.where(User.active == where.active)
    columns = {
        "login": col(User.login),
        "name": col(User.display_name),
        "unit": col(User.unit),
        "active": col(User.active),
        "last_sign_in": last.c.at,
        "changed": col(User.changed_at),
    }
    return statement, columns


SORTABLE = ("login", "name", "unit", "active", "last_sign_in", "changed")


def _listed(row: Any) -> UserListed:
    user, last = row
    return UserListed(**public(user).model_dump(), last_sign_in=last)


def _order(where: UserFilter, columns: dict[str, Any]) -> list[Any]:
    # none (no unit, never signed in) as the smallest
    return sort_order(where.sort, columns, default=[], tiebreak=col(User.login), blanks="smallest")


def list_users(
    session: Session, *, offset: int, limit: int, where: UserFilter | None = None
) -> Page[UserListed]:
    """Users and service accounts (never their password hashes), by login or as `where` sorts
    them, each with their last sign-in."""
    where = where or UserFilter()
    statement, columns = _listing(where)
    return paginate(
        session, statement, order_by=_order(where, columns), offset=offset, limit=limit,
        convert=_listed,
    )  # fmt: skip


EXPORT_COLUMNS = (
    Column("登录名 / login"),
    Column("姓名 / name"),
    Column("单位 / unit"),
    Column("类型 / kind"),
    Column("角色 / roles"),
    Column("状态 / state"),
    Column("最近登录(北京时间) / last sign-in"),
    Column("创建 / created"),
    Column("创建人 / created by"),
    Column("修改 / changed"),
    Column("修改人 / changed by"),
)
EXPORT_LIMIT = 100_000
KIND_ZH = {"person": "人员", "service": "服务账号"}


def _moment(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def export_users(session: Session, where: UserFilter) -> bytes:
    """The users `where` selects, in its order, as an .xlsx workbook: every cell text (a name
    starting with `=` stays text), roles in Chinese, never a password or its hash."""
    statement, columns = _listing(where)
    rows = [
        (
            user.login,
            user.display_name,
            user.unit or "",
            KIND_ZH.get(user.kind, user.kind),
            "、".join(ROLE_ZH.get(Role(r), r) if r in set(Role) else r for r in user.roles),
            "启用" if user.active else "停用",
            _moment(last),
            _moment(user.created_at),
            user.created_by,
            _moment(user.changed_at),
            user.changed_by,
        )
        for user, last in session.exec(
            statement.order_by(*_order(where, columns)).limit(EXPORT_LIMIT)
        ).all()
    ]
    return write_xlsx([Sheet("用户", EXPORT_COLUMNS, rows)])


def get_user(session: Session, login: str) -> UserPublic:
    """The user `login` (NotFound if there is none)."""
    return public(_get(session, login))


def change_user(
    session: Session,
    login: str,
    *,
    by: str,
    now: datetime,
    add_roles: Iterable[str] = (),
    remove_roles: Iterable[str] = (),
    active: bool | None = None,
    unit: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> UserPublic:
    """Change a user's roles, active flag, unit, name or e-mail address (`""` removes it; one
    audit event with before/after); a user keeps at least one role."""
    user = _get(session, login)
    before = {**_state(user), "email": user.email}
    adding = set(_roles(add_roles))
    removing = set(_roles(remove_roles))
    roles = [r for r in dict.fromkeys([*user.roles, *sorted(adding)]) if r not in removing]
    if not roles and user.roles:  # well formed, but against what is stored: 409 to the API
        raise ConflictingInput(
            f"用户 {login} 至少保留一个角色(停用请用“停用”) / {login} keeps at least one role "
            "(disable the user instead)",
            loc=("roles",),
        )
    user.roles = roles
    if active is not None:
        user.active = active
    if unit is not None:
        user.unit = unit or None
    if display_name is not None:
        user.display_name = display_name.strip()[:100] or user.display_name
    if email is not None:
        user.email = check_email(email)
    after = {**_state(user), "email": user.email}
    if after == before:
        return public(user)
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    changed_after = {k: after[k] for k in changed_before}
    user.changed_at, user.changed_by = now, by
    session.add(user)
    action = "user.disable" if active is False else "user.enable" if active else "user.change"
    record(
        session, actor=by, action=action, object_type="user", object_id=login,
        before=changed_before, after=changed_after, at=now,
    )  # fmt: skip
    session.commit()
    forget_cached()
    return public(user)


def reset_password(session: Session, login: str, password: str, *, by: str, now: datetime) -> None:
    """Give a person a new password (the event says it changed, never what to)."""
    user = _get(session, login)
    if user.kind != "person":
        raise Conflict("服务账号没有密码 / a service account has no password", loc=("login",))
    check_new_password(password)
    user.password_hash = hash_password(password)
    user.changed_at, user.changed_by = now, by
    session.add(user)
    record(
        session, actor=by, action="user.reset_password", object_type="user", object_id=login,
        at=now,
    )  # fmt: skip
    session.commit()


def actor_of(user: User, *, scopes: frozenset[Permission] | None = None) -> Actor:
    return Actor.of(
        user.login,
        tuple(user.roles),
        display_name=user.display_name,
        unit=user.unit,
        kind=user.kind,
        scopes=scopes,
    )


def _cached(key: str, load: Any) -> Actor | None:
    moment = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and moment - hit[0] < ACTOR_TTL_S:
            return hit[1]
    found = load()
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (moment, found)
    return found


DISABLED = "账号不存在或已停用 / the account does not exist or is disabled"


def active_actor(session: Session, login: str) -> Actor:
    """The actor a valid sign-in token names, if they are still an active user."""

    def load() -> Actor | None:
        user = session.exec(select(User).where(User.login == login)).first()
        return actor_of(user) if user is not None and user.active else None

    found = _cached("user:" + login, load)
    if found is None:
        raise Unauthenticated(DISABLED)
    return found


def token_actor(session: Session, token: str) -> Actor:
    """The service account an API token belongs to, limited to the token's scopes."""

    def load() -> Actor | None:
        row = session.exec(
            select(ApiToken, User)
            .join(User, col(User.id) == ApiToken.user_id)
            .where(ApiToken.token_sha256 == token_digest(token))
        ).first()
        if row is None:
            return None
        api_token, user = row
        if api_token.revoked_at is not None or not user.active:
            return None
        scopes = frozenset(Permission(s) for s in api_token.scopes if s in set(Permission))
        return actor_of(user, scopes=scopes)

    found = _cached("token:" + token_digest(token), load)
    if found is None:
        raise Unauthenticated("API 令牌无效或已撤销 / the API token is not valid or was revoked")
    return found


def _token_public(token: ApiToken, login: str) -> dict[str, Any]:
    fields = ApiTokenPublic.model_fields.keys() - {"login"}
    return {**{name: getattr(token, name) for name in fields}, "login": login}


def issue_api_token(
    session: Session, login: str, *, name: str, scopes: Iterable[str], by: str, now: datetime
) -> ApiTokenIssued:
    """A new API token for a service account, limited to `scopes` (permissions)."""
    user = _get(session, login)
    if user.kind != "service":
        raise Conflict(
            "API 令牌只发给服务账号 / API tokens are for service accounts", loc=("login",)
        )
    wanted = []
    for scope in scopes:
        if scope not in set(Permission):
            raise InvalidInput(f"没有权限 {scope!r} / no permission {scope!r}", loc=("scopes",))
        wanted.append(scope)
    if not wanted:
        raise InvalidInput("至少一个权限 / give at least one permission", loc=("scopes",))
    token = new_api_token()
    row = ApiToken(
        user_id=user.id or 0,
        name=name.strip()[:100] or "api",
        prefix=token[:10],
        token_sha256=token_digest(token),
        scopes=sorted(set(wanted)),
        created_at=now,
        created_by=by,
    )
    session.add(row)
    session.flush()
    record(
        session, actor=by, action="token.issue", object_type="api_token", object_id=row.id,
        after={"login": login, "name": row.name, "scopes": row.scopes, "prefix": row.prefix},
        at=now,
    )  # fmt: skip
    session.commit()
    return ApiTokenIssued(**_token_public(row, login), token=token)


def revoke_api_token(session: Session, token_id: int, *, by: str, now: datetime) -> ApiTokenPublic:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"没有令牌 {token_id} / no API token {token_id}", loc=("token_id",))
    if row.revoked_at is not None:
        raise Conflict(f"令牌 {token_id} 已撤销 / token {token_id} is already revoked")
    row.revoked_at, row.revoked_by = now, by
    session.add(row)
    record(
        session, actor=by, action="token.revoke", object_type="api_token", object_id=token_id,
        before={"revoked_at": None}, after={"revoked_at": now}, at=now,
    )  # fmt: skip
    session.commit()
    forget_cached()
    user = session.get(User, row.user_id)
    return ApiTokenPublic(**_token_public(row, user.login if user else ""))


def list_api_tokens(session: Session) -> list[ApiTokenPublic]:
    rows = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .order_by(col(ApiToken.id))
    ).all()
    return [ApiTokenPublic(**_token_public(t, u.login)) for t, u in rows]


def count_users(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User)).one())
