"""A real SMTP server on 127.0.0.1 (aiosmtpd), started per test, and the settings pointing at it;
and running a job as the scheduler would, at a moment of the test's choosing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from supply.calendar import WorkCalendar, default_calendar
from supply.core.clock import FixedClock
from supply.core.settings import Settings, get_settings
from supply.jobs.models import Trigger
from supply.jobs.runner import JobAttempt, run_job
from supply.policy import DeadlinePolicy


@dataclass
class Inbox:
    """What the test SMTP server received: one entry per message, as parsed."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to `address`."""
        return [m for m, r in zip(self.messages, self.recipients, strict=True) if address in r]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1, and GRIDSUPPLY_SMTP_* set to send through it."""
    received = Inbox()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("GRIDSUPPLY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRIDSUPPLY_SMTP_PORT", str(port))
    monkeypatch.setenv("GRIDSUPPLY_SMTP_SECURITY", "none")
    monkeypatch.setenv("GRIDSUPPLY_SMTP_FROM", "gridsupply@weihai.example.cn")
    try:
        yield received
    finally:
        controller.stop()


def job(
    name: str,
    engine: Engine,
    at: datetime,
    *,
    calendar: WorkCalendar | None = None,
    settings: Settings | None = None,
    scheduled: bool = True,
    tmp_runs: str | None = None,
    user: str = "system",
) -> JobAttempt:
    """Run job `name` at moment `at` (a frozen clock), as the scheduler does (its scheduled
    moment is `at`) unless `scheduled` is False (by hand)."""
    config = settings or get_settings()
    if tmp_runs is not None:
        config = config.model_copy(update={"runs_dir": tmp_runs})
    return run_job(
        name,
        engine=engine,
        settings=config,
        calendar=calendar or default_calendar(),
        policy=DeadlinePolicy(),
        clock=FixedClock(at),
        user=user,
        trigger=Trigger.SCHEDULE if scheduled else Trigger.MANUAL,
        scheduled_for=at if scheduled else None,
    )
