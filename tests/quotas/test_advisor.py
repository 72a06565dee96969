"""The advisor on hand-made histories whose answer is known: constant weekly demand with a known
lead time gives the base-stock level d × (lead + review) / 7; a material no short-deadline
project needs gets quota 0 with the reason; the city's level is shared out by nearest demand."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from supply.core.clock import SHANGHAI
from supply.quotas.advisor import Draw, exposures, quantile, recommend, shares
from tests.quotas.worlds import FIRST_MONDAY, line, weekly, world

LEVEL = Decimal("0.95")


def advice_of(found: list, warehouse: str = "WH-A", material: str = "M"):  # type: ignore[no-untyped-def]
    [one] = [a for a in found if a.pair == (warehouse, material)]
    return one


@pytest.mark.parametrize(
    ("lead", "weeks_covered"),
    [
        # Requested Monday, matched Wednesday, on the shelf Wednesday + lead: the Wednesday's
        # 10 units must last until the first replenishment that is there by then.
        (0, 1),  # there that Wednesday: the week's own demand
        (5, 2),  # the next Monday: two weeks' demand
        (12, 3),  # a fortnight: three weeks'
        (19, 4),
        (26, 5),
    ],
)
def test_constant_weekly_demand_needs_demand_over_lead_time_plus_a_week(
    lead: int, weeks_covered: int
) -> None:
    w = world(lead=lead)
    found = recommend(w, weekly(10, 20), LEVEL)
    a = advice_of(found)
    assert a.recommended == 10 * weeks_covered
    assert (a.lines, a.quantity) == (20, 200)
    assert a.lead_days == 2 + lead  # cutoff Monday -> matched Wednesday -> + supplier lead
    assert a.estimate_recommended is not None and a.estimate_recommended >= 0.95


def test_the_level_does_not_depend_on_the_target_when_demand_is_constant() -> None:
    w = world(lead=12)
    for level in ("0.5", "0.8", "0.95", "1"):
        assert advice_of(recommend(w, weekly(10, 20), Decimal(level))).recommended == 30


def test_a_material_no_short_deadline_project_needs_gets_quota_0_with_the_reason() -> None:
    w = world(lead=12, quotas={"WH-A": 6})
    at = datetime.combine(FIRST_MONDAY + timedelta(days=2), time(10), tzinfo=SHANGHAI)
    ten_kv = [
        line(100 + n, at + timedelta(weeks=n), 2, material="N", project_type="mv_10kv",
             voltage="10kV", need_by_days=60)
        for n in range(10)
    ]  # fmt: skip
    found = recommend(w, weekly(10, 20) + ten_kv, LEVEL)
    n = advice_of(found, material="N")
    assert (n.current, n.recommended, n.lines) == (6, 0, 0)
    assert "quota 0" in n.reason and "定额为 0" in n.reason
    assert "short-deadline" in n.reason
    assert advice_of(found).recommended == 30  # M is untouched by N's lines


def test_longer_lines_that_only_reserve_brings_in_time_take_stock_too() -> None:
    # A 10 kV line needed in 4 days: emergency procurement takes 60, no agreement line: the
    # weekly run gives it reserve, so it counts in the exposure of the lines after it.
    w = world(lead=12)
    short = weekly(10, 20)
    cutoff_day = FIRST_MONDAY + timedelta(weeks=5)
    urgent_10kv = line(
        200, datetime.combine(cutoff_day - timedelta(days=2), time(9), tzinfo=SHANGHAI), 25,
        project_type="mv_10kv", voltage="10kV", need_by_days=6,
    )  # fmt: skip
    with_it = advice_of(recommend(w, [*short, urgent_10kv], Decimal(1))).recommended
    assert with_it == 30 + 25
    relaxed = line(
        201, urgent_10kv.submitted_at, 25, project_type="mv_10kv", voltage="10kV",
        need_by_days=200,
    )  # fmt: skip
    assert advice_of(recommend(w, [*short, relaxed], Decimal(1))).recommended == 30


def test_the_city_s_level_is_shared_by_the_demand_nearest_each_warehouse() -> None:
    w = world(lead=12, warehouses={"WH-A": "a", "WH-B": "b"})
    demand = weekly(10, 20, location="a") + [
        line(300 + n, x.submitted_at + timedelta(hours=1), 5, location="b")
        for n, x in enumerate(weekly(10, 20))
    ]
    found = recommend(w, demand, LEVEL)
    a, b = advice_of(found, "WH-A"), advice_of(found, "WH-B")
    assert a.recommended + b.recommended == 45  # three weeks of 15
    assert (a.recommended, b.recommended) == (30, 15)
    assert (a.lines, b.lines) == (20, 20)


def test_exposure_counts_the_draws_since_the_last_replenishment_on_the_shelf() -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=SHANGHAI)
    drawn = [
        Draw(start + timedelta(days=d), q, True, "W", f"k{d}") for d, q in ((1, 4), (3, 6), (8, 5))
    ]
    # The cutoff a week after the start is restocked on day 9, after the third draw.
    restocks = [(start + timedelta(days=7), start + timedelta(days=9))]
    assert exposures(drawn, restocks, start) == [4, 10, 15]
    restocks = [(start + timedelta(days=7), start + timedelta(days=8))]  # on the shelf by then
    assert exposures(drawn, restocks, start) == [4, 10, 5]


def test_quantile_and_shares() -> None:
    assert quantile([], Decimal("0.95")) == 0
    assert quantile(range(1, 21), Decimal("0.95")) == 19
    assert quantile(range(1, 21), Decimal(1)) == 20
    assert quantile([7], Decimal("0.5")) == 7
    assert shares(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert shares(10, {"a": 0, "b": 0}) == {"a": 0, "b": 0}
    assert sum(shares(101, {"a": 3, "b": 5, "c": 0}).values()) == 101
