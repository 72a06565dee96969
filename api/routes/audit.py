"""The audit trail: who changed what, when, from where (administrators and viewers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import PageDep, SessionDep, require
from supply.audit.queries import SORTABLE, AuditFilter, export_events, list_events
from supply.core.audit import AuditEventPublic
from supply.core.dates import IsoMoment
from supply.core.paging import Page
from supply.core.sheets import MEDIA_TYPES

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[require("audit.read")])


def audit_filter(
    actor: Annotated[str | None, Query(max_length=100, description="操作人 / who")] = None,
    action: Annotated[
        str | None,
        Query(max_length=64, description="动作, 以 . 结尾匹配一类 / action; `plan.` matches all"),
    ] = None,
    object_type: Annotated[
        str | None, Query(max_length=32, description="对象类型 / object type")
    ] = None,
    object_id: Annotated[
        str | None, Query(max_length=100, description="对象编号 / object id")
    ] = None,
    since: Annotated[
        IsoMoment | None, Query(description="起始时刻(含, 带时区) / from this moment (ISO 8601)")
    ] = None,
    until: Annotated[
        IsoMoment | None, Query(description="截止时刻(不含, 带时区) / before this moment")
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            pattern=f"^-?({'|'.join(SORTABLE)})$",
            description="排序列, 前加 - 为降序; 默认最新在前 / sort key, `-key` descending",
        ),
    ] = None,
) -> AuditFilter:
    return AuditFilter(actor, action, object_type, object_id, since, until, sort)


Filter = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("", response_model=Page[AuditEventPublic])
def list_audit(session: SessionDep, page: PageDep, where: Filter) -> Page[AuditEventPublic]:
    """审计日志 / Audit events, newest first, filtered by who, action, object and time."""
    return list_events(session, where, offset=page.offset, limit=page.limit)


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPES["xlsx"]: {}}, "description": "审计日志.xlsx"}},
)
def export_audit(session: SessionDep, where: Filter) -> Response:
    """导出审计日志(Excel) / The filtered audit events as an Excel workbook."""
    return Response(
        export_events(session, where),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": "attachment; filename*=UTF-8''audit.xlsx"},
    )
