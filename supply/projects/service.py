"""Project services: create, update, read, list, cancel, complete; derived dates kept current.

Plain functions with keyword-only arguments. A project's deadline and need-by are derived by
`supply.policy.build_deadline` from the calendar and policy passed in, never taken from input;
a date the calendar cannot count (a year not loaded) is `InvalidInput`. Each use case commits
once; `refresh_derived_dates` only flushes (the weekly run commits it with its own work).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, union
from sqlmodel import Session, col, select

from catalogs.models import Transport, Warehouse
from supply.auth.actor import ProjectScope
from supply.auth.units import units_by_location
from supply.calendar import WorkCalendar
from supply.commitments import held_or_issued
from supply.core.audit import changed, record
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, every, paginate, sort_order
from supply.demand.models import DemandLine, DemandStatus
from supply.packages.models import Package
from supply.policy import DeadlinePolicy, ProjectType
from supply.projects.models import (
    TYPE_VOLTAGES,
    Priority,
    Project,
    ProjectCreate,
    ProjectPublic,
    ProjectStatus,
    ProjectUpdate,
    TypeSummary,
)
from supply.projects.rules import Derived, check_location, check_package, derive_project
from supply.projects.scope import visible

# Lines that still need or hold material: a project with any cannot be completed.
UNFINISHED = (DemandStatus.OPEN, DemandStatus.PLANNED, DemandStatus.HELD)


def get_project(*, session: Session, project_id: str) -> Project | None:
    """Return the project `project_id`, or None."""
    return session.get(Project, project_id)


def get_project_or_raise(*, session: Session, project_id: str) -> Project:
    """Return the project `project_id`, or raise NotFound."""
    project = get_project(session=session, project_id=project_id)
    if project is None:
        raise NotFound(
            f"项目 {project_id} 不存在 / project {project_id} does not exist", loc=("project_id",)
        )
    return project


PROJECT_SORTS: dict[str, Any] = {
    "id": col(Project.id),
    "name": col(Project.name),
    "type": col(Project.project_type),
    "location": col(Project.location),
    "approved_on": col(Project.approved_on),
    "need_by": col(Project.need_by),
    "deadline": col(Project.deadline),
    "status": col(Project.status),
}


def _default_order(first: Any | None) -> list[Any]:
    ahead = [case((col(Project.id).in_(first), 0), else_=1)] if first is not None else []
    return [*ahead, col(Project.need_by)]


def list_projects(
    *,
    session: Session,
    q: str | None = None,
    project_type: str | None = None,
    status: str | None = None,
    location: str | None = None,
    package_id: str | None = None,
    priority: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    scope: ProjectScope | None = None,
    first: Any | None = None,
    sort: str | None = None,
) -> Page[ProjectPublic]:
    """List the projects `scope` reaches, filtered by text in id/name/customer and fields:
    sorted by `sort` (a key of PROJECT_SORTS, `-key` descending), else earliest need-by first,
    with `first` — a subquery of project ids, such as those at risk
    (`supply.timeline.at_risk_projects`) — before the others."""
    statement = visible(select(Project), Project.id, scope)
    if q:
        text = q.lower()
        statement = statement.where(
            or_(
                *(
                    func.lower(column).contains(text, autoescape=True)
                    for column in (Project.id, Project.name, Project.customer)
                )
            )
        )
    for column, value in (
        (Project.project_type, project_type),
        (Project.status, status),
        (Project.location, location),
        (Project.package_id, package_id),
        (Project.priority, priority),
    ):
        if value:
            statement = statement.where(column == value)
    return paginate(
        session,
        statement,
        order_by=sort_order(
            sort, PROJECT_SORTS, default=_default_order(first), tiebreak=col(Project.id)
        ),
        offset=offset,
        limit=limit,
        convert=ProjectPublic.model_validate,
    )


def known_locations(*, session: Session) -> frozenset[str]:
    """Return the locations the warehouses serve: their own and every transport destination."""
    own = select(Warehouse.location)
    reached = select(Transport.to_location)
    return frozenset(session.exec(union(own, reached)).scalars())  # type: ignore[call-overload]


def _derive_or_raise(
    project: ProjectCreate | Project,
    *,
    voltage_class: str | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    given: Collection[str] | None = None,
) -> Derived:
    derived, problems = derive_project(
        ProjectType(project.project_type),
        voltage_class=voltage_class,
        approved_on=project.approved_on,
        completion_date=project.completion_date,
        calendar=calendar,
        policy=policy,
    )
    if problems:
        raise problems[0].error(given=given)
    assert derived is not None
    return derived


ProjectFacts = tuple[frozenset[str], frozenset[str]]


def project_facts(*, session: Session, ids: Collection[str]) -> ProjectFacts:
    """What new-project checks read: which of the ids exist already, and the known locations."""
    exist = session.exec(select(Project.id).where(col(Project.id).in_(sorted(set(ids)))))
    return frozenset(exist), known_locations(session=session)


def _check_references(
    session: Session, *, location: str, package_id: str | None, locations: frozenset[str]
) -> None:
    known_packages = [package_id] if package_id and session.get(Package, package_id) else []
    for problem in (
        check_location(location, locations),
        check_package(package_id, known_packages),
    ):
        if problem is not None:
            raise problem.error()


def create_project(
    *,
    session: Session,
    project: ProjectCreate,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    now: datetime,
    user: str,
    manager: str | None = None,
) -> Project:
    """Create an active project; its deadline and need-by are derived from type and dates."""
    created = new_project(
        session=session, project=project, calendar=calendar, policy=policy, now=now, user=user,
        manager=manager,
    )  # fmt: skip
    record(
        session, actor=user, action="project.create", object_type="project",
        object_id=created.id, after=_audited(created), at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(created)
    return created


def check_new_project(
    *,
    session: Session,
    project: ProjectCreate,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    known: ProjectFacts | None = None,
) -> Derived:
    """Check that `project` can be created (id free, references known, dates derivable).

    `known` is what the checks read, when the caller read it already for several new projects
    at once (`project_facts`)."""
    taken, locations = known or project_facts(session=session, ids=[project.id])
    if project.id in taken:
        raise Conflict(
            f"项目 {project.id} 已存在 / project {project.id} already exists", loc=("id",)
        )
    _check_references(
        session, location=project.location, package_id=project.package_id, locations=locations
    )
    return _derive_or_raise(
        project, voltage_class=project.voltage_class, calendar=calendar, policy=policy
    )


def new_project(
    *,
    session: Session,
    project: ProjectCreate,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    now: datetime,
    user: str,
    manager: str | None = None,
) -> Project:
    """Add a checked new active project to the session (flush only; the use case commits).

    Its unit is the one building at its location; `manager` is the project manager it is
    assigned to (the one who created it, when a project manager does)."""
    derived = check_new_project(session=session, project=project, calendar=calendar, policy=policy)
    created = Project(
        **project.model_dump(exclude={"voltage_class"}),
        unit=units_by_location(session).get(project.location),
        manager=manager,
        voltage_class=derived.voltage_class,
        deadline=derived.deadline,
        need_by=derived.need_by,
        status=ProjectStatus.ACTIVE,
        created_at=now,
        created_by=user[:100],
        updated_at=now,
    )
    session.add(created)
    session.flush()
    return created


def _require_active(project: Project, action_zh: str, action_en: str) -> None:
    if project.status != ProjectStatus.ACTIVE:
        raise Conflict(
            f"项目 {project.id} 状态为 {project.status}，不能{action_zh} / project {project.id} is "
            f"{project.status}; it cannot be {action_en}",
            loc=("project_id",),
        )


def update_project(
    *,
    session: Session,
    project_id: str,
    changes: ProjectUpdate,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    now: datetime,
    user: str,
) -> Project:
    """Change an active project's fields; its deadline and need-by are derived again."""
    project = get_project_or_raise(session=session, project_id=project_id)
    _require_active(project, "修改", "changed")
    before = _audited(project)
    given = changes.model_dump(exclude_unset=True)
    for name in ("name", "customer", "project_type", "location", "approved_on", "priority"):
        if name in given and given[name] is None:
            raise InvalidInput(f"{name} 不能为空 / {name} cannot be null", loc=(name,))
    sent = set(given)  # a rule that also reads a stored field is a conflict with it
    voltage = given.pop("voltage_class", None)
    # Check the project as it would be before changing anything.
    merged = ProjectCreate.model_validate(project.model_dump() | given)
    if voltage is None and project.voltage_class in TYPE_VOLTAGES[merged.project_type]:
        voltage = project.voltage_class  # kept while the (new) type allows it
    _check_references(
        session,
        location=merged.location,
        package_id=merged.package_id,
        locations=known_locations(session=session),
    )
    derived = _derive_or_raise(
        merged, voltage_class=voltage, calendar=calendar, policy=policy, given=sent
    )
    for name, value in given.items():
        setattr(project, name, value)
    if "location" in given:
        project.unit = units_by_location(session).get(project.location)
    project.voltage_class = derived.voltage_class
    project.deadline = derived.deadline
    project.need_by = derived.need_by
    project.updated_at = now
    session.add(project)
    _audit_change(session, project, before, action="project.update", user=user, now=now)
    session.commit()
    session.refresh(project)
    return project


AUDITED = (
    "name", "customer", "project_type", "voltage_class", "location", "approved_on",
    "completion_date", "package_id", "priority", "unit", "manager", "status", "deadline", "need_by",
)  # fmt: skip


def _audited(project: Project) -> dict[str, object]:
    return {name: getattr(project, name) for name in AUDITED}


def _audit_change(
    session: Session,
    project: Project,
    before: dict[str, object],
    *,
    action: str,
    user: str,
    now: datetime,
) -> None:
    """Record the project's changed fields (of those in `before`) as one audit event."""
    after = _audited(project)
    old, new = changed(before, {k: after[k] for k in before})
    record(
        session, actor=user, action=action, object_type="project", object_id=project.id,
        before=old, after=new, at=now,
    )  # fmt: skip


def _lines(session: Session, project_id: str) -> Sequence[DemandLine]:
    return session.exec(
        select(DemandLine)
        .where(DemandLine.project_id == project_id)
        .order_by(col(DemandLine.line_no))
    ).all()


def cancel_project(*, session: Session, project_id: str, now: datetime, user: str) -> Project:
    """Cancel an active project and its open and planned lines; held or issued lines prevent it."""
    project = get_project_or_raise(session=session, project_id=project_id)
    _require_active(project, "取消", "cancelled")
    lines = _lines(session, project_id)
    kept = held_or_issued(session, [line.id or 0 for line in lines])
    blocking = [line for line in lines if line.status in (DemandStatus.HELD, DemandStatus.ISSUED)
                or (line.id in kept and line.status != DemandStatus.CANCELLED)]  # fmt: skip
    if blocking:
        numbers = ", ".join(f"{line.line_no}({line.status})" for line in blocking)
        raise Conflict(
            f"项目 {project_id} 的需求行 {numbers} 已预留或已出库：请先释放预留或办理退库 / "
            f"lines {numbers} of project {project_id} are held or issued: release the holds "
            "or return the goods first",
            loc=("project_id",),
        )
    for line in lines:
        if line.status in (DemandStatus.OPEN, DemandStatus.PLANNED):
            line.status = DemandStatus.CANCELLED
            session.add(line)
    project.status = ProjectStatus.CANCELLED
    project.updated_at = now
    session.add(project)
    _audit_change(
        session, project, {"status": ProjectStatus.ACTIVE}, action="project.cancel", user=user,
        now=now,
    )  # fmt: skip
    session.commit()
    session.refresh(project)
    return project


def complete_project(*, session: Session, project_id: str, now: datetime, user: str) -> Project:
    """Mark an active project completed; every line must be issued or cancelled first."""
    project = get_project_or_raise(session=session, project_id=project_id)
    _require_active(project, "完工", "completed")
    unfinished = [line for line in _lines(session, project_id) if line.status in UNFINISHED]
    if unfinished:
        numbers = ", ".join(f"{line.line_no}({line.status})" for line in unfinished)
        raise Conflict(
            f"项目 {project_id} 还有未出库的需求行 {numbers}：请出库或取消后再完工 / project "
            f"{project_id} still has lines {numbers} not issued: issue or cancel them first",
            loc=("project_id",),
        )
    project.status = ProjectStatus.COMPLETED
    project.updated_at = now
    session.add(project)
    _audit_change(
        session, project, {"status": ProjectStatus.ACTIVE}, action="project.complete", user=user,
        now=now,
    )  # fmt: skip
    session.commit()
    session.refresh(project)
    return project


def refresh_derived_dates(
    *, session: Session, calendar: WorkCalendar, policy: DeadlinePolicy
) -> int:
    """Derive every active project's deadline and need-by again; return how many changed.

    A corrected calendar or policy takes effect this way. Flushes only: the caller commits. A
    project whose dates can no longer be derived (its year's calendar missing) is an error
    naming every such project, never a silent guess.
    """
    changed = 0
    failures: list[str] = []
    for project in session.exec(select(Project).where(Project.status == ProjectStatus.ACTIVE)):
        derived, problems = derive_project(
            ProjectType(project.project_type),
            voltage_class=project.voltage_class,
            approved_on=project.approved_on,
            completion_date=project.completion_date,
            calendar=calendar,
            policy=policy,
        )
        if derived is None:
            failures.append(f"{project.id}: {problems[0].message}")
            continue
        if (project.deadline, project.need_by) != (derived.deadline, derived.need_by):
            project.deadline, project.need_by = derived.deadline, derived.need_by
            session.add(project)
            changed += 1
    if failures:
        raise InvalidInput(
            f"{len(failures)} 个项目无法推算期限 / the dates of {len(failures)} project(s) cannot "
            "be derived: " + "; ".join(failures[:20]),
            loc=("calendar",),
        )
    session.flush()
    return changed


def summary_by_type(*, session: Session, cutoff: datetime) -> list[TypeSummary]:
    """Summarise active projects by type (in deadline-table order) around a batch's cutoff."""
    projects = session.exec(select(Project).where(Project.status == ProjectStatus.ACTIVE)).all()
    lines = session.exec(
        select(DemandLine.project_id, DemandLine.submitted_at).where(
            DemandLine.status != DemandStatus.CANCELLED
        )
    ).all()
    kind_of = {p.id: p.project_type for p in projects}
    summaries = []
    for kind in ProjectType:
        group = [p for p in projects if p.project_type == kind]
        if not group:
            continue
        mine = [at for project_id, at in lines if kind_of.get(project_id) == kind]
        summaries.append(
            TypeSummary(
                project_type=kind.value,
                projects=len(group),
                key_projects=sum(p.priority != Priority.NORMAL for p in group),
                lines=len(mine),
                lines_after=sum(at >= cutoff for at in mine),
                earliest_need_by=min(p.need_by for p in group),
                latest_deadline=max(p.deadline for p in group),
            )
        )
    return summaries


EXPORT_LIMIT = 50_000  # projects in one download


def all_projects(*, session: Session, **filters: Any) -> list[ProjectPublic]:
    """Every project `list_projects(**filters)` selects, in its order (at most EXPORT_LIMIT)."""
    return every(
        lambda offset, limit: list_projects(session=session, offset=offset, limit=limit, **filters),
        cap=EXPORT_LIMIT,
    )
