"""Fixtures for urgent requests: the small weekly-test world on each database, and a helper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supply.core.clock import SHANGHAI
from supply.core.settings import Settings
from supply.requests.models import RequestAnswer, SupplyRequestIn
from supply.requests.service import submit_request
from tests.weekly.world import CALENDAR, POLICY, load_world, settings_for

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)  # batch 2026-W49, province match 12-02

Ask = Callable[..., RequestAnswer]


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Settings:
    with Session(engine) as session:
        load_world(session)
        return settings_for(session, str(tmp_path / "runs"))


def new_project(
    project_id: str,
    lines: list[tuple[str, int]],
    *,
    kind: str = "area_capacity_increase",
    location: str = "wendeng",
    approved: str = "2026-11-27",
    **extra: Any,
) -> dict[str, Any]:
    """A request body that creates a project with these lines."""
    return {
        "project": {
            "id": project_id,
            "name": f"项目 {project_id}",
            "project_type": kind,
            "location": location,
            "approved_on": approved,
            **extra,
        },
        "lines": [{"material_code": m, "quantity": q} for m, q in lines],
    }


@pytest.fixture
def ask(engine: Engine, world: Settings) -> Ask:
    """Submit a request body (a dict) at a moment, as a user, with an optional key."""

    def run(
        body: dict[str, Any],
        *,
        now: datetime = FRIDAY,
        key: str | None = None,
        user: str = "张经理",
    ) -> RequestAnswer:
        return submit_request(
            engine=engine,
            body=SupplyRequestIn.model_validate(body),
            idempotency_key=key,
            now=now,
            user=user,
            calendar=CALENDAR,
            policy=POLICY,
            settings=world,
        )

    return run
