"""The audit trail read back: a filtered page of events, newest first, and the same as Excel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from supply.core.audit import AuditEvent, AuditEventPublic
from supply.core.clock import SHANGHAI
from supply.core.paging import Page, paginate, sort_order
from supply.core.sheets import Column, Sheet, write_xlsx

EXPORT_LIMIT = 100_000  # rows in one Excel export (Excel holds 1,048,576)


@dataclass(frozen=True)
class AuditFilter:
    """Which events: by who, what action (a prefix such as `plan.` matches all of an area),
    which object (type, and id), and a time range [since, until)."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str | None = None  # a key of SORTABLE, `-key` descending; None: newest first


def _statement(where: AuditFilter) -> Any:
    statement = select(AuditEvent)
    if where.actor:
        statement = statement.where(AuditEvent.actor == where.actor)
    if where.action:
        if where.action.endswith("."):
            statement = statement.where(col(AuditEvent.action).startswith(where.action))
        else:
            statement = statement.where(AuditEvent.action == where.action)
    if where.object_type:
        statement = statement.where(AuditEvent.object_type == where.object_type)
    if where.object_id:
        statement = statement.where(AuditEvent.object_id == where.object_id)
    if where.since:
        statement = statement.where(col(AuditEvent.at) >= where.since)
    if where.until:
        statement = statement.where(col(AuditEvent.at) < where.until)
    return statement


NEWEST_FIRST = (col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
SORTABLE = {
    "id": col(AuditEvent.id),
    "at": col(AuditEvent.at),
    "actor": col(AuditEvent.actor),
    "action": col(AuditEvent.action),
    "object": col(AuditEvent.object_type),
}


def _order(where: AuditFilter) -> list[Any]:
    return sort_order(
        where.sort, SORTABLE, default=NEWEST_FIRST[:1], tiebreak=col(AuditEvent.id).desc()
    )


def list_events(
    session: Session, where: AuditFilter, *, offset: int, limit: int
) -> Page[AuditEventPublic]:
    return paginate(
        session,
        _statement(where),
        order_by=_order(where),
        offset=offset,
        limit=limit,
        convert=lambda e: AuditEventPublic.model_validate(e, from_attributes=True),
    )


COLUMNS = (
    Column("编号 / id", "int"),
    Column("时间(北京时间) / at (Beijing time)"),
    Column("操作人 / actor"),
    Column("动作 / action"),
    Column("对象类型 / object type"),
    Column("对象编号 / object id"),
    Column("变更前 / before"),
    Column("变更后 / after"),
    Column("请求编号 / request id"),
    Column("来源地址 / client"),
)


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def export_events(session: Session, where: AuditFilter) -> bytes:
    """The events as an .xlsx workbook (at most EXPORT_LIMIT, in the list's order); every value is
    written as text — a `before` holding `=…` stays text."""
    events = session.exec(_statement(where).order_by(*_order(where)).limit(EXPORT_LIMIT)).all()
    rows = [
        (
            e.id,
            e.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.object_type,
            e.object_id,
            _json(e.before),
            _json(e.after),
            e.request_id,
            e.client,
        )
        for e in events
    ]
    return write_xlsx([Sheet("审计日志", COLUMNS, rows)])
