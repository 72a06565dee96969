"""Users and service accounts: add, list, change roles, disable and enable, reset a password,
issue and revoke API tokens. Every change is audited in its own transaction's session."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from supply.auth.actor import Actor
from supply.auth.models import (
    LOGIN_PATTERN,
    ApiToken,
    ApiTokenIssued,
    ApiTokenPublic,
    User,
    UserPublic,
)
from supply.auth.passwords import check_new_password, hash_password
from supply.auth.roles import Permission, parse_roles
from supply.auth.tokens import new_api_token, token_digest
from supply.core.audit import record
from supply.core.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from supply.core.paging import Page, paginate

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
    chosen = [r.value for r in parse_roles(roles)]
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


def list_users(session: Session, *, offset: int, limit: int) -> Page[UserPublic]:
    return paginate(
        session, select(User), order_by=[col(User.login)], offset=offset, limit=limit,
        convert=public,
    )  # fmt: skip


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
) -> UserPublic:
    """Change a user's roles, active flag, unit or name (one audit event with before/after)."""
    user = _get(session, login)
    before = _state(user)
    adding = {r.value for r in parse_roles(add_roles)}
    removing = {r.value for r in parse_roles(remove_roles)}
    user.roles = [r for r in dict.fromkeys([*user.roles, *sorted(adding)]) if r not in removing]
    if active is not None:
        user.active = active
    if unit is not None:
        user.unit = unit or None
    if display_name is not None:
        user.display_name = display_name.strip()[:100] or user.display_name
    after = _state(user)
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
