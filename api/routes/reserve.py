"""Physical reserve: stock on hand, the yearly quota catalog and its confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_ID, ClockDep, PageDep, SessionDep, TodayDep, UserDep, require
from catalogs import reserve as service
from catalogs.models import QuotaCatalogPublic, QuotaChange, QuotaPublic, ReserveStockPublic
from catalogs.reserve import POSITION_SORTS
from supply.core.paging import Page
from supply.stock.models import PositionFilter, StockPosition
from supply.stock.queries import stock_positions

router = APIRouter(prefix="/reserve", tags=["reserve"])
READ = [require("catalogs.read")]

Warehouse = Annotated[str | None, Query(max_length=32, description="仓库 / warehouse id")]
CatalogId = Annotated[int, Path(ge=1, le=MAX_ID, description="定额目录版本编号 / quota catalog id")]
MaterialCode = Annotated[str | None, Query(max_length=64, description="物料编码 / material code")]


@router.get("/stock", response_model=Page[ReserveStockPublic], dependencies=READ)
def list_stock(
    session: SessionDep,
    page: PageDep,
    warehouse_id: Warehouse = None,
    material_code: MaterialCode = None,
) -> Page[ReserveStockPublic]:
    """实物库存 / List reserve stock on hand per warehouse and material."""
    return service.list_reserve_stock(
        session=session,
        warehouse_id=warehouse_id,
        material_code=material_code,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/positions", response_model=Page[StockPosition], dependencies=READ)
def list_positions(
    session: SessionDep,
    today: TodayDep,
    page: PageDep,
    warehouse_id: Warehouse = None,
    material_code: MaterialCode = None,
    q: Annotated[
        str | None, Query(max_length=100, description="物料编码或名称包含 / text in material")
    ] = None,
    below_quota: Annotated[
        bool, Query(description="只看低于定额的 / only lines below quota")
    ] = False,
    sort: Annotated[
        str | None,
        Query(
            pattern=f"^-?({'|'.join(POSITION_SORTS)})$",
            description="排序列, 前加 - 为降序; 默认补库金额大者在前 / sort key, `-key` "
            "descending; by default the largest shortfall value first",
        ),
    ] = None,
) -> Page[StockPosition]:
    """库存对照本年度已确认定额及已保留数量，缺口大者在前 / Compare stock with this year's
    confirmed quotas, with what holds set aside."""
    where = PositionFilter(
        warehouse_id=warehouse_id, material_code=material_code, q=q,
        below_quota_only=below_quota, sort=sort,
    )  # fmt: skip
    return stock_positions(
        session=session, today=today, where=where, offset=page.offset, limit=page.limit
    )


@router.get("/quota-catalogs", response_model=list[QuotaCatalogPublic], dependencies=READ)
def list_quota_catalogs(
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 / year")] = None,
) -> list[QuotaCatalogPublic]:
    """储备定额目录各版本(草稿/已确认/已替代) / List quota catalog versions, newest first."""
    return service.list_quota_catalogs(session=session, year=year)


@router.get("/quota-catalogs/{catalog_id}", response_model=QuotaCatalogPublic, dependencies=READ)
def get_quota_catalog(session: SessionDep, catalog_id: CatalogId) -> QuotaCatalogPublic:
    """查看一个定额目录版本 / Get one quota catalog version."""
    return service.get_quota_catalog_public(session=session, catalog_id=catalog_id)


@router.get(
    "/quota-catalogs/{catalog_id}/quotas", response_model=Page[QuotaPublic], dependencies=READ
)
def list_quotas(
    session: SessionDep,
    catalog_id: CatalogId,
    page: PageDep,
    warehouse_id: Warehouse = None,
    material_code: MaterialCode = None,
) -> Page[QuotaPublic]:
    """一个版本的定额明细 / List the quota lines of one catalog version."""
    return service.list_quotas(
        session=session,
        catalog_id=catalog_id,
        warehouse_id=warehouse_id,
        material_code=material_code,
        offset=page.offset,
        limit=page.limit,
    )


@router.get(
    "/quota-catalogs/{catalog_id}/changes", response_model=list[QuotaChange], dependencies=READ
)
def list_quota_changes(session: SessionDep, catalog_id: CatalogId) -> list[QuotaChange]:
    """与本年度已确认版本相比的变化 / The lines this version changes against the confirmed one."""
    return service.quota_changes(session=session, catalog_id=catalog_id)


@router.post(
    "/quota-catalogs/{catalog_id}/confirm",
    response_model=QuotaCatalogPublic,
    dependencies=[require("quotas.confirm")],
    responses={
        404: {"description": "不存在 / no such catalog"},
        409: {"description": "不是草稿 / not a draft"},
    },
)
def confirm_quota_catalog(
    session: SessionDep, clock: ClockDep, user: UserDep, catalog_id: CatalogId
) -> QuotaCatalogPublic:
    """确认草稿定额目录，原版本被替代 / Confirm a draft; the year's previous one is superseded.

    The signed-in user (营销部, for the departments) is recorded as who confirmed it."""
    return service.confirm_quota_catalog(
        session=session, catalog_id=catalog_id, confirmed_by=user, now=clock.now()
    )
