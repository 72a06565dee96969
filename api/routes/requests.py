"""Urgent supply requests: a firm answer per line now, the stock held for the project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response, status
from pydantic import BaseModel, Field

from api.coalesce import Context, coalescer
from api.deps import (
    MAX_ID,
    ActorDep,
    CalendarDep,
    ClockDep,
    PolicyDep,
    SessionDep,
    SettingsDep,
    UserDep,
    require,
)
from supply.requests import service
from supply.requests.models import RequestAnswer, SupplyRequestIn
from supply.requests.service import Ask

router = APIRouter(prefix="/requests", tags=["requests"])

RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="紧急需求编号 / request id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="幂等键: 同一键重复提交得到同一答复、只保留一次 / the same key twice gets the "
        "same answer and one set of holds",
    ),
]


class CancelBody(BaseModel):
    reason: str = Field(default="", max_length=200, description="取消原因 / why")


@router.post(
    "",
    response_model=RequestAnswer,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("requests.create")],
    responses={
        200: {"description": "同一幂等键的重复请求: 原答复 / a repeat: the first answer"},
        404: {"description": "项目不存在 / no such project"},
        409: {"description": "项目已存在或不在进行中 / project exists, or is not active"},
        422: {"description": "请求不合法, 或幂等键已用于另一请求 / invalid, or key reused"},
    },
)
async def submit_request(
    body: SupplyRequestIn,
    session: SessionDep,
    clock: ClockDep,
    actor: ActorDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """紧急需求: 即时答复并保留库存 / Ask for a project's materials now: per line the source,
    arrival, whether need-by and deadline are met (and why not), with reserve and consignment
    held for the project."""
    answer = await coalescer().submit(
        Ask(body, idempotency_key, actor.login, actor.project_scope),
        Context(
            engine=session.get_bind(),  # type: ignore[arg-type]
            clock=clock,
            calendar=calendar,
            policy=policy,
            settings=settings,
        ),
    )
    # Sent as serialised once (the answer is a checked RequestAnswer already).
    return Response(
        answer.model_dump_json(),
        status_code=status.HTTP_200_OK if answer.replayed else status.HTTP_201_CREATED,
        media_type="application/json",
    )


def request_visible(session: SessionDep, actor: ActorDep, request_id: RequestId) -> None:
    """404 for a request of another unit's project (a project manager's reach)."""
    service.check_request_visible(session, request_id, actor.project_scope)


VISIBLE = Depends(request_visible)


@router.get(
    "/{request_id}",
    response_model=RequestAnswer,
    dependencies=[require("requests.read"), VISIBLE],
)
def get_request(session: SessionDep, request_id: RequestId) -> RequestAnswer:
    """查看紧急需求的答复 / Get the answer a request got."""
    return service.get_request(session=session, request_id=request_id)


@router.post(
    "/{request_id}/cancel",
    response_model=RequestAnswer,
    dependencies=[require("requests.cancel"), VISIBLE],
    responses={409: {"description": "没有可取消的 / nothing left to cancel"}},
)
def cancel_request(
    session: SessionDep, clock: ClockDep, user: UserDep, request_id: RequestId, body: CancelBody
) -> RequestAnswer:
    """取消紧急需求: 释放保留、取消承诺 / Withdraw a request: release its holds, cancel its
    promises."""
    return service.cancel_request(
        engine=session.get_bind(),  # type: ignore[arg-type]
        request_id=request_id,
        reason=body.reason,
        now=clock.now(),
        user=user,
    )
