"""Requests answered together (one solve, one transaction): the engine decides who gets scarce
stock, each request keeps its own outcome, and repeats and same-project requests take turns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from api.coalesce import Coalescer, Context
from supply.core.clock import FixedClock
from supply.core.db import make_engine
from supply.core.errors import Conflict, InvalidInput
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.holds.models import Hold
from supply.requests.models import RequestAnswer, SupplyRequest, SupplyRequestIn
from supply.requests.service import Ask, Outcome, submit_requests
from tests.requests.conftest import FRIDAY, new_project
from tests.requests.conftest import Ask as AskOne
from tests.weekly.world import CALENDAR, POLICY, add_project

Together = Callable[[Sequence[tuple[dict[str, Any], str | None]]], list[Outcome]]


@pytest.fixture
def together(engine: Engine, world: Settings) -> Together:
    """Submit several request bodies (each with an optional key) as one round."""

    def run(asks: Sequence[tuple[dict[str, Any], str | None]]) -> list[Outcome]:
        return submit_requests(
            engine=engine,
            asks=[Ask(SupplyRequestIn.model_validate(b), key, "张经理") for b, key in asks],
            now=FRIDAY,
            calendar=CALENDAR,
            policy=POLICY,
            settings=world,
        )

    return run


def _answer(outcome: Outcome) -> RequestAnswer:
    assert isinstance(outcome, RequestAnswer), outcome
    return outcome


def _held(engine: Engine, material: str) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(
            select(SupplyRequest.project_id, func.sum(Hold.quantity))
            .join(SupplyRequest, col(SupplyRequest.id) == Hold.request_id)
            .where(Hold.material_code == material, Hold.status == "held")
            .group_by(SupplyRequest.project_id)
        ).all()
    return {project: int(quantity) for project, quantity in rows}


def test_the_engine_not_the_arrival_order_decides_who_gets_the_transformers(
    together: Together, engine: Engine, ask: AskOne
) -> None:
    # Two transformers in reserve; both projects need two now. The normal project arrived
    # first, but the city key project weighs more: answered together, the key project gets
    # them. One after the other, first come would have been first served.
    normal = new_project("N-1", [("DT-400", 2)])
    key = new_project("K-1", [("DT-400", 2)], priority="city_key")
    first, second = together([(normal, None), (key, None)])
    assert _answer(second).lines[0].outcome == "held"
    assert _answer(first).lines[0].outcome != "held"
    assert _held(engine, "DT-400") == {"K-1": 2}
    later = ask(new_project("N-2", [("DT-400", 1)]))
    assert later.lines[0].outcome != "held"  # nothing is left for a later request


def test_the_server_queue_answers_requests_arriving_together_in_one_round(
    engine: Engine, world: Settings
) -> None:
    # The same two requests through a process's queue (as the HTTP route uses it): both arrive
    # while the queue is idle, so they are answered together and the key project wins.
    context = Context(engine, FixedClock(FRIDAY), CALENDAR, POLICY, world)

    async def both() -> list[RequestAnswer]:
        queue = Coalescer()
        asks = [
            Ask(SupplyRequestIn.model_validate(new_project("N-1", [("DT-400", 2)])), None, "甲"),
            Ask(SupplyRequestIn.model_validate(
                new_project("K-1", [("DT-400", 2)], priority="city_key")), None, "乙"),
        ]  # fmt: skip
        return await asyncio.gather(*(queue.submit(a, context) for a in asks))

    normal, key = asyncio.run(both())
    assert (normal.lines[0].outcome, key.lines[0].outcome) == ("promised", "held")
    assert (normal.answered_by, key.answered_by) == ("甲", "乙")
    assert _held(engine, "DT-400") == {"K-1": 2}


def test_the_server_queue_raises_a_refusal_to_its_own_caller_only(
    engine: Engine, world: Settings
) -> None:
    context = Context(engine, FixedClock(FRIDAY), CALENDAR, POLICY, world)

    async def both() -> list[RequestAnswer | BaseException]:
        queue = Coalescer()
        asks = [
            Ask(SupplyRequestIn.model_validate(new_project("B-1", [("NO-SUCH", 1)]))),
            Ask(SupplyRequestIn.model_validate(new_project("B-2", [("MTR-1P", 1)]))),
        ]
        return await asyncio.gather(
            *(queue.submit(a, context) for a in asks), return_exceptions=True
        )

    bad, good = asyncio.run(both())
    assert isinstance(bad, InvalidInput)
    assert isinstance(good, RequestAnswer) and good.lines[0].outcome == "held"


def test_a_refused_request_leaves_the_others_answered(together: Together, engine: Engine) -> None:
    good = new_project("G-1", [("MTR-1P", 5)])
    unknown = new_project("G-2", [("NO-SUCH", 1)])
    other = new_project("G-3", [("DT-400", 1)])
    outcomes = together([(good, "k1"), (unknown, "k2"), (other, "k3")])
    assert isinstance(outcomes[1], InvalidInput)
    assert _answer(outcomes[0]).lines[0].outcome == "held"
    assert _answer(outcomes[2]).lines[0].outcome == "held"
    with Session(engine) as session:
        saved = session.exec(select(SupplyRequest.project_id).order_by(col(SupplyRequest.id)))
        assert list(saved) == ["G-1", "G-3"]


def test_a_repeated_key_in_one_round_gets_the_first_answer(
    together: Together, engine: Engine
) -> None:
    body = new_project("R-1", [("MTR-1P", 3)])
    first, again, reused = together(
        [(body, "same"), (body, "same"), (new_project("R-2", [("MTR-1P", 1)]), "same")]
    )
    assert not _answer(first).replayed and _answer(again).replayed
    assert _answer(again).model_copy(update={"replayed": False}) == first
    assert isinstance(reused, InvalidInput)  # the key with another body
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SupplyRequest)).one() == 1
    assert _held(engine, "MTR-1P") == {"R-1": 3}


def test_two_requests_creating_the_same_project_take_turns(
    together: Together, engine: Engine
) -> None:
    first, second = together(
        [(new_project("T-1", [("MTR-1P", 2)]), None), (new_project("T-1", [("MTR-1P", 4)]), None)]
    )
    assert _answer(first).project_created
    assert isinstance(second, Conflict) and "T-1" in second.message
    assert _held(engine, "MTR-1P") == {"T-1": 2}


def test_held_stock_never_exceeds_on_hand_however_many_ask_together(
    together: Together, engine: Engine
) -> None:
    outcomes = together([(new_project(f"M-{i}", [("MTR-1P", 9)]), None) for i in range(8)])
    answers = [_answer(o) for o in outcomes]
    held = sum(p.quantity for a in answers for line in a.lines for p in line.allocations
               if p.state == "held")  # fmt: skip
    # 50 in central reserve and 10 in consignment at wendeng: 60 to hold, 72 asked.
    assert held == sum(_held(engine, "MTR-1P").values()) == 60
    assert sum(1 for a in answers if a.lines[0].outcome != "held") >= 1


@pytest.mark.parametrize(("gather_ms", "winner"), [(200, "K-1"), (0, "N-1")])
def test_the_queue_gathers_the_previous_rounds_clients_before_a_round(
    engine: Engine, world: Settings, gather_ms: int, winner: str
) -> None:
    # Under load (the previous round had two requests) the queue waits for the second client,
    # asking a moment after the first: answered together, the key project gets the transformers.
    # Without the wait, the normal project is answered alone first and takes them.
    settings = world.model_copy(update={"request_gather_ms": gather_ms})
    context = Context(engine, FixedClock(FRIDAY), CALENDAR, POLICY, settings)

    async def staggered() -> None:
        queue = Coalescer(last_round=2)
        normal = Ask(SupplyRequestIn.model_validate(new_project("N-1", [("DT-400", 2)])))
        key = Ask(SupplyRequestIn.model_validate(
            new_project("K-1", [("DT-400", 2)], priority="city_key")))  # fmt: skip
        first = asyncio.create_task(queue.submit(normal, context))
        await asyncio.sleep(0.03)
        await asyncio.gather(first, queue.submit(key, context))

    asyncio.run(staggered())
    assert _held(engine, "DT-400") == {winner: 2}


def test_new_lines_for_an_existing_project_are_numbered_after_its_lines(
    together: Together, engine: Engine
) -> None:
    with Session(engine) as session:
        add_project(session, "E-2", kind="lv_extension", approved=date(2026, 11, 27),
                    location="wendeng", voltage="0.4kV", lines=[("MTR-1P", 4), ("MTR-1P", 6)])  # fmt: skip
    # Two requests adding lines to it in one call: they take turns, each numbered after the
    # lines there are by then (3, then 4).
    first, second = together(
        [({"project_id": "E-2", "lines": [{"material_code": "MTR-1P", "quantity": 2}]}, None),
         ({"project_id": "E-2", "lines": [{"material_code": "DT-400", "quantity": 1}]}, None)]
    )  # fmt: skip
    assert [line.line_no for line in _answer(first).lines] == [3]
    assert [line.line_no for line in _answer(second).lines] == [4]
    with Session(engine) as session:
        stored = session.exec(
            select(DemandLine.line_no, DemandLine.material_code, DemandLine.status)
            .where(DemandLine.project_id == "E-2")
            .order_by(col(DemandLine.line_no))
        ).all()
    assert [(n, m) for n, m, _ in stored] == [(1, "MTR-1P"), (2, "MTR-1P"), (3, "MTR-1P"),
                                               (4, "DT-400")]  # fmt: skip
    assert [s for _, _, s in stored][:2] == ["open", "open"]  # weighed, not taken by the request


def test_a_fault_fails_its_round_and_the_queue_goes_on(
    engine: Engine, world: Settings, tmp_path: Path
) -> None:
    # A round on a database that cannot be opened fails with that fault (a 500 at the edge);
    # no request is left waiting, and the next round, on the real database, is answered.
    broken = make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    bad = Context(broken, FixedClock(FRIDAY), CALENDAR, POLICY, world)
    good = Context(engine, FixedClock(FRIDAY), CALENDAR, POLICY, world)

    async def run() -> list[RequestAnswer | BaseException]:
        queue = Coalescer()
        first = await asyncio.gather(
            queue.submit(Ask(SupplyRequestIn.model_validate(new_project("F-1", [("MTR-1P", 1)]))),
                         bad),
            return_exceptions=True,
        )  # fmt: skip
        second = await asyncio.wait_for(
            queue.submit(
                Ask(SupplyRequestIn.model_validate(new_project("F-2", [("MTR-1P", 1)]))), good
            ),
            timeout=60,
        )
        return [*first, second]

    fault, answer = asyncio.run(run())
    broken.dispose()
    assert isinstance(fault, OperationalError)
    assert isinstance(answer, RequestAnswer) and answer.lines[0].outcome == "held"
