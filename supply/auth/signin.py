"""Signing in with a login and password: checked against the stored hash, throttled, audited.

Failed attempts are audit events (`auth.sign_in_failed`, the login as object id, the client's
address); the throttle counts them in the database, so it holds across server processes and
hosts: after `sign_in_attempts` failures for one login, or from one address, within
`sign_in_window_minutes`, sign-in is refused (429 with Retry-After) until the window passes —
even with the right password, so that guessing cannot go on in the background.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supply.auth.actor import Actor
from supply.auth.models import User
from supply.auth.passwords import verify_password
from supply.auth.users import SIGN_IN, actor_of
from supply.core.audit import AuditEvent, current_context, record
from supply.core.db import write_session
from supply.core.errors import TooManyAttempts, Unauthenticated

logger = logging.getLogger("gridsupply.auth")
FAILED = "auth.sign_in_failed"
WRONG = "用户名或密码错误 / wrong login or password"
LOCKED = "账号已停用，请联系管理员 / the account is disabled; ask an administrator"


def _recent_failures(session: Session, *, login: str, client: str, since: datetime) -> int:
    by_login = col(AuditEvent.object_id) == login
    where = or_(by_login, col(AuditEvent.client) == client) if client else by_login
    statement = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == FAILED, col(AuditEvent.at) >= since, where)
    )
    return int(session.exec(statement).one())


def sign_in(
    engine: Engine,
    *,
    login: str,
    password: str,
    now: datetime,
    attempts: int,
    window_minutes: int,
) -> Actor:
    """The actor whose login and password these are, or Unauthenticated (the failure audited and
    committed), or TooManyAttempts while the login or the address is throttled.

    One check-and-write (count the failures, check, record): a write session, so that sign-ins
    at the same moment queue instead of failing on SQLite's lock (and are counted in order)."""
    with write_session(engine) as session:
        return _sign_in(
            session, login=login.strip()[:100], password=password, now=now, attempts=attempts,
            window_minutes=window_minutes,
        )  # fmt: skip


def _sign_in(
    session: Session, *, login: str, password: str, now: datetime, attempts: int,
    window_minutes: int,
) -> Actor:  # fmt: skip
    client = current_context().client
    since = now - timedelta(minutes=window_minutes)
    if _recent_failures(session, login=login, client=client, since=since) >= attempts:
        logger.warning("sign-in throttled for %r from %s", login, client or "-")
        record(
            session, actor=login or "-", action=FAILED, object_type="user", object_id=login,
            after={"reason": "throttled"}, at=now,
        )  # fmt: skip
        session.commit()
        raise TooManyAttempts(
            f"登录失败次数过多，请 {window_minutes} 分钟后再试 / too many failed sign-ins; try "
            f"again in {window_minutes} minutes",
            retry_after=window_minutes * 60,
        )
    user = session.exec(select(User).where(User.login == login)).first()
    good = verify_password(password, user.password_hash if user is not None else None)
    reason = "" if good else "wrong login or password"
    if good and user is not None and not user.active:
        reason = "disabled"
    if good and user is not None and user.kind != "person":
        reason, good = "service account", False
    if not good or reason:
        logger.warning("sign-in refused for %r from %s: %s", login, client or "-", reason)
        record(
            session, actor=login or "-", action=FAILED, object_type="user", object_id=login,
            after={"reason": reason}, at=now,
        )  # fmt: skip
        session.commit()
        raise Unauthenticated(LOCKED if reason == "disabled" else WRONG)
    assert user is not None
    record(session, actor=login, action=SIGN_IN, object_type="user", object_id=login, at=now)
    session.commit()
    return actor_of(user)
