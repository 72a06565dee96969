"""Vendor consignment and the summary of all catalogs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PageDep, SessionDep, TodayDep, require
from catalogs import queries as service
from catalogs.models import CatalogSummary, ConsignmentPublic
from catalogs.summary import catalog_summary
from supply.core.paging import Page
from supply.stock.models import CONSIGNMENT_SORTS, ConsignmentFilter, SupplierConsignment
from supply.stock.queries import consignment_by_supplier

router = APIRouter(dependencies=[require("catalogs.read")])


@router.get("/consignment", response_model=Page[ConsignmentPublic], tags=["consignment"])
def list_consignment(
    session: SessionDep,
    page: PageDep,
    supplier: Annotated[
        str | None, Query(max_length=100, description="供应商包含 / text in supplier")
    ] = None,
    warehouse_id: Annotated[
        str | None, Query(max_length=32, description="仓库 / warehouse")
    ] = None,
    material_code: Annotated[
        str | None, Query(max_length=64, description="物料编码 / material")
    ] = None,
) -> Page[ConsignmentPublic]:
    """供应商寄存库存(领用前归供应商所有) / List vendor consignment, the vendor's until issued."""
    return service.list_consignment(
        session=session,
        supplier=supplier,
        warehouse_id=warehouse_id,
        material_code=material_code,
        offset=page.offset,
        limit=page.limit,
    )


@router.get(
    "/consignment/suppliers", response_model=Page[SupplierConsignment], tags=["consignment"]
)
def list_consignment_by_supplier(
    session: SessionDep,
    page: PageDep,
    supplier: Annotated[
        str | None, Query(max_length=100, description="供应商包含 / text in supplier")
    ] = None,
    warehouse_id: Annotated[
        str | None, Query(max_length=32, description="仓库 / warehouse")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="物料编码或名称包含 / text in material")
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            pattern=f"^-?({'|'.join(CONSIGNMENT_SORTS)})$",
            description="排序列, 前加 - 为降序; 默认寄存金额大者在前 / sort key, `-key` "
            "descending; by default the largest value first",
        ),
    ] = None,
) -> Page[SupplierConsignment]:
    """按供应商汇总的寄存库存及已保留量 / Vendor consignment by supplier, with what is held."""
    where = ConsignmentFilter(supplier=supplier, warehouse_id=warehouse_id, q=q, sort=sort)
    return consignment_by_supplier(
        session=session, where=where, offset=page.offset, limit=page.limit
    )


@router.get("/catalogs/summary", response_model=CatalogSummary, tags=["reserve"])
def summary(
    session: SessionDep,
    today: TodayDep,
    top: Annotated[
        int, Query(ge=0, le=100, description="列出低于定额的前几项 / below-quota lines to list")
    ] = 10,
) -> CatalogSummary:
    """目录概况：各仓库存金额、低于定额、临近到期或用尽的协议 / Summarise the catalogs today."""
    return catalog_summary(session=session, today=today, top=top)
