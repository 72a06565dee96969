"""Database state as plain data → matching instance: the rules of supply/planning.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from optimizer import check_plan, solve
from supply.availability import (
    AgreementItem,
    ConsignmentItem,
    MaterialItem,
    ReserveItem,
    SupplyState,
)
from supply.planning import DemandItem, after_plan, build_instance, replenishment_demands

MONDAY = date(2026, 11, 30)
MATCH = date(2026, 12, 2)


def material(code: str, *, heavy: bool = False, price: str = "45000") -> MaterialItem:
    return MaterialItem(code, code, "台", "10kV", Decimal(price), 10, 30, heavy)


def supply(**changes: object) -> SupplyState:
    state = SupplyState(
        materials={"TR": material("TR"), "BOX": material("BOX", heavy=True, price="320000")},
        warehouse_location={"WH-C": "lingang", "WH-RS": "rushan"},
        transport={("lingang", "rushan"): 1, ("rushan", "lingang"): 1},
        reserve=[
            ReserveItem("WH-RS", "TR", available=2, on_hand=3, quota=4),  # one held already
            ReserveItem("WH-C", "BOX", available=1, on_hand=1, quota=0),
        ],
        consignment=[ConsignmentItem(7, "泰开", "WH-RS", "TR", 1, Decimal("44000.50"))],
        agreements=[
            AgreementItem(11, "SD-2026-1", 3, "特变", "TR", 10, Decimal("42000"), 20, "WH-C")
        ],
        central_warehouse="WH-C",
    )
    for key, value in changes.items():
        setattr(state, key, value)
    return state


def demand(
    key: str,
    material: str = "TR",
    quantity: int = 1,
    need_by: date = date(2026, 12, 4),
    location: str = "rushan",
) -> DemandItem:
    return DemandItem(
        key, "P1", material, quantity, need_by, "10kV", location, 2, "PK1", demand_line_id=1
    )


def test_sources_carry_their_kind_ready_date_and_cost() -> None:
    problem = build_instance(
        demands=[demand("P1/1")],
        supply=supply(),
        plan_date=MONDAY,
        order_day=MATCH,
        penalty=Decimal(200),
    )
    sources = {s.id: s for s in problem.instance.sources}
    assert set(sources) == {"R:WH-RS:TR", "C:7", "A:SD-2026-1/3", "E:TR"}  # no BOX: nobody asks
    assert sources["R:WH-RS:TR"].quantity == 2 and sources["R:WH-RS:TR"].quota == 4
    assert sources["R:WH-RS:TR"].ready == MONDAY
    assert sources["A:SD-2026-1/3"].ready == date(2026, 12, 22)  # matching day + 20 days' lead
    assert sources["A:SD-2026-1/3"].location == "lingang"  # delivered at the central warehouse
    assert sources["E:TR"].quantity is None and sources["E:TR"].ready == date(2026, 12, 10)
    assert sources["E:TR"].unit_cost == 45000 * 1.3
    assert sources["C:7"].unit_cost == 44000.5
    assert problem.sources["C:7"].consignment_id == 7
    assert problem.sources["A:SD-2026-1/3"].agreement_line_id == 11
    assert problem.instance.policy.reserve_below_quota_penalty == 200


def test_heavy_items_take_a_day_more_on_every_trip() -> None:
    problem = build_instance(
        demands=[demand("P1/2", "BOX")],
        supply=supply(),
        plan_date=MONDAY,
        order_day=MATCH,
        penalty=Decimal(0),
    )
    box = next(s for s in problem.instance.sources if s.id == "R:WH-C:BOX")
    assert box.location == "lingang+heavy"
    assert problem.instance.demands[0].location == "rushan+heavy"
    plan = solve(problem.instance)
    assert plan.allocations[0].arrival == date(2026, 12, 2)  # 1 day + 1 for a heavy item
    assert check_plan(problem.instance, plan).feasible


def test_replenishment_is_net_of_holds_and_of_what_is_on_its_way() -> None:
    state = supply(pending_replenishment={("WH-RS", "TR"): 1})
    items = replenishment_demands(supply=state, need_by=date(2026, 12, 28))
    assert [(d.key, d.quantity, d.location, d.weight) for d in items] == [
        ("REPL:WH-RS:TR", 1, "rushan", 1)
    ]
    assert items[0].replenish_warehouse_id == "WH-RS" and items[0].demand_line_id is None


def test_replenishment_uses_agreement_stock_left_after_the_projects() -> None:
    state = supply()
    projects = build_instance(
        demands=[demand("P1/1", quantity=9, need_by=date(2026, 12, 31))],
        supply=state,
        plan_date=MONDAY,
        order_day=MATCH,
        penalty=Decimal(200),
    )
    plan = solve(projects.instance)
    took = sum(a.quantity for a in plan.allocations if a.source.startswith("A:"))
    assert took > 0
    rest = after_plan(state, projects, plan)
    assert rest.agreements[0].available == 10 - took
    refill = build_instance(
        demands=replenishment_demands(supply=rest, need_by=date(2026, 12, 28)),
        supply=rest,
        plan_date=MONDAY,
        order_day=MATCH,
        penalty=Decimal(0),
        kinds=frozenset({"agreement"}),
    )
    assert {s.kind for s in refill.instance.sources} == {
        "agreement"
    }  # no emergency, no other store
    assert refill.instance.sources[0].quantity == 10 - took
