"""提醒: the signed-in user's notifications (reminders and warnings of the scheduled jobs),
newest first, each marked read here — the same service as /api/v1/notifications — and the
header's badge of how many are unread."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from api.deps import MAX_ID, ClockDep, SessionDep
from api.web.render import PageRoute, local_path, render
from api.web.session import PageActor
from supply.notifications.service import list_notifications, mark_read

router = APIRouter(prefix="/notifications", route_class=PageRoute, include_in_schema=False)
PER_PAGE = 30
MAX_OFFSET = 10**7
FRAGMENTS = {"notifications": "notifications/_list.html"}


@router.get("")
def notifications_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    unread: Annotated[str | None, Query(max_length=5)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """My notifications (every signed-in user has their own), newest first; `unread=1` keeps
    the unread ones; htmx asks for the list alone (`#notifications`)."""
    only_unread = unread in ("1", "true", "on")
    found = list_notifications(
        session=session, login=actor.login, unread_only=only_unread, offset=offset,
        limit=PER_PAGE,
    )  # fmt: skip
    params = {"unread": "1" if only_unread else ""}
    context = {"found": found, "params": params, "unread_only": only_unread}
    return render(request, "notifications/index.html", context, fragments=FRAGMENTS)


@router.get("/badge")
def badge(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """The header's 提醒 link with the number unread (htmx loads it after the page)."""
    found = list_notifications(session=session, login=actor.login, unread_only=True, limit=1)
    return render(request, "notifications/_badge.html", {"unread": found.unread})


@router.post("/{notification_id}/read")
def read(
    session: SessionDep,
    clock: ClockDep,
    actor: PageActor,
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    next: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """Mark one of mine read (as POST /api/v1/notifications/{id}/read), then go to the page it
    names (a path of this site) or back to the list."""
    found = mark_read(session=session, login=actor.login, notification_id=notification_id,
                      now=clock.now())  # fmt: skip
    target = local_path(next or found.link or "/notifications", "/notifications")
    return RedirectResponse(target, status_code=303)
