"""The replay through the real engine, on a hand-made world: the recommended level keeps every
line of constant weekly demand on time and one unit less does not; stock is counted day by day;
a 10 kV line in the weekly batch takes reserve exactly when the advisor counts it as a draw."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from optimizer import Instance, Plan, check_plan, solve
from supply.core.clock import SHANGHAI
from supply.quotas.advisor import falls_on_reserve, homes, recommend
from supply.quotas.replay import quiet_solve, replay
from tests.quotas.worlds import FIRST_MONDAY, PRICE, line, weekly, world


def checked(instance: Instance) -> Plan:
    """The engine's plan (with its reasons, which the checker reads), put through the
    independent checker; the replay's own solver leaves the reasons out."""
    plan = solve(instance)
    assert quiet_solve(instance).allocations == plan.allocations
    report = check_plan(instance, plan)
    assert report.feasible, report.problems
    return plan


def test_the_recommended_level_keeps_constant_demand_on_time_and_one_less_does_not() -> None:
    w = world(lead=12)
    demand = weekly(10, 20)
    [m] = [a for a in recommend(w, demand, Decimal("0.95")) if a.pair == ("WH-A", "M")]
    assert m.recommended == 30
    home = homes(w)
    enough = replay(w, demand, {("WH-A", "M"): 30}, home=home, solver=checked)
    assert (enough.lines, enough.on_time) == (20, 20)
    assert enough.by_pair[("WH-A", "M")] == [20, 20]
    assert enough.solves == 20  # a request a week; the batches had no lines to plan
    short = replay(w, demand, {("WH-A", "M"): 29}, home=home, solver=checked)
    assert short.lines == 20 and short.on_time < 20
    assert short.on_time_rate < 0.95 <= enough.on_time_rate


def test_stock_value_is_averaged_over_the_days() -> None:
    w = world(lead=12)
    nothing = replay(w, [], {("WH-A", "M"): 30, ("WH-A", "N"): 0}, home=homes(w))
    days = (w.end.date() - w.start.date()).days + 1
    assert nothing.days == days
    assert nothing.average_value == 30 * PRICE  # never drawn, never below quota
    assert nothing.quota_value == 30 * PRICE
    assert (nothing.lines, nothing.solves) == (0, 0)
    drawn = replay(w, weekly(10, 20), {("WH-A", "M"): 30}, home=homes(w))
    assert Decimal(0) < drawn.average_value < 30 * PRICE


@pytest.mark.parametrize(
    ("need_by_days", "penalty", "takes"),
    [
        (5, 200, True),  # only reserve is in time
        (30, 200, True),  # emergency (1,300) is in time but dearer than reserve below quota (1,200)
        (30, 500, False),  # ... and cheaper than reserve below quota (1,500): R6 keeps the stock
    ],
)
def test_a_10_kv_line_takes_reserve_in_the_weekly_batch_as_the_advisor_says(
    need_by_days: int, penalty: int, takes: bool
) -> None:
    w = world(lead=12, emergency_lead=5)
    w.penalty = Decimal(penalty)
    at = datetime.combine(FIRST_MONDAY + timedelta(days=3), time(9), tzinfo=SHANGHAI)
    item = line(
        1, at, 4, material="N", project_type="mv_10kv", voltage="10kV", need_by_days=need_by_days
    )
    assert falls_on_reserve(w, item) is takes
    done = replay(w, [item], {("WH-A", "N"): 4}, home=homes(w), solver=checked)
    assert (done.other_lines, done.other_on_time, done.lines) == (1, 1, 0)
    # Reserve drawn on the cutoff day is below its quota's value until it is refilled.
    assert (done.average_value < 4 * 1000) is takes
