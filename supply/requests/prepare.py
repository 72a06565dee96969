"""Prepare a round of urgent requests: check each request, build one matching instance for those
that pass, and solve it.

A request is checked (its project, existing or new and creatable, and its lines) into a `Draft`;
a refused one gets its error as its outcome. The others' lines are put in one instance
(`Joint`) with the supply of their materials — on-hand less active holds (so reserve an approved
weekly plan gave to another project is not there), agreement stock less what approved plans and
earlier promises took, arriving per this moment's batch — and the other open demand of those
materials, which the engine weighs against the requests (grouped, so the instance stays small).
The instance is solved explaining only the requests' own lines.

R6: a project that can wait for agreement stock must not drain reserve below its quota, so the
request's instance prices reserve below quota above the dearest agreement alternative: an
agreement line that arrives in time always wins over reserve below quota, while reserve still
beats lateness (the first tiers) and emergency procurement when that is dearer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from optimizer import Plan, solve
from optimizer.contract import Allocation
from supply.auth.units import units_by_location
from supply.availability import SupplyState, catalogued_materials, load_supply
from supply.core.clock import local_today
from supply.core.errors import ConflictingInput, DomainError, InvalidInput
from supply.core.observe import SolveKind, solving
from supply.demand.queries import competing_demand, open_demand
from supply.demand.service import LineFacts, check_lines, line_facts
from supply.emergency import emergency_materials
from supply.limits import (
    Refusal,
    dearest_prices,
    largest_quantities,
    refused_by_key,
    screen,
    solve_within_limits,
    with_refusals,
)
from supply.planning import DemandItem, MatchingProblem, build_instance, line_key
from supply.policy import Batch, BuildDeadline, batch_for, build_deadline
from supply.projects.models import PRIORITY_WEIGHT, Priority, Project, ProjectStatus
from supply.projects.scope import check_visible
from supply.projects.service import (
    ProjectFacts,
    check_new_project,
    get_project_or_raise,
    project_facts,
)
from supply.requests.asks import Ask, Round


@dataclass
class Draft:
    """One request prepared for solving: its lines as demand."""

    index: int  # its place among the asks answered together
    ask: Ask
    fingerprint: str
    project: Project  # transient when the request creates it
    deadline: BuildDeadline
    items: list[DemandItem]
    line_numbers: dict[str, int]
    existing_lines: dict[str, int]  # key -> demand line id (asking for a project's open lines)

    @property
    def keys(self) -> list[str]:
        """The request's instance ids, in line order."""
        return [item.key for item in self.items]

    def given(self, plan: Plan) -> list[Allocation]:
        """What the plan gives the request's lines."""
        mine = set(self.keys)
        return [a for a in plan.allocations if a.demand in mine]


@dataclass
class Joint:
    """Requests answered together: one instance holding all their lines among the other open
    demand of their materials."""

    today: date
    batch: Batch
    drafts: list[Draft]
    problem: MatchingProblem
    known: LineFacts  # what line checks read about the round's materials
    supply: SupplyState  # the supply of the round's materials, as the instance was built
    catalogued: frozenset[str]  # which of them a catalog serves (supply.availability)
    refused: list[Refusal] = field(default_factory=list)  # lines the planner cannot take

    @property
    def keys(self) -> list[str]:
        return [key for draft in self.drafts for key in draft.keys]

    def scarce(self, draft: Draft, plan: Plan) -> bool:
        """Whether the plan gives the request anything another could use: stock or an agreement
        line's quantity (emergency procurement is not shared out)."""
        return any(self.problem.sources[a.source].kind != "emergency" for a in draft.given(plan))


def prepare(
    session: Session, r: Round, live: Collection[int], *, lock: bool
) -> tuple[Joint | None, dict[int, DomainError]]:
    """Check each request and build one instance for the rest: their lines, the supply of their
    materials (locked when `lock`), and the other open demand competing for it. Returns the
    instance (None if every request was refused) and each refused request's error."""
    today = local_today(r.now)
    batch = batch_for(r.now, calendar=r.calendar, policy=r.policy)
    known = line_facts(
        session=session,
        today=today,
        codes={line.material_code for i in live for line in r.asks[i].body.lines},
    )
    new = [project.id for i in live if (project := r.asks[i].body.project) is not None]
    projects = project_facts(session=session, ids=new) if new else None
    drafts = []
    errors: dict[int, DomainError] = {}
    for i in live:
        try:
            drafts.append(_draft(session, r, i, today=today, known=known, projects=projects))
        except DomainError as exc:
            errors[i] = exc
    if not drafts:
        return None, errors
    items = [item for draft in drafts for item in draft.items]
    wanted = {item.material for item in items}
    supply = load_supply(
        session=session,
        today=today,
        order_day=batch.province_match,
        central_warehouse=r.settings.default_delivery_warehouse,
        lock=lock,
        materials=wanted,
    )
    # The other open demand that competes with the requests: lines of the same materials needed
    # no later than the requests' own, summed where the engine cannot tell them apart. Lines
    # needed later have more time for agreement stock and emergency procurement, and the weekly
    # run plans them; leaving them out keeps the instance small. A line the planner refuses
    # (supply.limits: the same rule as the weekly run) competes with no one.
    dearest = dearest_prices(session, wanted)
    others = competing_demand(
        session,
        cutoff=r.now,
        materials=wanted,
        need_by_until=max(item.need_by for item in items),
        today=today,
        largest=largest_quantities(dearest, wanted),
        except_projects={d.project.id for d in drafts if d.existing_lines},
    )
    mine = {item.key for item in items}  # a line added meanwhile may bear a new line's key
    others = [replace(d, key=f"{d.key}(open)") if d.key in mine else d for d in others]
    penalty = r6_penalty(supply, wanted, r.settings.reserve_below_quota_penalty)
    # A line the planner cannot take is answered unmet with the reason (supply.limits).
    items, refused = screen(items, dearest)
    # The line checks read which of the lines' materials a catalog serves; an existing project's
    # outstanding lines may bring others.
    catalogued = known[1] | catalogued_materials(
        session=session, today=today, among=wanted - known[0].keys()
    )
    problem = build_instance(
        demands=items + others,
        supply=supply,
        plan_date=today,
        order_day=batch.province_match,
        penalty=penalty,
        emergency_for=emergency_materials(
            wanted, catalogued, for_catalog_materials=r.settings.emergency_for_catalog_materials
        ),
    )
    problem.demands.update(refused_by_key(refused))
    return Joint(
        today=today,
        batch=batch,
        drafts=drafts,
        problem=problem,
        known=known,
        supply=supply,
        catalogued=catalogued,
        refused=refused,
    ), errors


def _draft(
    session: Session,
    r: Round,
    index: int,
    *,
    today: date,
    known: LineFacts,
    projects: ProjectFacts | None,
) -> Draft:
    """Check one request: its project (existing, or new and creatable) and its lines."""
    ask = r.asks[index]
    body = ask.body
    if body.project is not None:
        derived = check_new_project(
            session=session,
            project=body.project,
            calendar=r.calendar,
            policy=r.policy,
            known=projects,
        )
        project = Project(
            **body.project.model_dump(exclude={"voltage_class"}),
            voltage_class=derived.voltage_class,
            deadline=derived.deadline,
            need_by=derived.need_by,
            status=ProjectStatus.ACTIVE,
            unit=units_by_location(session).get(body.project.location),
            manager=ask.scope.login if ask.scope else None,  # a project manager's own
        )
    else:
        assert body.project_id is not None
        check_visible(session, body.project_id, ask.scope)
        project = get_project_or_raise(session=session, project_id=body.project_id)
    weight = PRIORITY_WEIGHT[Priority(project.priority)]
    items: list[DemandItem] = []
    line_numbers: dict[str, int] = {}
    existing: dict[str, int] = {}
    if body.lines:
        numbers = check_lines(
            session=session,
            project=project,
            lines=body.lines,
            today=today,
            taken=set() if body.project is not None else None,
            known=known,
        )
        for number, line in zip(numbers, body.lines, strict=True):
            key = line_key(project.id, number)
            line_numbers[key] = number
            items.append(
                DemandItem(
                    key=key,
                    project_id=project.id,
                    material=line.material_code,
                    quantity=line.quantity,
                    need_by=line.need_by_override or project.need_by,
                    voltage_class=project.voltage_class,
                    location=project.location,
                    weight=weight,
                    package=project.package_id,
                    listed=line.feasibility_listed,
                )
            )
    else:
        if project.status != ProjectStatus.ACTIVE:
            raise ConflictingInput(
                f"项目 {project.id} 状态为 {project.status} / project {project.id} is "
                f"{project.status}: nothing can be requested for it",
                loc=("project_id",),
            )
        items = open_demand(session, cutoff=r.now, project_id=project.id)
        if not items:
            raise ConflictingInput(
                f"项目 {project.id} 没有待供应的需求行 / project {project.id} has no outstanding "
                "lines: add lines to the request",
                loc=("lines",),
            )
        for item in items:
            assert item.demand_line_id is not None
            existing[item.key] = item.demand_line_id
            line_numbers[item.key] = int(item.key.rsplit("/", 1)[1])
    deadline = build_deadline(
        project.project_type,
        approved=project.approved_on,
        completion=project.completion_date,
        calendar=r.calendar,
        policy=r.policy,
    )
    return Draft(
        index=index,
        ask=ask,
        fingerprint=r.prints[index],
        project=project,
        deadline=deadline,
        items=items,
        line_numbers=line_numbers,
        existing_lines=existing,
    )


def r6_penalty(supply: SupplyState, materials: set[str], base: Decimal) -> Decimal:
    """A below-quota penalty no agreement price difference can outweigh (R6)."""
    dearer = [
        a.unit_price - supply.materials[a.material].standard_price
        for a in supply.agreements
        if a.material in materials
    ]
    return max([base, *(d + 1 for d in dearer)])


def solve_joint(joint: Joint) -> Plan:
    """Solve the instance, explaining only the requests' own lines.

    The plan is not put through the independent checker here, unlike the weekly run's: the
    engine is checked against it in the test suite, and what matters for a promise — that every
    held or promised quantity is really free — is checked again under lock before it is written.

    A material the engine cannot plan exactly (supply.limits.solve_within_limits) leaves the
    instance: the requests' lines of it are refused with the reason (`joint.refused`), the other
    demand of it is left out.
    """
    keys = joint.keys
    with solving(SolveKind.URGENT, lines=len(joint.problem.instance.demands)):
        joint.problem, plan, too_big = solve_within_limits(
            joint.problem, lambda instance: solve(instance, explain_only=keys), lines=set(keys)
        )
    joint.refused += too_big
    if plan.status == "invalid":
        raise InvalidInput(
            "无法建立匹配实例 / the request cannot be matched: "
            + "; ".join(f"{e.id} {e.field}: {e.message}" for e in plan.errors[:5]),
            loc=("lines",),
        )
    return with_refusals(plan, joint.refused)
