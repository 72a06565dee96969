"""The budget arithmetic as pure functions: pricing along sources, splitting an overrun, the check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from supply.packages.budget import check_additions, overrun_shares, price_along
from supply.packages.models import PackageFigures, ProjectFigures

D = Decimal


def figures(budget: str, *projects: tuple[str, str, str]) -> PackageFigures:
    rows = [
        ProjectFigures(
            project_id=pid,
            project_name=f"项目 {pid}",
            status="active",
            committed=D(c),
            pending=D(p),
            forecast=D(c) + D(p),
        )
        for pid, c, p in projects
    ]
    committed = sum((r.committed for r in rows), D(0))
    pending = sum((r.pending for r in rows), D(0))
    return PackageFigures(
        package_id="PK",
        name="项目包",
        year=2026,
        kind="",
        budget=D(budget),
        committed=committed,
        pending=pending,
        remaining=D(budget) - committed,
        forecast=committed + pending,
        overrun=max(D(0), committed + pending - D(budget)),
        projects=rows,
    )


def test_units_are_priced_along_the_sources_then_at_the_fallback() -> None:
    sources = [(3, D("190")), (2, D("728.5"))]
    assert price_along(2, sources, D(200)) == D(380)
    assert price_along(4, sources, D(200)) == D("1298.5")
    assert price_along(7, sources, D(200)) == D(570) + D(1457) + D(400)
    assert price_along(0, sources, D(200)) == D(0)
    assert price_along(5, [], D("8.65055")) == D("43.25275")


def test_the_overrun_goes_to_the_projects_the_budget_left_no_room_for() -> None:
    # 100 budget, 50 used by the others: A takes the 50 left and is 10 over, B is all over.
    shares = overrun_shares(budget=D(100), others=D(50), forecasts=[("A", D(60)), ("B", D(30))])
    assert shares == {"A": D(10), "B": D(30)}
    assert sum(shares.values()) == D(50) + D(60) + D(30) - D(100)
    assert overrun_shares(budget=D(100), others=D(20), forecasts=[("A", D(80))]) == {"A": D(0)}
    # Others already over: every added yuan is over.
    assert overrun_shares(budget=D(100), others=D(120), forecasts=[("A", D(5))]) == {"A": D(5)}


def test_an_addition_moves_pending_into_committed_and_warns_only_past_the_budget() -> None:
    package = figures("1000", ("A", "300", "200"), ("B", "100", "300"))  # forecast 900
    # B's 300 pending becomes 300 committed: no change in the forecast, no warning.
    assert check_additions([package], {"B": D(300)}) == []
    # B commits 450: 100 + 450 + max(0, 300 − 450) = 550; the package forecasts 1,050.
    [warning] = check_additions([package], {"B": D(450)})
    assert (warning.forecast_before, warning.forecast_after, warning.overrun) == (
        D(900),
        D(1050),
        D(50),
    )
    assert [(p.project_id, p.addition, p.forecast, p.overrun) for p in warning.projects] == [
        ("B", D(450), D(550), D(50))
    ]
    # Two at once: A 300 + 400 + max(0, 200 − 400) = 700 and B 550. The budget goes to them by
    # id: A fits (700), B gets the 300 left and is 250 over; only B is named.
    [both] = check_additions([package], {"B": D(450), "A": D(400)})
    assert (both.forecast_after, both.overrun) == (D(1250), D(250))
    assert [(p.project_id, p.forecast, p.overrun) for p in both.projects] == [("B", D(550), D(250))]


def test_a_package_the_addition_does_not_touch_is_not_warned_even_if_over() -> None:
    over = figures("100", ("A", "150", "0"))
    assert check_additions([over], {"Z": D(10)}) == []
    [warning] = check_additions([over], {"A": D(1)})
    assert warning.overrun == D(51) and warning.projects[0].overrun == D(51)


def test_a_negative_addition_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="never negative"):
        check_additions([figures("1", ("A", "0", "0"))], {"A": D(-1)})
