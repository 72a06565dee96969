"""The audit trail: one append-only table of who changed what, written with the change.

Every service function that changes data calls `record(...)` on the session that makes the
change, before that session commits: the event and the change are in one transaction — no change
without its event, no event without its change (a rollback takes both). Nothing updates or
deletes an event: no route or command does, and the migration adds database triggers that refuse
UPDATE and DELETE on `audit_event` (SQLite and PostgreSQL).

Who acts is named by the caller (the signed-in user's login, a service account's name, `system`
for scheduled work); where the request came from (request id, client address) is set once per
HTTP request by the API (`request_context`) and read here, so services need not carry it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, Column, Index, insert
from sqlmodel import Field, Session, SQLModel

from supply.core.db import UTCDateTime

SYSTEM_USER = "system"  # who scheduled and automatic work is recorded as
MAX_TEXT = 100


class AuditEvent(SQLModel, table=True):
    """One change: when (UTC), who, what was done to which object, the changed fields before and
    after, and the request it came with."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True, description="时间 / when (UTC)")
    actor: str = Field(max_length=MAX_TEXT, index=True, description="操作人 / who")
    action: str = Field(max_length=64, index=True, description="动作 / action, e.g. plan.approve")
    object_type: str = Field(max_length=32, description="对象类型 / object type")
    object_id: str = Field(default="", max_length=MAX_TEXT, description="对象编号 / object id")
    before: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON), description="变更前 / changed fields before"
    )
    after: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON), description="变更后 / changed fields after"
    )
    request_id: str = Field(default="", max_length=64, description="请求编号 / request id")
    client: str = Field(default="", max_length=64, description="来源地址 / client address")


class AuditEventPublic(SQLModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    client: str


@dataclass(frozen=True)
class RequestContext:
    """Where a change came from: the HTTP request's id and the client's address (empty for the
    command line and scheduled jobs)."""

    request_id: str = ""
    client: str = ""


_NOWHERE = RequestContext()
_context: ContextVar[RequestContext | None] = ContextVar("audit_context", default=None)


@contextmanager
def request_context(request_id: str, client: str) -> Iterator[None]:
    """Attribute the events recorded inside the block to this request and address."""
    token = _context.set(RequestContext(request_id[:64], client[:64]))
    try:
        yield
    finally:
        _context.reset(token)


def set_request_context(request_id: str, client: str) -> None:
    """Attribute the events of the current task (an HTTP request's) to this request and address."""
    _context.set(RequestContext(request_id[:64], client[:64]))


def current_context() -> RequestContext:
    """The request the current code runs for (empty outside an HTTP request)."""
    return _context.get() or _NOWHERE


def _json(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {str(k): to_jsonable_python(v, fallback=str) for k, v in values.items()}


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value differs, as (before, after) of just those fields."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record_many(session: Session, events: list[dict[str, Any]], *, at: datetime) -> None:
    """Add the events of many changes in one statement (a hot path: no ORM objects). Each
    event is a dict of `record`'s keyword arguments: actor, action, object_type, object_id,
    and optionally before and after."""
    if not events:
        return
    context = current_context()
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    rows = [
        {
            "at": at,
            "actor": (e["actor"] or SYSTEM_USER)[:MAX_TEXT],
            "action": e["action"],
            "object_type": e["object_type"],
            "object_id": str(e.get("object_id", ""))[:MAX_TEXT],
            "before": _json(e.get("before")),
            "after": _json(e.get("after")),
            "request_id": context.request_id,
            "client": context.client,
        }
        for e in events
    ]
    session.connection().execute(insert(table), rows)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime,
) -> AuditEvent:
    """Add the event of a change to `session` (committed, or rolled back, with the change)."""
    context = current_context()
    event = AuditEvent(
        at=at,
        actor=(actor or SYSTEM_USER)[:MAX_TEXT],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:MAX_TEXT],
        before=_json(before),
        after=_json(after),
        request_id=context.request_id,
        client=context.client,
    )
    session.add(event)
    return event
