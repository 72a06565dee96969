"""Framework-agreement lines with what each can still serve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_ID, PageDep, SessionDep, TodayDep, require
from catalogs import queries as service
from catalogs.models import AgreementLinePublic
from supply.core.paging import Page

router = APIRouter(
    prefix="/agreements", tags=["agreements"], dependencies=[require("catalogs.read")]
)


@router.get("", response_model=Page[AgreementLinePublic])
def list_agreements(
    session: SessionDep,
    today: TodayDep,
    page: PageDep,
    supplier: Annotated[
        str | None, Query(max_length=100, description="供应商包含 / text in supplier")
    ] = None,
    material_code: Annotated[
        str | None, Query(max_length=64, description="物料编码 / material")
    ] = None,
    tender: Annotated[
        str | None, Query(max_length=100, description="招标批次包含 / text in tender")
    ] = None,
    agreement_no: Annotated[
        str | None, Query(max_length=64, description="协议编号 / agreement")
    ] = None,
    serving: Annotated[
        bool | None,
        Query(description="true 只看今天可用的，false 只看已失效或用尽的 / usable today or not"),
    ] = None,
) -> Page[AgreementLinePublic]:
    """协议库存行及今日剩余可用量 / List agreement lines with their remaining quantity today."""
    return service.list_agreements(
        session=session,
        today=today,
        supplier=supplier,
        material_code=material_code,
        tender=tender,
        agreement_no=agreement_no,
        serving=serving,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/{agreement_id}", response_model=AgreementLinePublic)
def get_agreement(
    session: SessionDep,
    today: TodayDep,
    agreement_id: Annotated[
        int, Path(ge=1, le=MAX_ID, description="协议行编号 / agreement line id")
    ],
) -> AgreementLinePublic:
    """查看一个协议行 / Get one agreement line."""
    line = service.get_agreement_or_raise(session=session, agreement_id=agreement_id)
    return service.agreement_public(line, today=today)
