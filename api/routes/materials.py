"""Materials, warehouses and transport days."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import PageDep, SessionDep, require
from catalogs import queries as service
from catalogs.models import (
    MaterialPublic,
    TransportPublic,
    VoltageClass,
    WarehouseLevel,
    WarehousePublic,
)
from supply.core.paging import Page

router = APIRouter(tags=["materials"], dependencies=[require("catalogs.read")])


@router.get("/materials", response_model=Page[MaterialPublic])
def list_materials(
    session: SessionDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=100, description="编码或名称包含 / text in code or names")
    ] = None,
    category: Annotated[str | None, Query(max_length=64, description="物资类别 / category")] = None,
    voltage_class: Annotated[
        VoltageClass | None, Query(description="电压等级 / voltage class")
    ] = None,
    reserve_catalog: Annotated[
        bool | None, Query(description="是否储备目录物资 / in the reserve quota catalog")
    ] = None,
) -> Page[MaterialPublic]:
    """物料主数据列表 / List the material master, filtered and paged."""
    return service.list_materials(
        session=session,
        q=q,
        category=category,
        voltage_class=voltage_class,
        reserve_catalog=reserve_catalog,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/materials/{code}", response_model=MaterialPublic)
def get_material(
    session: SessionDep, code: Annotated[str, Path(description="物料编码 / material code")]
) -> MaterialPublic:
    """按编码查物料 / Get one material by its code."""
    return MaterialPublic.model_validate(
        service.get_material_by_code_or_raise(session=session, code=code)
    )


@router.get("/warehouses", response_model=Page[WarehousePublic])
def list_warehouses(
    session: SessionDep,
    page: PageDep,
    level: Annotated[WarehouseLevel | None, Query(description="仓库级别 / level")] = None,
    location: Annotated[
        str | None, Query(max_length=32, description="所在地点 / location id")
    ] = None,
) -> Page[WarehousePublic]:
    """仓库列表 / List warehouses."""
    return service.list_warehouses(
        session=session, level=level, location=location, offset=page.offset, limit=page.limit
    )


@router.get("/warehouses/{warehouse_id}", response_model=WarehousePublic)
def get_warehouse(
    session: SessionDep, warehouse_id: Annotated[str, Path(description="仓库编码 / warehouse id")]
) -> WarehousePublic:
    """按编码查仓库 / Get one warehouse."""
    return WarehousePublic.model_validate(
        service.get_warehouse_or_raise(session=session, warehouse_id=warehouse_id)
    )


@router.get("/transport", response_model=Page[TransportPublic])
def list_transport(
    session: SessionDep,
    page: PageDep,
    from_location: Annotated[
        str | None, Query(max_length=32, description="起点 / from location")
    ] = None,
    to_location: Annotated[
        str | None, Query(max_length=32, description="终点 / to location")
    ] = None,
) -> Page[TransportPublic]:
    """运输天数表(同一地点为 0 天) / List transport days between locations (same place: 0)."""
    return service.list_transport(
        session=session,
        from_location=from_location,
        to_location=to_location,
        offset=page.offset,
        limit=page.limit,
    )
