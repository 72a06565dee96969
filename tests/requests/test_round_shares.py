"""A round's plan shares scarce supply among its requests: when one of them is not written as
planned, the others are solved again instead of keeping a share that is now too small."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from supply.core.errors import Conflict
from supply.core.settings import Settings
from supply.projects.service import cancel_project
from supply.requests import service
from supply.requests.models import RequestAnswer, SupplyRequestIn
from supply.requests.service import Ask, submit_requests
from tests.requests.conftest import FRIDAY, new_project
from tests.requests.conftest import Ask as AskOne
from tests.weekly.world import CALENDAR, POLICY, add_project


def _sources(answer: RequestAnswer) -> list[tuple[str, int]]:
    return [(p.kind, p.quantity) for line in answer.lines for p in line.allocations]


def test_a_request_refused_at_write_gives_its_share_back_to_the_round(
    engine: Engine, world: Settings, ask: AskOne, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cable agreement line has 200 m left (6,000 within its band, 5,800 promised). A city
    # key project and a normal one ask for 200 m each in one round; the plan gives the key
    # project the agreement's last 200 m. While the round waits for the write lock the key
    # project is cancelled by its manager, so its request is refused: the 200 m are free again
    # and the normal project gets them, not emergency procurement.
    first = ask(new_project("X-1", [("CB10-300", 5800)], kind="mv_10kv"))
    assert _sources(first) == [("agreement", 5800)]
    with Session(engine) as session:
        add_project(session, "K-1", kind="area_capacity_increase", approved=date(2026, 11, 27),
                    location="wendeng", priority="city_key", lines=[("CB10-300", 200)])  # fmt: skip
    real = service.write_session
    interfered: list[bool] = []

    @contextmanager
    def cancelled_meanwhile(bound: Engine) -> Iterator[Session]:
        if not interfered:
            interfered.append(True)
            with Session(bound) as session:
                cancel_project(session=session, project_id="K-1", now=FRIDAY)
        with real(bound) as session:
            yield session

    monkeypatch.setattr(service, "write_session", cancelled_meanwhile)
    key, normal = submit_requests(
        engine=engine,
        asks=[Ask(SupplyRequestIn.model_validate(body)) for body in
              ({"project_id": "K-1"}, new_project("N-1", [("CB10-300", 200)]))],
        now=FRIDAY, calendar=CALENDAR, policy=POLICY, settings=world,
    )  # fmt: skip
    assert interfered
    assert isinstance(key, Conflict) and "K-1" in key.message
    assert isinstance(normal, RequestAnswer)
    assert _sources(normal) == [("agreement", 200)]
