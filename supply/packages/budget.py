"""Project-package budgets (R7): what each package has committed, what is still pending, and the
check that warns before a package is overrun. It warns; it never refuses (先实施、后备案).

**Committed** (已占用) is money the company has bound itself to for a project's lines:

- stock held or issued for a line (holds `held` or `issued`): reserve at the material's standard
  price, vendor consignment at the consignment row's issue price;
- agreement-stock and emergency supply planned for a line in an *approved* weekly run, at the plan
  line's unit cost;
- agreement and emergency supply promised to an urgent request (promises `promised` or
  `fulfilled`), at the promise's unit cost.

**Pending** (待发生) is the rest of each line of an active project that no source covers yet
(not cancelled, not issued): its quantity less the committed quantity above (the same parts
that `supply.commitments` counts as covering a line), so that no unit counts twice. It is
priced at its expected source: along the plan lines of the latest live weekly run that planned
the line, when that run is still a draft (an approved run's sources are already committed), and
what is left at the material's standard price.

remaining = budget − committed; forecast = committed + pending; overrun = max(0, forecast − budget).

A line the planner refuses adds nothing to pending until it is corrected: the one rule of
`supply.limits` (`largest_quantity`: its outstanding quantity past `MAX_QUANTITY`, or its cost at
its material's dearest price not below `MAX_AMOUNT`), asked here exactly as the weekly run and
urgent requests ask it, so no budget figure is made of a line planning will not take. (A
material refused for a week because its flow network would be too large to plan exactly is
not known here: that depends on the whole week.)

**The check** (`budget_check`) takes cost about to be committed per project (a request's answer,
a plan being approved) that is not in the database yet. That cost is added to the project's
committed and taken off its pending (not below zero): the expected cost becomes a committed one.
A package whose forecast after that exceeds its budget gets a warning naming the projects of the
addition that cause it and how much of the overrun each accounts for (`overrun_shares`).

The arithmetic is pure (`price_along`, `summarise`, `check_additions`, `overrun_shares`); the
database is read by the thin functions around it. Money is `Decimal`, exact, never a float.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from catalogs.models import Consignment, Material
from supply.core.money import fen
from supply.demand.models import DemandLine, DemandStatus
from supply.holds.models import Hold, HoldStatus, Promise, PromiseStatus, StockKind
from supply.limits import dearest_prices, largest_quantities
from supply.packages.models import (
    BudgetWarning,
    Package,
    PackageFigures,
    ProjectFigures,
    ProjectOverrun,
)
from supply.projects.models import Project, ProjectStatus
from supply.weekly.models import LineKind, PlanLine, PlanRun, RunStatus

ZERO = Decimal(0)
# Past this many projects (or lines) a query reads them all and keeps what it needs, rather than
# sending thousands of ids (SQLite and PostgreSQL both cap the parameters of one statement).
MAX_IDS = 1000
COMMITTED_KINDS = (LineKind.AGREEMENT, LineKind.EMERGENCY)  # plan lines approval commits as-is


@dataclass(frozen=True)
class ProjectCost:
    """A project's committed and pending cost (exact)."""

    committed: Decimal = ZERO
    pending: Decimal = ZERO


# ------------------------------------------------------------------------------ pure arithmetic


def price_along(
    quantity: int, sources: Sequence[tuple[int, Decimal]], fallback: Decimal
) -> Decimal:
    """Price `quantity` units along (quantity, unit cost) sources in order; the rest at `fallback`."""
    left, cost = quantity, ZERO
    for available, unit_cost in sources:
        take = min(left, available)
        if take <= 0:
            break
        cost += unit_cost * take
        left -= take
    return cost + fallback * max(left, 0)


def summarise(package: Package, projects: Sequence[tuple[Project, ProjectCost]]) -> PackageFigures:
    """A package's figures from its projects' costs."""
    rows = [
        ProjectFigures(
            project_id=project.id,
            project_name=project.name,
            status=project.status,
            committed=cost.committed,
            pending=cost.pending,
            forecast=cost.committed + cost.pending,
        )
        for project, cost in sorted(projects, key=lambda item: item[0].id)
    ]
    committed = sum((p.committed for p in rows), ZERO)
    pending = sum((p.pending for p in rows), ZERO)
    forecast = committed + pending
    return PackageFigures(
        package_id=package.id,
        name=package.name,
        year=package.year,
        kind=package.kind,
        budget=package.budget,
        committed=committed,
        pending=pending,
        remaining=package.budget - committed,
        forecast=forecast,
        overrun=max(ZERO, forecast - package.budget),
        projects=rows,
    )


def overrun_shares(
    *, budget: Decimal, others: Decimal, forecasts: Sequence[tuple[str, Decimal]]
) -> dict[str, Decimal]:
    """Split a package's overrun among the projects of an addition.

    The budget left after every other project (`others`, their forecast) is given to the added
    projects in the order given; what a project's forecast exceeds its part by is its share. The
    shares add up to the package's overrun whenever the other projects alone fit the budget.
    """
    room = max(ZERO, budget - others)
    shares: dict[str, Decimal] = {}
    for project_id, forecast in forecasts:
        used = min(room, forecast)
        room -= used
        shares[project_id] = forecast - used
    return shares


def check_additions(
    figures: Iterable[PackageFigures], additions: Mapping[str, Decimal]
) -> list[BudgetWarning]:
    """Warn for each package whose forecast exceeds its budget once `additions` are committed.

    `additions` maps a project to cost about to be committed; it moves that much of the project's
    pending into committed (pending not below zero). A package warns only when a project of it is
    in the addition; the projects named are those with a share of the overrun (by project id).
    """
    if any(amount < 0 for amount in additions.values()):
        raise ValueError("a budget addition is never negative")
    warnings = []
    for package in figures:
        touched = [p for p in package.projects if additions.get(p.project_id, ZERO) > 0]
        if not touched:
            continue
        after = {}
        for p in package.projects:
            added = additions.get(p.project_id, ZERO)
            after[p.project_id] = p.committed + added + max(ZERO, p.pending - added)
        forecast_after = sum(after.values(), ZERO)
        if forecast_after <= package.budget:
            continue
        others = forecast_after - sum((after[p.project_id] for p in touched), ZERO)
        shares = overrun_shares(
            budget=package.budget,
            others=others,
            forecasts=[(p.project_id, after[p.project_id]) for p in touched],
        )
        causes = [
            ProjectOverrun(
                project_id=p.project_id,
                project_name=p.project_name,
                addition=additions[p.project_id],
                forecast=after[p.project_id],
                overrun=shares[p.project_id],
            )
            for p in touched
            if shares[p.project_id] > 0
        ]
        overrun = forecast_after - package.budget
        warnings.append(
            BudgetWarning(
                package_id=package.package_id,
                package_name=package.name,
                budget=package.budget,
                forecast_before=package.forecast,
                forecast_after=forecast_after,
                overrun=overrun,
                projects=causes,
                message=_message(package, forecast_after, overrun, causes),
            )
        )
    return warnings


def _message(
    package: PackageFigures, forecast: Decimal, overrun: Decimal, causes: list[ProjectOverrun]
) -> str:
    zh = "、".join(f"{c.project_id} {fen(c.overrun):,} 元" for c in causes)
    en = ", ".join(f"{c.project_id} {fen(c.overrun):,}" for c in causes)
    return (
        f"项目包 {package.package_id} 预算 {fen(package.budget):,} 元，预计 {fen(forecast):,} 元，"
        f"超支 {fen(overrun):,} 元(超支项目：{zh})；先实施，评审后 2 个工作日内备案 / "
        f"package {package.package_id}: budget {fen(package.budget):,} CNY, forecast "
        f"{fen(forecast):,}, over by {fen(overrun):,} (caused by {en}); implement first and file "
        "within 2 working days of the review"
    )


# ------------------------------------------------------------------------- reading the database


def _among(column: Any, values: list[str]) -> ColumnElement[bool]:
    """`column IN values`, or no condition at all when the values are too many to send."""
    return col(column).in_(values) if len(values) <= MAX_IDS else true()


def project_costs(*, session: Session, project_ids: Collection[str]) -> dict[str, ProjectCost]:
    """Committed and pending cost of each of the given projects (those with no lines: zero)."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    wanted = set(ids)
    lines = [
        row
        for row in session.exec(
            select(DemandLine, col(Material.standard_price), col(Project.status))
            .join(Material, col(Material.code) == DemandLine.material_code)
            .join(Project, col(Project.id) == DemandLine.project_id)
            .where(_among(DemandLine.project_id, ids))
        )
        if row[0].project_id in wanted
    ]
    quantity: dict[int, int] = defaultdict(int)
    committed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, units, cost in _committed_rows(session, ids):
        quantity[line_id] += units
        committed[line_id] += cost
    expected = _expected_sources(session, ids)
    codes = {line.material_code for line, _, _ in lines}
    largest = largest_quantities(dearest_prices(session, codes), codes) if codes else {}
    costs: dict[str, list[Decimal]] = {pid: [ZERO, ZERO] for pid in ids}
    for line, standard_price, project_status in lines:
        line_id = line.id or 0
        costs[line.project_id][0] += committed[line_id]
        if project_status != ProjectStatus.ACTIVE or line.status in (
            DemandStatus.CANCELLED,
            DemandStatus.ISSUED,
        ):
            continue
        left = line.quantity - quantity[line_id]  # the same parts as supply.commitments
        if 0 < left <= largest[line.material_code]:  # else planning refuses it (supply.limits)
            pending = price_along(left, expected.get(line_id, []), standard_price)
            costs[line.project_id][1] += pending
    return {pid: ProjectCost(committed=c, pending=p) for pid, (c, p) in costs.items()}


def _committed_rows(session: Session, project_ids: list[str]) -> list[tuple[int, int, Decimal]]:
    """(line id, quantity, cost) of every committed part of the projects' lines."""
    rows: list[tuple[int, int, Decimal]] = []
    holds = session.exec(
        select(Hold, col(Material.standard_price), col(Consignment.issue_price))
        .join(DemandLine, col(DemandLine.id) == Hold.demand_line_id)
        .join(Material, col(Material.code) == Hold.material_code)
        .outerjoin(Consignment, col(Consignment.id) == Hold.consignment_id)
        .where(
            _among(DemandLine.project_id, project_ids),
            col(Hold.status).in_([HoldStatus.HELD, HoldStatus.ISSUED]),
        )
    )
    for hold, standard_price, issue_price in holds:
        price = issue_price if hold.stock_kind == StockKind.CONSIGNMENT else standard_price
        rows.append((hold.demand_line_id, hold.quantity, price * hold.quantity))
    planned = session.exec(
        select(col(PlanLine.demand_line_id), col(PlanLine.quantity), col(PlanLine.unit_cost))
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(
            PlanRun.status == RunStatus.APPROVED,
            col(PlanLine.kind).in_(COMMITTED_KINDS),
            _among(PlanLine.project_id, project_ids),
            col(PlanLine.demand_line_id).is_not(None),
        )
    )
    for line_id, units, unit_cost in planned:
        rows.append((line_id or 0, units, unit_cost * units))
    promised = session.exec(
        select(col(Promise.demand_line_id), col(Promise.quantity), col(Promise.unit_cost))
        .join(DemandLine, col(DemandLine.id) == Promise.demand_line_id)
        .where(
            _among(DemandLine.project_id, project_ids),
            col(Promise.status).in_([PromiseStatus.PROMISED, PromiseStatus.FULFILLED]),
        )
    )
    for line_id, units, unit_cost in promised:
        rows.append((line_id, units, unit_cost * units))
    return rows


def _expected_sources(
    session: Session, project_ids: list[str]
) -> dict[int, list[tuple[int, Decimal]]]:
    """Per line, the (quantity, unit cost) sources of the latest live run that planned it, when
    that run is a draft; an approved run's sources are committed already."""
    rows = session.exec(
        select(PlanLine, col(PlanRun.run_at), col(PlanRun.status))
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(
            col(PlanRun.status).in_([RunStatus.DRAFT, RunStatus.APPROVED]),
            _among(PlanLine.project_id, project_ids),
            col(PlanLine.demand_line_id).is_not(None),
        )
        .order_by(col(PlanLine.id))
    ).all()
    latest: dict[int, tuple[datetime, int, str]] = {}
    for line, run_at, status in rows:
        key = line.demand_line_id or 0
        if key not in latest or (run_at, line.run_id) > latest[key][:2]:
            latest[key] = (run_at, line.run_id, status)
    sources: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for line, _, _ in rows:
        _, newest, status = latest[line.demand_line_id or 0]
        if line.run_id == newest and status == RunStatus.DRAFT and line.kind != LineKind.UNMET:
            sources[line.demand_line_id or 0].append((line.quantity, line.unit_cost))
    return dict(sources)


def package_figures(
    *, session: Session, year: int | None = None, package_ids: Collection[str] | None = None
) -> list[PackageFigures]:
    """Each package's budget, committed, pending, remaining, forecast and overrun, with its
    projects; newest year first, then by id."""
    statement = select(Package)
    if year is not None:
        statement = statement.where(Package.year == year)
    if package_ids is not None:
        statement = statement.where(col(Package.id).in_(sorted(set(package_ids))))
    packages = session.exec(statement.order_by(col(Package.year).desc(), col(Package.id))).all()
    if not packages:
        return []
    projects = session.exec(
        select(Project).where(col(Project.package_id).in_([p.id for p in packages]))
    ).all()
    costs = project_costs(session=session, project_ids=[p.id for p in projects])
    members: dict[str, list[tuple[Project, ProjectCost]]] = defaultdict(list)
    for project in projects:
        members[project.package_id or ""].append((project, costs[project.id]))
    return [summarise(package, members[package.id]) for package in packages]


def _packages_of(session: Session, project_ids: Collection[str]) -> dict[str, str]:
    rows = session.exec(
        select(col(Project.id), col(Project.package_id)).where(
            col(Project.id).in_(sorted(set(project_ids))), col(Project.package_id).is_not(None)
        )
    )
    return {project_id: package_id for project_id, package_id in rows if package_id}


def budget_check(*, session: Session, additions: Mapping[str, Decimal]) -> list[BudgetWarning]:
    """Warn for every package the additions (project → cost about to be committed, not yet in the
    database) would take over budget; projects without a package are not checked."""
    wanted = {project_id for project_id, amount in additions.items() if amount > 0}
    if not wanted:
        return []
    packages = set(_packages_of(session, wanted).values())
    if not packages:
        return []
    return check_additions(package_figures(session=session, package_ids=packages), additions)


def plan_additions(*, session: Session, lines: Iterable[PlanLine]) -> dict[str, Decimal]:
    """Cost per project that approving these plan lines commits: reserve at standard price,
    consignment at its issue price, agreement and emergency at the plan's unit cost."""
    chosen = [
        line
        for line in lines
        if line.demand_line_id is not None and line.project_id and line.kind != LineKind.UNMET
    ]
    codes = sorted({line.material_code for line in chosen if line.kind == LineKind.RESERVE})
    standard: dict[str, Decimal] = dict(
        session.exec(
            select(col(Material.code), col(Material.standard_price)).where(
                col(Material.code).in_(codes)
            )
        ).all()
    )
    ids = sorted({line.consignment_id for line in chosen if line.consignment_id is not None})
    issue: dict[int | None, Decimal] = dict(
        session.exec(
            select(col(Consignment.id), col(Consignment.issue_price)).where(
                col(Consignment.id).in_(ids)
            )
        ).all()
    )
    additions: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in chosen:
        if line.kind == LineKind.RESERVE:
            price = standard[line.material_code]
        elif line.kind == LineKind.CONSIGNMENT:
            price = issue[line.consignment_id]
        else:
            price = line.unit_cost
        additions[line.project_id or ""] += price * line.quantity
    return dict(additions)
