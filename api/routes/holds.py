"""Holds: stock set aside for a project's line, and its life (issue, release, expiry)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from api.deps import MAX_ID, ActorDep, ClockDep, PageDep, SessionDep, TodayDep, UserDep, require
from supply.core.paging import Page
from supply.holds import service
from supply.holds.models import HoldDetail, HoldPublic, HoldStatus, IssueBody, ReleaseBody

router = APIRouter(prefix="/holds", tags=["holds"])

HoldId = Annotated[int, Path(ge=1, le=MAX_ID, description="保留编号 / hold id")]


class Expired(BaseModel):
    released: list[int]


def hold_visible(session: SessionDep, actor: ActorDep, hold_id: HoldId) -> None:
    """404 for a hold of another unit's project (a project manager's reach)."""
    service.check_hold_visible(session, hold_id, actor.project_scope)


VISIBLE = Depends(hold_visible)


@router.get("", response_model=Page[HoldPublic], dependencies=[require("holds.read")])
def list_holds(
    session: SessionDep,
    page: PageDep,
    status: Annotated[HoldStatus | None, Query(description="状态 / held, issued, released")] = None,
    project_id: Annotated[str | None, Query(max_length=32, description="项目 / project")] = None,
    warehouse_id: Annotated[
        str | None, Query(max_length=32, description="仓库 / warehouse")
    ] = None,
    material_code: Annotated[
        str | None, Query(max_length=64, description="物料 / material")
    ] = None,
    request_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="紧急需求 / urgent request")
    ] = None,
    *,
    actor: ActorDep,
) -> Page[HoldPublic]:
    """保留列表,新的在前 / List holds, newest first."""
    return service.list_holds(
        session=session,
        status=status,
        project_id=project_id,
        warehouse_id=warehouse_id,
        material_code=material_code,
        request_id=request_id,
        offset=page.offset,
        limit=page.limit,
        scope=actor.project_scope,
    )


@router.get("/{hold_id}", response_model=HoldDetail, dependencies=[require("holds.read"), VISIBLE])
def get_hold(session: SessionDep, hold_id: HoldId) -> HoldDetail:
    """查看保留及其记录 / Get a hold with its history."""
    return service.hold_detail(session=session, hold_id=hold_id)


@router.post(
    "/{hold_id}/issue",
    response_model=HoldDetail,
    dependencies=[require("holds.issue"), VISIBLE],
    responses={409: {"description": "已出库或已释放 / already issued or released"}},
)
def issue_hold(
    session: SessionDep,
    clock: ClockDep,
    today: TodayDep,
    user: UserDep,
    hold_id: HoldId,
    body: IssueBody,
) -> HoldDetail:
    """出库: 减少库存, 寄存物资转移所有权并生成结算行 / Goods issue: on-hand falls; consignment
    passes to the company with a settlement line."""
    return service.issue_hold(
        engine=session.get_bind(),  # type: ignore[arg-type]
        hold_id=hold_id,
        quantity=body.quantity,
        now=clock.now(),
        user=user,
        today=today,
    )


@router.post(
    "/{hold_id}/release",
    response_model=HoldDetail,
    dependencies=[require("holds.release"), VISIBLE],
    responses={409: {"description": "已出库或已释放 / already issued or released"}},
)
def release_hold(
    session: SessionDep,
    clock: ClockDep,
    today: TodayDep,
    user: UserDep,
    hold_id: HoldId,
    body: ReleaseBody,
) -> HoldDetail:
    """释放保留 / Give a hold back: the stock is free for others."""
    return service.release_hold(
        engine=session.get_bind(),  # type: ignore[arg-type]
        hold_id=hold_id,
        reason=body.reason,
        now=clock.now(),
        user=user,
        today=today,
    )


@router.post("/expire", response_model=Expired, dependencies=[require("holds.expire")])
def expire_holds(session: SessionDep, clock: ClockDep, today: TodayDep) -> Expired:
    """释放已到期的保留 / Release every hold past its expiry date."""
    released = service.expire_holds(
        engine=session.get_bind(),  # type: ignore[arg-type]
        today=today,
        now=clock.now(),
    )
    return Expired(released=released)
