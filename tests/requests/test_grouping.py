"""Grouping the competing demand: indistinguishable lines merge; overdue ones merge as due
yesterday, which cannot change what the engine gives the request."""

from __future__ import annotations

from datetime import date

from optimizer import solve
from optimizer.contract import Demand, Instance, Source, Transport
from supply.planning import DemandItem
from supply.requests.service import grouped

TODAY = date(2026, 11, 30)


def _line(key: str, need_by: date, quantity: int = 1, location: str = "a") -> DemandItem:
    return DemandItem(
        key=key, project_id=key.split("/")[0], material="M", quantity=quantity, need_by=need_by,
        voltage_class="10kV", location=location, weight=2,
    )  # fmt: skip


def test_same_lines_merge_and_overdue_lines_merge_as_due_yesterday() -> None:
    merged = grouped(
        [
            _line("P1/1", date(2026, 11, 20), 2),
            _line("P2/1", date(2026, 11, 25), 3),
            _line("P3/1", date(2026, 12, 4), 4),
            _line("P4/1", date(2026, 12, 4), 5),
            _line("P5/1", date(2026, 12, 4), 6, location="b"),
        ],
        today=TODAY,
    )
    summary = sorted((d.key, d.need_by, d.quantity, d.location) for d in merged)
    assert summary == [
        ("P1/1+1", date(2026, 11, 29), 5, "a"),
        ("P3/1+1", date(2026, 12, 4), 9, "a"),
        ("P5/1", date(2026, 12, 4), 6, "b"),
    ]


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
