"""What the steps of answering a round of urgent requests share: each request as it arrives
(`Ask`), what it comes to (`Outcome`), and what every step reads (`Round`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from supply.auth.actor import ProjectScope
from supply.calendar import WorkCalendar
from supply.core.errors import DomainError
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.requests.models import RequestAnswer, SupplyRequestIn


@dataclass(frozen=True)
class Ask:
    """One urgent request as it arrives: what is asked, its idempotency key, and who asks."""

    body: SupplyRequestIn
    idempotency_key: str | None = None
    user: str = "anonymous"
    scope: ProjectScope | None = None  # a project manager's reach; None: every project

    @property
    def project_id(self) -> str:
        if self.body.project is not None:
            return self.body.project.id
        assert self.body.project_id is not None
        return self.body.project_id


Outcome = RequestAnswer | DomainError | Exception  # a fault (not the user's) is an Exception


@dataclass(frozen=True)
class Round:
    """What every step of answering a round of requests reads (a request is named by its index
    in `asks`). The outcomes are not here: each step returns its own, and
    `supply.requests.rounds` collects them."""

    asks: Sequence[Ask]
    prints: list[str]  # each ask's fingerprint
    now: datetime
    calendar: WorkCalendar
    policy: DeadlinePolicy
    settings: Settings
