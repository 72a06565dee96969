"""The budget check before the promise (R7), for a request whose project is in a package.

The answer's cost is checked against the package (supply.packages.budget). It warns, never
refuses: a project that goes over relies on reserve the plan left free where that arrives no
later (`supply.planning.prefer_reserve`: nobody else's lines get later), and a filing (备案) is
due. `check_budget` only reads and decides: the caller applies the plan it moved to, and
`file_overrun` writes the filings when the request is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlmodel import Session

from optimizer import Plan
from supply.packages.budget import check_additions, package_figures
from supply.packages.filings import record_filings
from supply.packages.models import BudgetWarning, Filing
from supply.planning import prefer_reserve
from supply.projects.models import Project
from supply.requests.asks import Round
from supply.requests.prepare import Draft, Joint


@dataclass(frozen=True)
class BudgetCheck:
    """What the budget check decided for one request."""

    warnings: list[BudgetWarning] = field(default_factory=list)
    over: bool = False  # the project goes over its package's budget: filings are due
    moved: Plan | None = None  # the round's plan with the request moved onto reserve, if any was
    relied: int = 0  # the quantity moved onto reserve


def request_cost(joint: Joint, draft: Draft, plan: Plan) -> Decimal:
    """What the plan's supply for the request costs."""
    return sum(
        (joint.problem.sources[a.source].unit_cost * int(a.quantity) for a in draft.given(plan)),
        Decimal(0),
    )


def check_budget(
    session: Session, joint: Joint, draft: Draft, plan: Plan, *, project: Project
) -> BudgetCheck:
    """The warnings for the request's cost, whether the project goes over its package's budget,
    and if it does, the plan moved onto free reserve and the quantity moved (none if no reserve
    was free). Requests written before it in this round are in the package's figures already
    (they are flushed in this transaction). Reads only."""
    if project.package_id is None:
        return BudgetCheck()
    figures = package_figures(session=session, package_ids=[project.package_id])  # read once
    warnings = check_additions(figures, {project.id: request_cost(joint, draft, plan)})
    if not any(p.project_id == project.id for w in warnings for p in w.projects):
        return BudgetCheck(warnings)
    moved, quantity = prefer_reserve(joint.problem, plan, draft.keys)
    if not quantity:
        return BudgetCheck(warnings, over=True)
    warnings = check_additions(figures, {project.id: request_cost(joint, draft, moved)})
    return BudgetCheck(warnings, over=True, moved=moved, relied=quantity)


def file_overrun(
    session: Session, r: Round, joint: Joint, draft: Draft, budget: BudgetCheck
) -> list[Filing]:
    """Open or update the filings due for a request whose project goes over its package's
    budget (none if it does not)."""
    if not budget.over:
        return []
    return record_filings(
        session=session,
        warnings=budget.warnings,
        review_date=joint.today,
        now=r.now,
        by=draft.ask.user,
        calendar=r.calendar,
        policy=r.policy,
    )
