"""The re-check of one request under the round's lock, just before it is written; it writes
nothing.

It reads again what the answer rests on: an existing project still active (the round locked
it), the package budget (`supply.requests.budget`), for a plan solved outside the lock that
everything it gives is still free (else `Moved`: the request is solved again), and the numbers
of its new lines. What it finds is an `Entry`, which `supply.requests.write` writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from optimizer import Plan
from optimizer.contract import Allocation
from supply.core.errors import Conflict
from supply.demand.queries import open_demand
from supply.demand.service import check_lines
from supply.planning import SourceRef
from supply.projects.models import Project, ProjectStatus
from supply.requests.asks import Round
from supply.requests.budget import BudgetCheck, check_budget
from supply.requests.prepare import Draft, Joint

Free = dict[tuple[str, object], int]  # stock and agreement quantity free under lock, by place


class Moved(Exception):
    """What the plan gives a request is no longer free: roll it back and solve it again."""


@dataclass
class Entry:
    """A request checked under lock and ready to be written."""

    draft: Draft
    project: Project
    plan: Plan  # the round's plan as it stands after this request (moved onto reserve for R7)
    allocations: list[Allocation]
    refs: list[SourceRef]
    taken: Free  # of the round's `free` stock
    line_numbers: dict[str, int]  # by key: numbered again under the project's lock
    budget: BudgetCheck


def check(
    session: Session, r: Round, joint: Joint, draft: Draft, plan: Plan, free: Free | None
) -> Entry:
    """Check one request under lock before it is written: its existing project still active
    (locked), the package budget (R7: an over-budget project relies on reserve the plan left
    free, and the entry carries the plan moved so), and, for a plan solved outside the lock, that
    everything it gives is still `free` (else `Moved`). A new project in a package must be
    written before this, so that its package's figures count it."""
    body = draft.ask.body
    project = draft.project
    if body.project is None:  # read again: the round locked it (`lock_projects`), so it stays
        project = session.exec(select(Project).where(Project.id == draft.project.id)).one()
        if project.status != ProjectStatus.ACTIVE:
            raise Conflict(
                f"项目 {project.id} 已{project.status} / project {project.id} is {project.status}",
                loc=("project_id",),
            )
    budget = check_budget(session, joint, draft, plan, project=project)
    if budget.moved is not None:
        plan = budget.moved
    allocations = draft.given(plan)
    taken = {} if free is None else _take(session, r, joint, draft, allocations, free)
    line_numbers = dict(draft.line_numbers)
    if body.lines and body.project is None:
        # Numbered again under the project's lock: another request may have added lines since.
        numbers = check_lines(session=session, project=project, lines=body.lines,
                              today=joint.today, known=joint.known)  # fmt: skip
        line_numbers.update(zip(draft.keys, numbers, strict=True))
    return Entry(
        draft=draft,
        project=project,
        plan=plan,
        allocations=allocations,
        refs=[joint.problem.sources[a.source] for a in allocations],
        taken=taken,
        line_numbers=line_numbers,
        budget=budget,
    )


def _take(
    session: Session,
    r: Round,
    joint: Joint,
    draft: Draft,
    given: list[Allocation],
    free: Free,
) -> Free:
    """What the plan gives the request, by place, if it is all in what is free under lock (read
    once for the round, less what the requests written before it took), else raise `Moved`;
    and check that each existing line is still as outstanding as it was."""
    wanted: Free = defaultdict(int)
    for a in given:
        ref = joint.problem.sources[a.source]
        if ref.kind == "emergency":
            continue
        where: object = {
            "reserve": (ref.warehouse_id, ref.material),
            "consignment": ref.consignment_id,
            "agreement": ref.agreement_line_id,
        }[ref.kind]
        wanted[ref.kind, where] += int(a.quantity)
    if any(free.get(place, 0) < quantity for place, quantity in wanted.items()):
        raise Moved
    if draft.existing_lines:
        again = open_demand(session, cutoff=r.now, project_id=draft.project.id)
        now_outstanding = {d.key: d.quantity for d in again}
        if any(now_outstanding.get(item.key, 0) != item.quantity for item in draft.items):
            raise Moved
    return wanted
