"""Package budgets on SQLite and PostgreSQL: committed and pending against hand-computed cases, the
budget check that tips a package over, and the projects over budget."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session

from supply.packages.budget import (
    budget_check,
    package_figures,
    project_costs,
)
from tests.packages.world import build_budget_world

D = Decimal


@pytest.fixture
def world(session: Session) -> Session:
    build_budget_world(session)
    return session


def test_committed_and_pending_are_the_hand_computed_amounts(world: Session) -> None:
    [a, b] = package_figures(session=world, year=2026)
    assert (a.package_id, b.package_id) == ("PK-A", "PK-B")
    assert (a.budget, a.committed, a.pending) == (D(100000), D(78690), D(74690))
    assert (a.remaining, a.forecast, a.overrun) == (D(21310), D(153380), D(53380))
    assert [(p.project_id, p.committed, p.pending, p.forecast) for p in a.projects] == [
        ("P1", D(77690), D(74690), D(152380)),
        ("P2", D(1000), D(0), D(1000)),
    ]
    assert (b.committed, b.pending, b.remaining, b.forecast, b.overrun) == (
        D(0),
        D(200),
        D(500),
        D(200),
        D(0),
    )
    assert [p.project_id for p in b.projects] == ["P3"]


def test_every_package_without_a_filter_newest_year_first_and_empty_ones_at_zero(
    world: Session,
) -> None:
    figures = package_figures(session=world)
    assert [f.package_id for f in figures] == ["PK-A", "PK-B", "PK-C"]
    c = figures[-1]
    assert (c.year, c.committed, c.pending, c.remaining, c.overrun, c.projects) == (
        2025,
        D(0),
        D(0),
        D(0),
        D(0),
        [],
    )
    assert [f.package_id for f in package_figures(session=world, package_ids=["PK-B"])] == ["PK-B"]


def test_each_line_s_cost_comes_from_its_own_source(world: Session) -> None:
    costs = project_costs(session=world, project_ids=["P1", "P2", "P3", "P4"])
    # P4 belongs to no package but its cost is still known: one transformer, standard price.
    assert costs["P4"].committed == D(0) and costs["P4"].pending == D(45000)
    assert costs["P3"].pending == D(200)
    assert project_costs(session=world, project_ids=[]) == {}


def test_a_check_that_stays_within_the_budget_does_not_warn(world: Session) -> None:
    # P3's 200 pending becomes 400 committed: forecast 400 of 500.
    assert budget_check(session=world, additions={"P3": D(400)}) == []
    # A project in no package, an unknown one and a zero addition are not checked.
    assert budget_check(session=world, additions={"P4": D(10**6), "NOPE": D(1), "P3": D(0)}) == []


def test_a_check_that_tips_a_package_over_names_the_project_and_the_amount(
    world: Session,
) -> None:
    [warning] = budget_check(session=world, additions={"P3": D("600.50")})
    assert (warning.package_id, warning.budget) == ("PK-B", D(500))
    assert (warning.forecast_before, warning.forecast_after, warning.overrun) == (
        D(200),
        D("600.50"),
        D("100.50"),
    )
    [cause] = warning.projects
    assert (cause.project_id, cause.addition, cause.forecast, cause.overrun) == (
        "P3",
        D("600.50"),
        D("600.50"),
        D("100.50"),
    )
    assert "PK-B" in warning.message and "P3 100.50" in warning.message
    # A warning, not a refusal: nothing was written.
    assert package_figures(session=world, package_ids=["PK-B"])[0].forecast == D(200)


def test_an_addition_to_a_package_already_over_is_all_overrun(world: Session) -> None:
    # PK-A's other project P2 fits the budget (1,000 of 100,000); P1's forecast after the
    # addition is 77,690 + 80,000 + max(0, 74,690 − 80,000) = 157,690: 58,690 over.
    [warning] = budget_check(session=world, additions={"P1": D(80000)})
    assert warning.package_id == "PK-A"
    assert (warning.forecast_before, warning.forecast_after) == (D(153380), D(158690))
    assert [(p.project_id, p.forecast, p.overrun) for p in warning.projects] == [
        ("P1", D(157690), D(58690))
    ]


def test_the_figures_are_the_same_when_too_many_ids_to_send(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import supply.packages.budget as budget

    exact = package_figures(session=world)
    monkeypatch.setattr(budget, "MAX_IDS", 1)  # every query reads all rows and keeps its own
    assert package_figures(session=world) == exact
    assert package_figures(session=world, package_ids=["PK-B"]) == exact[1:2]
