"""The clock, passed in: services take `now`/`today` as arguments and never read the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Anything that tells the current time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


@dataclass(frozen=True, slots=True)
class SystemClock:
    """The machine's clock, in the company's time zone."""

    tz: ZoneInfo = SHANGHAI

    def now(self) -> datetime:
        """Return the current time in the company's time zone."""
        return datetime.now(self.tz)


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock stopped at one instant (tests, replays)."""

    at: datetime

    def now(self) -> datetime:
        """Return the fixed instant."""
        return self.at


def clock_for(frozen_now: datetime | None) -> Clock:
    """The clock a process runs by: stopped at `frozen_now` if one is configured (training,
    replays, end-to-end tests; `GRIDSUPPLY_FROZEN_NOW`), else the system's."""
    return FixedClock(frozen_now) if frozen_now is not None else SystemClock()


def local_today(now: datetime, tz: ZoneInfo = SHANGHAI) -> date:
    """Return the company's calendar date at instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz).date()


def utc(now: datetime) -> datetime:
    """Return `now` in UTC (the form timestamps are stored in)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)
