"""审计: the audit trail with filters and paging, and the same events as Excel — the queries of
/api/v1/audit (supply.audit.queries)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import SessionDep
from api.downloads import xlsx_download
from api.web.render import PageRoute, render
from api.web.session import page_require
from supply.audit.queries import SORTABLE, AuditFilter, export_events, list_events
from supply.core.clock import SHANGHAI

router = APIRouter(
    prefix="/audit",
    route_class=PageRoute,
    include_in_schema=False,
    dependencies=[page_require("audit.read")],
)
PER_PAGE = 50
MAX_OFFSET = 10**7
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FRAGMENTS = {"events": "audit/_events.html"}
EXPORT_NAME = "审计日志.xlsx"
Text = Annotated[str | None, Query(max_length=200)]


@dataclass
class EventFilter:
    """The audit page's filters as its form sends them, what they select, and what is wrong."""

    form: dict[str, str]
    where: AuditFilter = field(default_factory=AuditFilter)
    errors: dict[str, str] = field(default_factory=dict)


def _day(text: str, name: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    if DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    errors[name] = "日期写作 YYYY-MM-DD，如 2026-11-30 / a date is YYYY-MM-DD"
    return None


def event_filter(
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    since: str,
    until: str,
    sort: str = "",
) -> EventFilter:
    """Read the filters: `since` and `until` are days in Beijing time, both included; a field
    that is not valid is named and not applied."""
    values = {
        "actor": actor.strip()[:100],
        "action": action.strip()[:64],
        "object_type": object_type.strip()[:32],
        "object_id": object_id.strip()[:100],
        "since": since.strip(),
        "until": until.strip(),
        "sort": sort if sort.removeprefix("-") in SORTABLE else "",
    }
    errors: dict[str, str] = {}
    first = _day(values["since"], "since", errors)
    last = _day(values["until"], "until", errors)
    if first and last and last < first:
        errors["until"] = "结束日期早于开始日期 / the end is before the start"
        last = None
    where = AuditFilter(
        actor=values["actor"] or None,
        action=values["action"] or None,
        object_type=values["object_type"] or None,
        object_id=values["object_id"] or None,
        since=datetime.combine(first, time(), tzinfo=SHANGHAI) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), tzinfo=SHANGHAI) if last else None,
        sort=values["sort"] or None,
    )
    return EventFilter(form=values, where=where, errors=errors)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """A change in one line: `field: before → after`, or the fields recorded."""
    if not before and not after:
        return ""

    def shown(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    before, after = before or {}, after or {}
    parts = []
    for key in dict.fromkeys([*before, *after]):
        if key in before and key in after:
            parts.append(f"{key}: {shown(before[key])} → {shown(after[key])}")
        elif key in after:
            parts.append(f"{key}: {shown(after[key])}")
        else:
            parts.append(f"{key}: {shown(before[key])} → —")
    return "；".join(parts)


def _filters(
    actor: Text = None,
    action: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    since: Text = None,
    until: Text = None,
    sort: Text = None,
) -> EventFilter:
    return event_filter(
        actor or "",
        action or "",
        object_type or "",
        object_id or "",
        since or "",
        until or "",
        sort or "",
    )


Filters = Annotated[EventFilter, Depends(_filters)]


@router.get("")
def audit_page(
    request: Request,
    session: SessionDep,
    found: Filters,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """The audit trail, newest first; htmx asks for the table alone (`#events`)."""
    page = list_events(session, found.where, offset=offset, limit=PER_PAGE)
    rows = [(event, changes(event.before, event.after)) for event in page.items]
    context = {"filters": found, "page": page, "rows": rows}
    return render(request, "audit/index.html", context, fragments=FRAGMENTS)


@router.get("/export")
def audit_export(session: SessionDep, found: Filters) -> Response:
    """The filtered events as an Excel workbook (as GET /api/v1/audit/export)."""
    return xlsx_download(export_events(session, found.where), EXPORT_NAME)
