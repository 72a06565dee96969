"""Who is told, once: notifications written per user and reminder, then e-mailed.

`notify` writes a notification for each (user, reminder) not yet written — the unique (login,
key) makes a second run, or a second process, add nothing — and returns the new ones; the job
commits, then `deliver` e-mails them (outside any transaction: an SMTP server may be slow) and
records per notification where it went or why it did not.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supply.auth.models import User
from supply.auth.roles import Role
from supply.auth.units import units_by_location
from supply.core.audit import record
from supply.core.errors import NotFound
from supply.core.settings import Settings
from supply.notifications.mail import Mail, MailFailed, mail_enabled, send_mail
from supply.notifications.models import Notification, NotificationList, NotificationPublic
from supply.projects.models import Project

logger = logging.getLogger(__name__)
SIGNATURE = "\n\n—— gridsupply 物资供应匹配 · 自动提醒 / an automatic reminder"


@dataclass(frozen=True)
class Reminder:
    """What to tell: `key` names the thing (`filing.due:12`), so it is told once per person."""

    kind: str
    key: str
    title: str
    body: str
    link: str = ""


def people_with_roles(session: Session, roles: Collection[Role]) -> list[User]:
    """Active people (not service accounts) holding any of `roles`, by login."""
    wanted = {r.value for r in roles}
    users = session.exec(
        select(User).where(col(User.active).is_(True), User.kind == "person").order_by(User.login)
    )
    return [u for u in users if wanted & set(u.roles)]


def managers_of(session: Session, project_ids: Collection[str]) -> dict[str, list[User]]:
    """Each project's managers: its assigned manager if that is an active user, else the
    project managers of its unit (active people; a project stored without a unit: the unit of
    its location)."""
    if not project_ids:
        return {}
    projects = session.exec(select(Project).where(col(Project.id).in_(sorted(project_ids))))
    managers = people_with_roles(session, [Role.PROJECT_MANAGER])
    by_login = {
        u.login: u
        for u in session.exec(select(User).where(col(User.active).is_(True), User.kind == "person"))
    }
    units = units_by_location(session)
    found: dict[str, list[User]] = {}
    for project in projects:
        assigned = by_login.get(project.manager or "")
        unit = project.unit or units.get(project.location)
        if assigned is not None:
            found[project.id] = [assigned]
        else:
            found[project.id] = [m for m in managers if unit and m.unit == unit]
    return found


def notify(
    session: Session, pairs: Iterable[tuple[User, Reminder]], *, now: datetime, by: str
) -> list[int]:
    """Write a notification for each (user, reminder) not written before; return the new ids
    (flush only: the caller commits, then `deliver`s them). A pair written before — by an
    earlier run or by another process at the same moment — is left as it is."""
    rows = {
        (user.login, reminder.key): {
            "login": user.login,
            "kind": reminder.kind[:48],
            "key": reminder.key[:200],
            "title": reminder.title[:200],
            "body": reminder.body[:4000],
            "link": reminder.link[:300],
            "created_at": now,
            "created_by": by[:100],
        }
        for user, reminder in pairs
    }
    if not rows:
        return []
    table = Notification.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=["login", "key"])
        .returning(table.c.id)
    )
    ids = sorted(session.connection().execute(statement).scalars())
    return [int(i) for i in ids]


def deliver(engine: Engine, ids: Sequence[int], *, settings: Settings, now: datetime) -> int:
    """E-mail the notifications `ids` to their users who have an address (when mail is
    configured); record on each where it went, or why not. Return how many were sent."""
    if not ids or not mail_enabled(settings):
        return 0
    with Session(engine) as session:
        rows = session.exec(
            select(Notification, User.email)
            .join(User, col(User.login) == Notification.login)
            .where(col(Notification.id).in_(list(ids)), col(User.email).is_not(None))
            .order_by(col(Notification.id))
        ).all()
    if not rows:
        return 0
    mails = [
        Mail(to=str(email), subject=f"[gridsupply] {n.title}", body=_text(n)) for n, email in rows
    ]
    try:
        send_mail(mails, settings=settings)
    except MailFailed as exc:
        logger.warning("reminder e-mail not sent: %s", exc)
        _mark(engine, [n.id for n, _ in rows], error=str(exc))
        return 0
    with Session(engine) as session:
        for notification, email in rows:
            session.exec(
                update(Notification)  # type: ignore[call-overload]
                .where(col(Notification.id) == notification.id)
                .values(emailed_to=email, emailed_at=now, email_error="")
            )
        session.commit()
    return len(rows)


def _text(notification: Notification) -> str:
    text = notification.body or notification.title
    if notification.link:
        text += f"\n\n网页 / page: {notification.link}"
    return text + SIGNATURE


def _mark(engine: Engine, ids: list[int | None], *, error: str) -> None:
    with Session(engine) as session:
        session.exec(
            update(Notification)  # type: ignore[call-overload]
            .where(col(Notification.id).in_(ids))
            .values(email_error=error[:500])
        )
        session.commit()


def _public(notification: Notification) -> NotificationPublic:
    return NotificationPublic.model_validate(notification, from_attributes=True)


def list_notifications(
    *, session: Session, login: str, unread_only: bool = False, offset: int = 0, limit: int = 50
) -> NotificationList:
    """The user's notifications, newest first, with how many are unread."""
    mine = select(Notification).where(Notification.login == login)
    unread = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.login == login, col(Notification.read_at).is_(None))
    ).one()
    listed = mine.where(col(Notification.read_at).is_(None)) if unread_only else mine
    total = (
        unread
        if unread_only
        else session.exec(select(func.count()).select_from(listed.subquery())).one()
    )
    items = session.exec(
        listed.order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return NotificationList(
        items=[_public(n) for n in items], total=total, unread=unread, offset=offset, limit=limit
    )


def mark_read(
    *, session: Session, login: str, notification_id: int, now: datetime
) -> NotificationPublic:
    """Mark one of the user's notifications read (audited; reading it again changes nothing).
    Another user's notification is NotFound, as a missing one."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.login != login:
        raise NotFound(
            f"没有提醒 {notification_id} / no notification {notification_id}",
            loc=("notification_id",),
        )
    if notification.read_at is None:
        notification.read_at = now
        session.add(notification)
        record(
            session, actor=login, action="notification.read", object_type="notification",
            object_id=notification_id, after={"read_at": now}, at=now,
        )  # fmt: skip
        session.commit()
        session.refresh(notification)
    return _public(notification)
