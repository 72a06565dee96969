"""Framework-agreement lines with what each can still serve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_ID, PageDep, SessionDep, TodayDep, require
from catalogs import queries as service
from catalogs.models import AgreementLinePublic
from catalogs.queries import AGREEMENT_SORTS
from supply.core.paging import Page
from supply.stock.models import AgreementExecution, AgreementFilter
from supply.stock.queries import agreement_execution

router = APIRouter(
    prefix="/agreements", tags=["agreements"], dependencies=[require("catalogs.read")]
)


@router.get("", response_model=Page[AgreementExecution])
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
    q: Annotated[
        str | None, Query(max_length=100, description="物料编码或名称包含 / text in material")
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
    expiring_within: Annotated[
        int | None,
        Query(
            ge=0,
            le=366,
            description="只看今天有效且此天数内到期的 / valid today, ending within this many days",
        ),
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            pattern=f"^-?({'|'.join(AGREEMENT_SORTS)})$",
            description="排序列, 前加 - 为降序; 默认按物料、单价 / sort key, `-key` descending; "
            "by default by material and price",
        ),
    ] = None,
) -> Page[AgreementExecution]:
    """协议库存行、今日剩余可用量及执行区间(已下单、已承诺对照 80–120%) / List agreement lines
    with their remaining quantity today and their execution against the band."""
    where = AgreementFilter(
        supplier=supplier, material_code=material_code, q=q, tender=tender,
        agreement_no=agreement_no, serving=serving, expiring_within=expiring_within, sort=sort,
    )  # fmt: skip
    return agreement_execution(
        session=session, today=today, where=where, offset=page.offset, limit=page.limit
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
