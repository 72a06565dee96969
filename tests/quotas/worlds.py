"""Hand-made worlds and histories for the quota advisor, where the answer is known.

One material `M` (10 元 a unit, 0.4 kV) held at one or two warehouses; batches every Monday at
12:00 whose province matching returns on the Wednesday; no agreement line, so reserve is
replenished after the material's typical supplier lead time (`lead` days) — it arrives on
Wednesday + lead. Demand is short-deadline (lv_extension) lines at fixed moments.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from supply.availability import MaterialItem, SupplyState
from supply.core.clock import SHANGHAI
from supply.policy import Batch
from supply.quotas.world import HistoryLine, World, agreement_restock

FIRST_MONDAY = date(2026, 3, 2)
PRICE = Decimal(10)


def batches(weeks: int, first: date = FIRST_MONDAY) -> list[Batch]:
    """Weekly batches: cutoff Monday 12:00, the province's matching on the Wednesday."""
    found = []
    for n in range(weeks):
        monday = first + timedelta(weeks=n)
        year, week, _ = monday.isocalendar()
        found.append(
            Batch(
                id=f"{year}-W{week:02d}",
                named_for=monday,
                cutoff=datetime.combine(monday, time(12), tzinfo=SHANGHAI),
                province_match=monday + timedelta(days=2),
            )
        )
    return found


def world(
    *,
    lead: int,
    weeks: int = 20,
    warehouses: dict[str, str] | None = None,
    quotas: dict[str, int] | None = None,
    emergency_lead: int = 60,
) -> World:
    """A world of material M at `warehouses` (id -> location; default one, WH-A at `a`), with
    one transport day between any two locations."""
    places = warehouses or {"WH-A": "a"}
    locations = sorted({*places.values(), "a", "b"})
    made = batches(weeks + 1)
    supply = SupplyState(
        materials={
            "M": MaterialItem(
                code="M",
                name="物料",
                unit="只",
                voltage_class="0.4kV",
                standard_price=PRICE,
                emergency_lead_days=emergency_lead,
                emergency_premium_pct=30,
                heavy=False,
                reserve_catalog=True,
            ),
            "N": MaterialItem(
                code="N",
                name="十千伏物料",
                unit="台",
                voltage_class="10kV",
                standard_price=Decimal(1000),
                emergency_lead_days=emergency_lead,
                emergency_premium_pct=30,
                heavy=False,
                reserve_catalog=True,
            ),
        },
        warehouse_location=dict(places),
        transport={(a, b): 1 for a in locations for b in locations if a != b},
        reserve=[],
        consignment=[],
        agreements=[],
        central_warehouse=next(iter(places)),
    )
    pairs = sorted((w, m) for w in places for m in ("M", "N"))
    return World(
        supply=supply,
        levels=dict.fromkeys(places, "county"),
        pairs=pairs,
        current={(w, m): (quotas or {}).get(w, 0) for w, m in pairs},
        restock=agreement_restock([], {"M": lead, "N": lead}, next(iter(places)), {"M", "N"}),
        batches=made[1:],
        start=made[0].cutoff,
        penalty=Decimal(200),
    )


def line(
    n: int,
    at: datetime,
    quantity: int,
    *,
    material: str = "M",
    location: str = "a",
    project_type: str = "lv_extension",
    voltage: str = "0.4kV",
    need_by_days: int = 3,
) -> HistoryLine:
    """A demand line submitted at `at`, needed `need_by_days` after it."""
    return HistoryLine(
        key=f"P{n}/1",
        project_id=f"P{n}",
        project_type=project_type,
        voltage_class=voltage,
        location=location,
        material=material,
        quantity=quantity,
        submitted_at=at,
        need_by=at.date() + timedelta(days=need_by_days),
    )


def weekly(
    quantity: int, weeks: int, *, weekday: int = 2, location: str = "a"
) -> list[HistoryLine]:
    """`quantity` of M each week on `weekday` (Wednesday) at 10:00, from the window's first
    week (the window starts on FIRST_MONDAY at 12:00)."""
    first = FIRST_MONDAY
    return [
        line(
            n,
            datetime.combine(first + timedelta(weeks=n, days=weekday), time(10), tzinfo=SHANGHAI),
            quantity,
            location=location,
        )
        for n in range(weeks)
    ]
