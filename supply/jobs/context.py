"""What a scheduled job runs with: the database, settings, calendar and policy, the moment, who
it acts as, and a way to record its steps; and how it tells people (`tell`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supply.auth.models import User
from supply.calendar import WorkCalendar
from supply.core.clock import local_today
from supply.core.settings import Settings
from supply.notifications.service import Reminder, deliver, notify
from supply.policy import DeadlinePolicy


@dataclass(frozen=True)
class JobContext:
    """One run's surroundings. `now` is the clock's moment when the run started."""

    engine: Engine
    settings: Settings
    calendar: WorkCalendar
    policy: DeadlinePolicy
    now: datetime
    user: str
    step: Callable[[str], None]

    @property
    def today(self) -> date:
        """Today in the policy's time zone (Asia/Shanghai)."""
        return local_today(self.now, self.policy.zone)

    def tell(self, pairs: Iterable[tuple[User, Reminder]]) -> tuple[int, int]:
        """Write the notifications not written before (committed) and e-mail them; return how
        many were new and how many e-mailed."""
        with Session(self.engine) as session:
            ids = notify(session, pairs, now=self.now, by=self.user)
            session.commit()
        sent = deliver(self.engine, ids, settings=self.settings, now=self.now)
        return len(ids), sent


def to_each(users: Iterable[User], reminder: Reminder) -> list[tuple[User, Reminder]]:
    """The reminder for each of `users`."""
    return [(user, reminder) for user in users]
