"""FastAPI dependencies: the session, the clock, the acting user, and the permission hook.

Also the working-day calendar and the deadline policy, read per request so that a calendar year
an operator loads takes effect at once. Tests override `get_session`, `get_clock` (and
`get_calendar`) through `app.dependency_overrides`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Header, Query
from sqlmodel import Session

from supply.calendar import WorkCalendar
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core import db
from supply.core.clock import Clock, clock_for, local_today
from supply.core.paging import DEFAULT_LIMIT, MAX_LIMIT
from supply.core.settings import Settings
from supply.core.settings import get_settings as read_settings
from supply.policy import DeadlinePolicy

MAX_OFFSET = 10**9


async def get_session() -> AsyncIterator[Session]:
    """Yield a session on the configured database for one request (made on the event loop: it
    connects only when a route uses it)."""
    with Session(db.get_engine()) as session:
        yield session


# The cheap dependencies are `async def`: run on the event loop, not a thread-pool hop each.


async def get_settings() -> Settings:
    """Return the settings as the environment gives them."""
    return read_settings()


async def get_clock(settings: Annotated[Settings, Depends(get_settings)]) -> Clock:
    """Return the clock requests are served by: the system's, or the frozen moment if set."""
    return clock_for(settings.frozen_now)


async def get_user(
    x_gridsupply_user: Annotated[
        str | None,
        Header(description="操作人(可 URL 编码) / who is acting, percent-encoded if not ASCII"),
    ] = None,
) -> str:
    """Return who is acting; until sign-in exists, the X-Gridsupply-User header or 'anonymous'."""
    name = unquote(x_gridsupply_user or "").strip()
    return name[:100] or "anonymous"


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


def require(action: str) -> Any:
    """Declare the permission a route needs; every signed-in role is allowed until roles exist."""

    async def check(user: UserDep) -> None:
        # The per-route check slots in here: look up the user's roles and refuse `action`.
        del user

    check.__name__ = f"require_{action.replace('.', '_')}"
    return Depends(check)


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
