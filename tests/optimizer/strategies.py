"""Hypothesis strategies: small, valid matching instances as JSON documents."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

BASE = date(2026, 11, 30)
LOCATIONS = ["HC", "RC", "WD"]
MATERIALS = ["TR-400", "CABLE-35"]
VOLTAGES = ["0.4kV", "10kV", "35kV", "110kV"]
KINDS = ["reserve", "consignment", "agreement", "emergency"]


def _day(offset: int) -> str:
    return (BASE + timedelta(days=offset)).isoformat()


money = st.one_of(st.integers(0, 2000), st.integers(0, 200_000).map(lambda c: c / 100))


@st.composite
def demand(draw: st.DrawFn, index: int, days: int = 15) -> dict[str, Any]:
    return {
        "id": f"D{index}",
        "project": f"P{draw(st.integers(0, 3))}",
        "material": draw(st.sampled_from(MATERIALS)),
        "quantity": draw(st.integers(1, 20)),
        "need_by": _day(draw(st.integers(-2, days))),
        "voltage_class": draw(st.sampled_from(VOLTAGES)),
        "location": draw(st.sampled_from(LOCATIONS)),
        "weight": draw(st.integers(1, 3)),
        "package": draw(st.sampled_from([None, "PK1", "PK2"])),
    }


@st.composite
def source(draw: st.DrawFn, index: int, days: int = 15) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    unlimited = kind == "emergency" and draw(st.booleans())
    item: dict[str, Any] = {
        "id": f"S{index}",
        "kind": kind,
        "material": draw(st.sampled_from(MATERIALS)),
        "quantity": None if unlimited else draw(st.integers(0, 25)),
        "location": draw(st.sampled_from(LOCATIONS)),
        "ready": _day(draw(st.integers(0, days))),
        "unit_cost": draw(money),
    }
    if kind == "reserve":
        item["quota"] = draw(st.integers(0, 10))
    # A floor: units that should be used (an agreement line's shortfall to its band), each left
    # unused costing its penalty; most often on agreement lines, now and then on any kind.
    if draw(st.sampled_from([kind == "agreement", False, kind == "agreement", True])):
        most = 25 if item["quantity"] is None else item["quantity"]
        item["floor"] = draw(st.integers(0, most))
        item["floor_penalty"] = draw(money)
    return item


@st.composite
def instances(
    draw: st.DrawFn, max_demands: int = 6, max_sources: int = 6, days: int = 15
) -> dict[str, Any]:
    """A valid instance: full transport between its locations, whole-number quantities.

    Dates fall within `days` of the plan date (a few days: many sources arrive the same day)."""
    n_d = draw(st.integers(1, max_demands))
    n_s = draw(st.integers(0, max_sources))
    transport = [
        {"from": a, "to": b, "days": draw(st.integers(0, min(3, days)))}
        for a in LOCATIONS
        for b in LOCATIONS
        if a != b
    ]
    return {
        "version": 1,
        "plan_date": BASE.isoformat(),
        "demands": [draw(demand(i, days)) for i in range(n_d)],
        "sources": [draw(source(i, days)) for i in range(n_s)],
        "transport": transport,
        "policy": {"reserve_below_quota_penalty": draw(st.sampled_from([0, 50, 5000]))},
    }


@st.composite
def crowded_instances(draw: st.DrawFn) -> dict[str, Any]:
    """One material at one place over a few days, the below-quota penalty on: lines compete for
    the same stock, sources arrive the same day, reserve sits near its quota, floors pull."""
    demands = [draw(demand(i, days=2)) for i in range(draw(st.integers(1, 6)))]
    sources = [draw(source(i, days=2)) for i in range(draw(st.integers(2, 6)))]
    for item in [*demands, *sources]:
        item["material"], item["location"] = MATERIALS[0], LOCATIONS[0]
    for s in sources:
        if s["kind"] == "reserve":
            s["quota"] = draw(st.just(s["quantity"]) | st.integers(0, s["quantity"]))
        if draw(st.booleans()):  # a floor on half the sources: floors compete, the same day
            most = 25 if s["quantity"] is None else s["quantity"]
            s["floor"] = draw(st.integers(0, most))
            s["floor_penalty"] = draw(st.sampled_from([5, 50, 500, 12.5]))
    return {
        "version": 1,
        "plan_date": BASE.isoformat(),
        "demands": demands,
        "sources": sources,
        "transport": [],
        "policy": {"reserve_below_quota_penalty": draw(st.sampled_from([50, 5000]))},
    }


@st.composite
def floor_instances(draw: st.DrawFn) -> dict[str, Any]:
    """One material at one place; every source arrives after every need-by, most on one day,
    with stock enough: lines wait the same from any source of a day, so tier 3 decides between
    agreement lines with floors, cheaper lines without and reserve near its quota."""
    demands = [draw(demand(i, days=0)) for i in range(draw(st.integers(1, 5)))]
    sources = []
    for j in range(draw(st.integers(2, 5))):
        kind = draw(st.sampled_from(["agreement", "agreement", "consignment", "reserve"]))
        quantity = draw(st.integers(0, 30))
        item: dict[str, Any] = {
            "id": f"S{j}",
            "kind": kind,
            "material": MATERIALS[0],
            "quantity": quantity,
            "location": LOCATIONS[0],
            "ready": _day(draw(st.sampled_from([1, 1, 2]))),
            "unit_cost": draw(st.sampled_from([100, 105, 120, 99.5])),
        }
        if kind == "reserve":
            item["quota"] = draw(st.integers(0, quantity))
        if draw(st.booleans()):
            item["floor"] = draw(st.integers(0, quantity))
            item["floor_penalty"] = draw(st.sampled_from([3, 10, 30, 0.5]))
        sources.append(item)
    for item in demands:
        item["material"], item["location"] = MATERIALS[0], LOCATIONS[0]
        item["need_by"] = _day(draw(st.integers(-2, 0)))
        item["quantity"] = draw(st.integers(1, 8))
    return {
        "version": 1,
        "plan_date": BASE.isoformat(),
        "demands": demands,
        "sources": sources,
        "transport": [],
        "policy": {"reserve_below_quota_penalty": draw(st.sampled_from([0, 8]))},
    }
