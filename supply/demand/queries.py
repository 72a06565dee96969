"""Reads of open demand that more than one workflow needs: the weekly run plans `open_demand`,
an urgent request checks a project's own outstanding lines with it and weighs itself against
`competing_demand`. Plain queries, no workflow: a read here never writes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, case, literal
from sqlalchemy import select as core_select
from sqlmodel import Session, col, func, select

from supply.core.clock import utc
from supply.core.db import where_in
from supply.demand.models import DemandLine, DemandStatus
from supply.planning import DemandItem, line_key
from supply.projects.models import PRIORITY_WEIGHT, Priority, Project, ProjectStatus


def _open_lines(
    statement: Any,
    *,
    cutoff: datetime,
    materials: Collection[str] | None,
    project_id: str | None,
    need_by_until: date | None,
) -> Any:
    """`statement` over demand lines joined to their projects, restricted to the open lines of
    active projects submitted strictly before the cutoff (of some materials, or of one project;
    needed by a date at the latest)."""
    statement = statement.join(Project, col(Project.id) == DemandLine.project_id).where(
        Project.status == ProjectStatus.ACTIVE,
        # A line with anything outstanding is `open` (statuses follow every hold, promise
        # and approval: supply.commitments.refresh_statuses); planned, held, issued and
        # cancelled lines have nothing left to plan.
        DemandLine.status == DemandStatus.OPEN,
        col(DemandLine.submitted_at) < utc(cutoff),
    )
    statement = where_in(statement, DemandLine.material_code, materials)
    if project_id is not None:
        statement = statement.where(DemandLine.project_id == project_id)
    if need_by_until is not None:
        statement = statement.where(_need_by() <= need_by_until)
    return statement


def _need_by() -> Any:
    return func.coalesce(DemandLine.need_by_override, Project.need_by)


def open_demand(
    session: Session,
    *,
    cutoff: datetime,
    materials: Collection[str] | None = None,
    project_id: str | None = None,
    need_by_until: date | None = None,
) -> list[DemandItem]:
    """Outstanding quantity of every open line submitted strictly before the cutoff (of some
    materials, or of one project; needed by a date at the latest)."""
    statement = _open_lines(
        select(  # type: ignore[call-overload]  # a dozen columns: past sqlmodel's overloads
            DemandLine.id,
            DemandLine.line_no,
            DemandLine.material_code,
            DemandLine.quantity - DemandLine.covered,  # covered: kept with the status
            DemandLine.need_by_override,
            Project.id,
            Project.need_by,
            Project.voltage_class,
            Project.location,
            Project.priority,
            Project.package_id,
            DemandLine.feasibility_listed,
        ).order_by(col(DemandLine.project_id), col(DemandLine.line_no)),
        cutoff=cutoff,
        materials=materials,
        project_id=project_id,
        need_by_until=need_by_until,
    )
    rows = session.exec(statement).all()
    items = []
    for (
        line_id,
        line_no,
        material,
        outstanding,
        override,
        project,
        project_need_by,
        voltage,
        location,
        priority,
        package,
        listed,
    ) in rows:
        if outstanding <= 0:
            continue
        items.append(
            DemandItem(
                key=line_key(project, line_no),
                project_id=project,
                material=material,
                quantity=outstanding,
                need_by=override or project_need_by,
                voltage_class=voltage,
                location=location,
                weight=PRIORITY_WEIGHT[Priority(priority)],
                package=package,
                demand_line_id=line_id,
                listed=listed,
            )
        )
    return items


WEIGHT_OF = {str(p): w for p, w in PRIORITY_WEIGHT.items()}  # by the stored value


def competing_demand(
    session: Session,
    *,
    cutoff: datetime,
    materials: Collection[str],
    need_by_until: date,
    today: date,
    largest: Mapping[str, int],
    except_projects: Collection[str] = (),
) -> list[DemandItem]:
    """The open demand of some materials needed by a date at the latest, summed in the database
    over what the engine cannot tell apart: material, place, need-by, weight and voltage.

    Only lines the planner takes count: a line whose outstanding quantity passes its material's
    `largest` (`supply.limits.largest_quantities`, the rule the weekly run screens by) is
    refused there, so it takes no stock from anyone here either.

    Lines already past their need-by are summed as if due yesterday: nothing arrives before
    today, so each is late whatever it gets and every day earlier saves it the same weighted
    day. Emergency procurement serves every line in full, so only a constant changes in the
    lateness tier: the engine's choices stay the same, and the instance is much smaller. A sum
    of one line is named after it (`P-1/2`), of several after the first project and how many
    more lines (`P-1+4`), so that a late request's reason says who took the stock.
    """
    if not materials:
        return []
    overdue = today - timedelta(days=1)
    outstanding = col(DemandLine.quantity) - col(DemandLine.covered)  # kept with the status
    due = _need_by()
    lines = _open_lines(
        core_select(
            col(DemandLine.material_code).label("material"),
            col(Project.location).label("location"),
            case((due < literal(overdue, Date), literal(overdue, Date)), else_=due).label("due"),
            col(Project.priority).label("priority"),
            col(Project.voltage_class).label("voltage"),
            outstanding.label("outstanding"),
            col(Project.id).label("project"),
            col(DemandLine.line_no).label("line_no"),
        ).select_from(DemandLine),
        cutoff=cutoff,
        materials=materials,
        project_id=None,
        need_by_until=need_by_until,
    )
    if except_projects:
        lines = lines.where(col(Project.id).not_in(sorted(set(except_projects))))
    plannable = case(
        {code: largest.get(code, 0) for code in sorted(materials)},
        value=DemandLine.material_code,
        else_=0,
    )
    lines = lines.where(outstanding <= plannable).subquery("open_lines")
    keys = (lines.c.material, lines.c.location, lines.c.due, lines.c.priority, lines.c.voltage)
    sums: dict[tuple[str, str, date, int, str], list[Any]] = {}
    for (
        material,
        location,
        day,
        priority,
        voltage,
        quantity,
        first,
        line_no,
        count,
    ) in session.connection().execute(  # plain rows: thousands of them
        core_select(
            *keys,
            func.sum(lines.c.outstanding),
            func.min(lines.c.project),
            func.min(lines.c.line_no),
            func.count(),
        )
        .where(lines.c.outstanding > 0)
        .group_by(*keys)
    ):
        key = (material, location, day, WEIGHT_OF[priority], voltage)
        found = sums.setdefault(key, [0, first, line_no, 0])
        found[0] += int(quantity)
        if first < found[1]:
            found[1:3] = first, line_no
        found[3] += int(count)
    items, named = [], set()
    for (material, location, day, weight, voltage), (quantity, first, line_no, count) in sorted(
        sums.items()
    ):
        # Named after a line: the line itself, or the first project's and how many more.
        name = line_key(first, line_no) if count == 1 else f"{first}+{count - 1}"
        if name in named:
            name = f"{name}({material}@{location}/{day})"
        named.add(name)
        items.append(
            DemandItem(
                key=name,
                project_id=first,
                material=material,
                quantity=quantity,
                need_by=day,
                voltage_class=voltage,
                location=location,
                weight=weight,
            )
        )
    return items
