"""The competing demand an urgent request is weighed against: summed in the database over what
the engine cannot tell apart, overdue lines as due yesterday — which cannot change what the
engine gives the request."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from optimizer import solve
from optimizer.contract import Demand, Instance, Source, Transport
from supply.commitments import refresh_statuses
from supply.core.clock import local_today
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.demand.queries import competing_demand, open_demand
from supply.holds.models import StockKind
from supply.holds.service import NewHold, hold_stock
from supply.limits import dearest_prices, largest_quantities, screen
from supply.planning import DemandItem
from tests.requests.conftest import FRIDAY
from tests.weekly.world import add_project

TODAY = date(2026, 11, 30)


def _reference(lines: list[DemandItem], today: date) -> list[tuple[object, ...]]:
    """Sum line by line in Python, the independent check of the database's sums."""
    sums: dict[tuple[object, ...], int] = defaultdict(int)
    for d in lines:
        due = max(d.need_by, today - timedelta(days=1))
        sums[d.material, d.location, due, d.weight, d.voltage_class] += d.quantity
    return sorted((*key, quantity) for key, quantity in sums.items())


def test_competing_demand_equals_the_line_by_line_sums(engine: Engine, world: Settings) -> None:
    today = local_today(FRIDAY)
    with Session(engine) as session:
        for pid, approved, location, priority, lines in [
            ("C1", date(2026, 10, 20), "huancui", "normal", [("MTR-1P", 4), ("CB10-300", 30)]),
            ("C2", date(2026, 10, 28), "huancui", "normal", [("MTR-1P", 6)]),
            ("C3", date(2026, 11, 20), "huancui", "normal", [("MTR-1P", 5)]),
            ("C4", date(2026, 11, 20), "huancui", "normal", [("MTR-1P", 7)]),
            ("C5", date(2026, 11, 20), "wendeng", "normal", [("MTR-1P", 3)]),
            ("C6", date(2026, 11, 20), "huancui", "city_key", [("MTR-1P", 2)]),
            ("C7", date(2026, 11, 26), "huancui", "normal", [("DT-400", 1)]),
            ("C8", date(2026, 11, 27), "huancui", "normal", [("MTR-1P", 8)]),
            # 20 million metres at CB10-300's emergency price (728) pass MAX_AMOUNT: refused.
            ("C9", date(2026, 11, 20), "huancui", "normal", [("CB10-300", 20_000_000)]),
        ]:
            add_project(session, pid, kind="lv_extension", approved=approved, location=location,
                        lines=lines, voltage="0.4kV", priority=priority)  # fmt: skip
        c4 = session.exec(select(DemandLine).where(DemandLine.project_id == "C4")).one()
        held = NewHold(
            demand_line_id=c4.id,
            stock_kind=StockKind.RESERVE,
            warehouse_id="WH-CENTRAL",
            material_code="MTR-1P",
            quantity=3,
            expires_on=TODAY,
        )
        hold_stock(session, [held], now=FRIDAY, user="t")
        refresh_statuses(session, [held.demand_line_id])
        session.commit()
        materials = {"MTR-1P", "CB10-300"}
        until = date(2026, 12, 31)
        dearest = dearest_prices(session, materials)
        summed = competing_demand(
            session, cutoff=FRIDAY, materials=materials, need_by_until=until, today=today,
            largest=largest_quantities(dearest, materials), except_projects={"C5"},
        )  # fmt: skip
        every = [
            d
            for d in open_demand(session, cutoff=FRIDAY, materials=materials, need_by_until=until)
            if d.project_id != "C5"
        ]
        lines, refused = screen(every, dearest)  # what the weekly run would plan
    got = sorted(
        (d.material, d.location, d.need_by, d.weight, d.voltage_class, d.quantity) for d in summed
    )
    assert got == _reference(lines, today)
    # The case is not trivial: overdue lines of two need-bys merged as due yesterday, a line
    # partly held counts what is left of it, another priority stays apart, C5 left out.
    overdue = today - timedelta(days=1)
    assert sum(1 for d in lines if d.material == "MTR-1P" and d.need_by < overdue) >= 2
    assert ("MTR-1P", "huancui", overdue, 2, "0.4kV", 4 + 6 + 5 + (7 - 3)) in got
    assert any(d.need_by > today for d in summed)  # a line not yet due keeps its need-by
    assert any(d.project_id == "C4" and d.quantity == 4 for d in lines)
    assert {d.weight for d in summed if d.material == "MTR-1P"} == {2, 3}
    assert all(d.location != "wendeng" for d in summed)
    assert len({d.key for d in summed}) == len(summed)
    # The line the planner refuses competes with no one (before, its 20 million metres did).
    assert [r.item.project_id for r in refused] == ["C9"]
    assert [d.quantity for d in summed if d.material == "CB10-300"] == [30]


def _instance(other_need_by: list[date]) -> Instance:
    demands = [
        Demand(id="REQ/1", project="REQ", material="M", quantity=2, need_by=date(2026, 12, 2),
               voltage_class="10kV", location="a", weight=2),
    ] + [
        Demand(id=f"O{i}/1", project=f"O{i}", material="M", quantity=1, need_by=day,
               voltage_class="10kV", location="a", weight=2 + i % 2)
        for i, day in enumerate(other_need_by)
    ]  # fmt: skip
    return Instance(
        version=1,
        plan_date=TODAY,
        demands=demands,
        sources=[
            Source(
                id="R",
                kind="reserve",
                material="M",
                quantity=2,
                location="a",
                ready=TODAY,
                unit_cost=10,
            ),
            Source(
                id="E",
                kind="emergency",
                material="M",
                quantity=None,
                location="a",
                ready=date(2026, 12, 10),
                unit_cost=30,
            ),
        ],
        transport=[Transport(**{"from": "a", "to": "a", "days": 0})],
    )


def test_moving_an_overdue_need_by_to_yesterday_changes_nothing_the_request_gets() -> None:
    real = [date(2026, 11, 10), date(2026, 11, 20), date(2026, 12, 5)]
    clamped = [max(day, date(2026, 11, 29)) for day in real]
    first, second = solve(_instance(real)), solve(_instance(clamped))
    assert [(a.demand, a.source, a.quantity) for a in first.allocations] == [
        (a.demand, a.source, a.quantity) for a in second.allocations
    ]
