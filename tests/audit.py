"""Reading the audit trail in tests: the events recorded, oldest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supply.core.audit import AuditEvent


def events(engine: Engine, *, after_id: int = 0, action: str | None = None) -> list[AuditEvent]:
    """The events recorded after event `after_id` (of one action, if given), oldest first."""
    statement = select(AuditEvent).where(col(AuditEvent.id) > after_id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    with Session(engine) as session:
        return list(session.exec(statement.order_by(col(AuditEvent.id))).all())


def last_id(engine: Engine) -> int:
    found = events(engine)
    return found[-1].id or 0 if found else 0


def summary(found: list[AuditEvent]) -> list[tuple[str, str, str, str]]:
    """(actor, action, object type, object id) of each event."""
    return [(e.actor, e.action, e.object_type, e.object_id) for e in found]


def only(found: list[AuditEvent], action: str) -> dict[str, Any]:
    """The one event of `action` among `found`, as a dict."""
    [event] = [e for e in found if e.action == action]
    return event.model_dump()
