"""FastAPI dependencies: the session, the clock, the signed-in actor, and the permission check.

Also the working-day calendar and the deadline policy, read per request so that a calendar year
an operator loads takes effect at once. Tests override `get_session`, `get_clock` (and
`get_calendar`) through `app.dependency_overrides`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.auth.tokens import is_api_token, login_of
from supply.auth.users import active_actor, token_actor
from supply.calendar import WorkCalendar
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core import db
from supply.core.clock import Clock, clock_for, local_today
from supply.core.errors import Forbidden, Unauthenticated
from supply.core.paging import DEFAULT_LIMIT, MAX_LIMIT
from supply.core.settings import Settings, secret_of
from supply.core.settings import get_settings as read_settings
from supply.policy import DeadlinePolicy
from supply.projects.scope import check_visible

MAX_OFFSET = 10**9


async def get_session() -> AsyncIterator[Session]:
    """Yield a session on the configured database for one request (made on the event loop: it
    connects only when a route uses it)."""
    with Session(db.get_engine()) as session:
        yield session


# The cheap dependencies are `async def`: run on the event loop, not a thread-pool hop each.


async def get_settings() -> Settings:
    """Return the settings as the environment gives them (cached while it does not change;
    tests override this dependency)."""
    return read_settings()


async def get_clock(settings: Annotated[Settings, Depends(get_settings)]) -> Clock:
    """Return the clock requests are served by: the system's, or the frozen moment if set."""
    return clock_for(settings.frozen_now)


bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="登录令牌(POST /api/v1/auth/token)或服务账号的 API 令牌 / a sign-in token "
    "from POST /api/v1/auth/token, or a service account's API token",
)
NOT_SIGNED_IN = "请先登录 / sign in first (Authorization: Bearer <token>)"


def resolve_actor(
    request: Request,
    token: str,
    *,
    settings: Settings,
    clock: Clock,
    bind: Any,
    api_tokens: bool = True,
) -> Actor:
    """The actor a sign-in token (or, when `api_tokens`, a service account's API token) names,
    kept on the request; Unauthenticated for a token that is not valid or a user who is not
    active. Shared by the API's bearer header and the web pages' cookie (api.web.session)."""
    found = getattr(request.state, "actor", None)
    if isinstance(found, Actor):
        return found
    # A session of its own on the request's database: the route's transaction stays untouched
    # (and a user read in the last ACTOR_TTL_S seconds is not read again).
    with Session(bind) as session:
        if is_api_token(token):
            if not api_tokens:
                raise Unauthenticated(NOT_SIGNED_IN)
            actor = token_actor(session, token)
        else:
            login = login_of(token, secret=secret_of(settings), now=clock.now())
            actor = active_actor(session, login)
    request.state.actor = actor
    return actor


async def get_actor(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    clock: Annotated[Clock, Depends(get_clock)],
    token: Annotated[str | None, Depends(bearer)],
    request_session: Annotated[Session, Depends(get_session)],
) -> Actor:
    """The signed-in user (or service account) the request's bearer token names; 401 without
    one. The web pages' cookie is never read here: the API takes the Authorization header only
    (a cookie is sent by the browser on its own, so it comes with CSRF checks: api.web)."""
    found = getattr(request.state, "actor", None)
    if isinstance(found, Actor):
        return found
    if not token:
        raise Unauthenticated(NOT_SIGNED_IN)
    return resolve_actor(
        request, token, settings=settings, clock=clock, bind=request_session.get_bind()
    )


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_user(actor: ActorDep) -> str:
    """The signed-in user's login: who a change is recorded as."""
    return actor.login


async def get_calendar(settings: Annotated[Settings, Depends(get_settings)]) -> WorkCalendar:
    """Return the working-day calendar: the library's years and the operator's stored years."""
    return load_calendar(Path(settings.calendar_dir))


async def get_policy(settings: Annotated[Settings, Depends(get_settings)]) -> DeadlinePolicy:
    """Return the deadline policy: the defaults with the settings' overrides."""
    return policy_from_settings(settings)


SessionDep = Annotated[Session, Depends(get_session)]
CalendarDep = Annotated[WorkCalendar, Depends(get_calendar)]
PolicyDep = Annotated[DeadlinePolicy, Depends(get_policy)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
UserDep = Annotated[str, Depends(get_user)]


async def get_today(clock: ClockDep) -> date:
    """Return today's date in the company's time zone."""
    return local_today(clock.now())


TodayDep = Annotated[date, Depends(get_today)]


def check_permission(actor: Actor, wanted: Permission) -> None:
    """Forbidden, naming the permission, unless the actor's roles grant it."""
    if not actor.can(wanted):
        raise Forbidden(
            f"没有权限 {wanted.value} / the permission {wanted.value} is needed "
            f"(roles: {', '.join(actor.roles) or '-'})",
            permission=wanted.value,
        )


def require(permission: str) -> Any:
    """Declare the permission a route needs: 401 without a valid sign-in, 403 (naming the
    permission) when the actor's roles do not grant it. The permission is kept on the check
    (`check.permission`) so the route × role test can read every route's."""
    wanted = Permission(permission)

    async def check(actor: ActorDep) -> None:
        check_permission(actor, wanted)

    check.__name__ = f"require_{permission.replace('.', '_')}"
    check.permission = wanted.value  # type: ignore[attr-defined]
    return Depends(check)


def project_visible(
    project_id: Annotated[str, PathParam(max_length=32, description="项目编号 / project id")],
    actor: ActorDep,
    request_session: Annotated[Session, Depends(get_session)],
) -> None:
    """404 for a project the actor may not reach (another unit's, for a project manager)."""
    scope = actor.project_scope
    if scope is not None:
        with Session(request_session.get_bind()) as session:
            check_visible(session, project_id, scope)


ProjectVisible = Depends(project_visible)


class PageParams:
    """Offset and limit of a list request."""

    def __init__(
        self,
        offset: Annotated[
            int, Query(ge=0, le=MAX_OFFSET, description="起始位置 / index of the first row")
        ] = 0,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description="每页行数 / rows per page")
        ] = DEFAULT_LIMIT,
    ) -> None:
        self.offset = offset
        self.limit = limit


PageDep = Annotated[PageParams, Depends()]
MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database
