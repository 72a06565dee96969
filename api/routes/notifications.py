"""The signed-in user's notifications: reminders and warnings from the scheduled jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_ID, ClockDep, PageDep, SessionDep, UserDep
from supply.notifications.models import NotificationList, NotificationPublic
from supply.notifications.service import list_notifications, mark_read

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=NotificationList)
def get_notifications(
    session: SessionDep,
    user: UserDep,
    page: PageDep,
    unread: Annotated[bool, Query(description="只看未读 / unread only")] = False,
) -> NotificationList:
    """我的提醒, 新的在前 / My notifications, newest first, with how many are unread."""
    return list_notifications(
        session=session, login=user, unread_only=unread, offset=page.offset, limit=page.limit
    )


@router.post(
    "/{notification_id}/read",
    response_model=NotificationPublic,
    responses={404: {"description": "没有此提醒(或不是你的) / no such notification of yours"}},
)
def read_notification(
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    notification_id: Annotated[
        int, Path(ge=1, le=MAX_ID, description="提醒编号 / notification id")
    ],
) -> NotificationPublic:
    """标记为已读 / Mark one of my notifications read."""
    return mark_read(session=session, login=user, notification_id=notification_id, now=clock.now())
