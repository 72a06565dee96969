"""Why a line is bought in an emergency: each cause on a small plan the engine really makes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from optimizer import solve
from supply.availability import (
    AgreementItem,
    ConsignmentItem,
    MaterialItem,
    ReserveItem,
    SupplyState,
)
from supply.emergency import emergency_causes, emergency_materials
from supply.planning import DemandItem, build_instance

MONDAY = date(2026, 11, 30)
MATCH = date(2026, 12, 2)


def world(**changes: object) -> SupplyState:
    """One material TR at the county store: emergency arrives in 2 days at 30 % more."""
    state = SupplyState(
        materials={"TR": MaterialItem("TR", "TR", "台", "10kV", Decimal(100), 2, 30, False)},
        warehouse_location={"WH-C": "lingang", "WH-RS": "rushan"},
        transport={("lingang", "rushan"): 1, ("rushan", "lingang"): 1},
        reserve=[],
        consignment=[],
        agreements=[],
        central_warehouse="WH-C",
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def cause(
    state: SupplyState,
    *,
    quantity: int = 5,
    voltage: str = "10kV",
    listed: bool = False,
    catalogued: frozenset[str] = frozenset({"TR"}),
) -> str:
    line = DemandItem("P/1", "P", "TR", quantity, date(2026, 12, 3), voltage, "rushan", 2,
                      listed=listed)  # fmt: skip
    problem = build_instance(
        demands=[line], supply=state, plan_date=MONDAY, order_day=MATCH, penalty=Decimal(200)
    )
    plan = solve(problem.instance)
    [(key, found)] = emergency_causes(problem, plan, state, catalogued).items()
    assert key == ("P/1", "E:TR")
    return found


def test_reserve_held_at_its_quota_is_kept_for_quota() -> None:
    # 10 on hand, quota 10: drawing it costs 200 a unit below quota, emergency only 130.
    state = world(reserve=[ReserveItem("WH-RS", "TR", available=10, on_hand=10, quota=10)])
    assert cause(state) == "kept_for_quota"


def test_consignment_arriving_after_emergency_is_stock_late() -> None:
    # Emergency procurement reaches the line on 12-03, in time; the cheaper consignment sits
    # in a yard 9 days away and would arrive 12-09.
    state = world(
        transport={("lingang", "rushan"): 1, ("rushan", "lingang"): 1, ("yard", "rushan"): 9},
        warehouse_location={"WH-C": "lingang", "WH-RS": "rushan", "WH-Y": "yard"},
        consignment=[ConsignmentItem(7, "泰开", "WH-Y", "TR", 50, Decimal(90))],
    )
    assert cause(state) == "stock_late"


def test_agreement_arriving_after_emergency_is_agreement_late() -> None:
    state = world(
        agreements=[AgreementItem(11, "SD-1", 1, "特变", "TR", 50, Decimal(80), 20, "WH-C")],
        agreement_materials=frozenset({"TR"}),
    )
    assert cause(state) == "agreement_late"


def test_used_up_agreement_lines_are_agreement_exhausted() -> None:
    state = world(
        agreements=[AgreementItem(11, "SD-1", 1, "特变", "TR", 2, Decimal(80), 0, "WH-C")],
        agreement_materials=frozenset({"TR"}),
    )
    assert cause(state, quantity=5) == "agreement_exhausted"


def test_high_voltage_lines_cannot_use_the_reserve_that_holds_it() -> None:
    state = world(reserve=[ReserveItem("WH-RS", "TR", available=10, on_hand=10, quota=0)])
    assert cause(state, voltage="35kV") == "not_eligible"
    assert cause(state, quantity=12) == "stock_exhausted"  # 10 kV: reserve, all taken


def test_materials_outside_the_catalogs_are_listed_or_not() -> None:
    assert cause(world(), listed=True, catalogued=frozenset()) == "listed"
    assert cause(world(), listed=False, catalogued=frozenset()) == "not_listed"


def test_switched_off_only_materials_outside_the_catalogs_get_emergency() -> None:
    wanted = {"TR", "SPECIAL"}
    assert emergency_materials(wanted, {"TR"}, for_catalog_materials=True) == wanted
    assert emergency_materials(wanted, {"TR"}, for_catalog_materials=False) == {"SPECIAL"}
