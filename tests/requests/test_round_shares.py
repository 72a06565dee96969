"""Writing a round: its plan shares scarce supply among its requests, so when one of them is not
written as planned the others are solved again instead of keeping a share that is now too
small; requests creating projects are written together, and one by one if that clashes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supply.core.errors import Conflict
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.holds.models import Hold, Promise
from supply.projects.service import cancel_project
from supply.requests import rounds
from supply.requests.models import RequestAnswer, SupplyRequest, SupplyRequestIn
from supply.requests.service import Ask, submit_requests
from tests.requests.conftest import FRIDAY, new_project
from tests.requests.conftest import Ask as AskOne
from tests.weekly.world import CALENDAR, POLICY, add_project


def _sources(answer: RequestAnswer) -> list[tuple[str, int]]:
    return [(p.kind, p.quantity) for line in answer.lines for p in line.allocations]


def _before_the_write_lock(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[Session], object]
) -> list[bool]:
    """Do `meanwhile` (in a session of its own, as another user would) once, just before the
    next round takes the write lock; the returned list says whether it ran."""
    real = rounds.write_session
    ran: list[bool] = []

    @contextmanager
    def interfered(bound: Engine) -> Iterator[Session]:
        if not ran:
            ran.append(True)
            with Session(bound) as session:
                meanwhile(session)
        with real(bound) as session:
            yield session

    monkeypatch.setattr(rounds, "write_session", interfered)
    return ran


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
    interfered = _before_the_write_lock(
        monkeypatch,
        lambda session: cancel_project(session=session, project_id="K-1", now=FRIDAY, user="test"),
    )
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


def test_requests_written_together_fall_back_one_by_one_when_one_clashes(
    engine: Engine, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three requests creating projects are written together (one statement per table). While
    # the round waits for the write lock, someone else creates project N-2: the joint write
    # fails on its key, so each request is written on its own — N-2 is refused with a clear
    # conflict, and the others are answered, each recorded under its own user.
    interfered = _before_the_write_lock(
        monkeypatch,
        lambda session: add_project(session, "N-2", kind="lv_extension",
                                    approved=date(2026, 11, 27), location="wendeng",
                                    voltage="0.4kV", lines=[("MTR-1P", 1)]),
    )  # fmt: skip
    users = ["甲", "乙", "丙"]
    outcomes = submit_requests(
        engine=engine,
        asks=[Ask(SupplyRequestIn.model_validate(new_project(f"N-{i}", [("MTR-1P", 2)])), None, u)
              for i, u in zip((1, 2, 3), users, strict=True)],
        now=FRIDAY, calendar=CALENDAR, policy=POLICY, settings=world,
    )  # fmt: skip
    assert interfered
    first, clash, third = outcomes
    assert isinstance(clash, Conflict) and "N-2" in clash.message
    assert isinstance(first, RequestAnswer) and isinstance(third, RequestAnswer)
    assert (first.answered_by, third.answered_by) == ("甲", "丙")
    with Session(engine) as session:
        saved = session.exec(select(SupplyRequest.project_id, SupplyRequest.created_by)).all()
        holders = session.exec(
            select(SupplyRequest.project_id, Hold.created_by, func.sum(Hold.quantity))
            .join(SupplyRequest, col(SupplyRequest.id) == Hold.request_id)
            .group_by(SupplyRequest.project_id, Hold.created_by)
        ).all()
        lines = session.exec(select(DemandLine.project_id, DemandLine.quantity)).all()
    assert sorted(saved) == [("N-1", "甲"), ("N-3", "丙")]
    assert sorted(holders) == [("N-1", "甲", 2), ("N-3", "丙", 2)]
    assert sorted(lines) == [
        ("N-1", 2),
        ("N-2", 1),
        ("N-3", 2),
    ]  # N-2's own line, not the request's


def test_requests_written_together_each_get_their_own_rows(engine: Engine, world: Settings) -> None:
    # Four new projects in one round, written together: every answer names the ids of its own
    # lines, holds and promises, and the stored answer is the one returned.
    outcomes = submit_requests(
        engine=engine,
        asks=[Ask(SupplyRequestIn.model_validate(
                  new_project(f"W-{i}", [("MTR-1P", 20), ("CB10-300", 100 * i)])), f"k{i}", f"u{i}")
              for i in range(1, 5)],
        now=FRIDAY, calendar=CALENDAR, policy=POLICY, settings=world,
    )  # fmt: skip
    answers = [o for o in outcomes if isinstance(o, RequestAnswer)]
    assert len(answers) == 4
    with Session(engine) as session:
        for i, answer in enumerate(answers, start=1):
            stored = session.get(SupplyRequest, answer.request_id)
            assert stored is not None and stored.project_id == f"W-{i}"
            assert RequestAnswer.model_validate_json(stored.answer) == answer
            for line in answer.lines:
                row = session.exec(
                    select(DemandLine).where(DemandLine.project_id == f"W-{i}",
                                             DemandLine.line_no == line.line_no)
                ).one()  # fmt: skip
                assert row.quantity == line.quantity
                for part in line.allocations:
                    if part.hold_id is not None:
                        hold = session.get(Hold, part.hold_id)
                        assert hold is not None
                        assert (hold.demand_line_id, hold.request_id, hold.quantity,
                                hold.created_by) == (row.id, answer.request_id, part.quantity,
                                                     f"u{i}")  # fmt: skip
                    else:
                        promise = session.get(Promise, part.promise_id)
                        assert promise is not None
                        assert (promise.demand_line_id, promise.request_id,
                                promise.quantity) == (row.id, answer.request_id,
                                                      part.quantity)  # fmt: skip


def test_stock_held_by_someone_else_meanwhile_is_never_held_twice(
    engine: Engine, world: Settings, ask: AskOne, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The world's wendeng reserve holds 2 transformers. A request is solved and planned onto
    # them; while it waits for the write lock another manager's request holds both. The locked
    # re-check must see that hold (free = on hand − held): the first request is solved again
    # and served from elsewhere, and never more is held than is on hand.
    interfered = _before_the_write_lock(
        monkeypatch, lambda _: ask(new_project("OTHER", [("DT-400", 2)]))
    )
    answer = ask(new_project("MINE", [("DT-400", 2)]))
    assert interfered
    assert all(p.kind != "reserve" for line in answer.lines for p in line.allocations)
    with Session(engine) as session:
        held = session.exec(
            select(func.sum(Hold.quantity)).where(
                Hold.status == "held", Hold.material_code == "DT-400", Hold.warehouse_id == "WH-WD"
            )
        ).one()
    assert held == 2  # the other request's two, and not one more
