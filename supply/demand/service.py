"""Demand line services: add lines to a project, change or cancel them, list them.

A line's need-by is its override (set by hand, with a reason) or else its project's derived
need-by. A material outside every catalog must be marked as listed at the feasibility stage
(R1.4). `submitted_at` is the moment passed in, to the whole second: the weekly run takes the lines
submitted strictly before its cutoff. Each use case commits once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from catalogs.models import Material
from catalogs.parse import MaterialRef
from supply.auth.actor import ProjectScope
from supply.availability import catalogued_materials
from supply.commitments import held_or_issued, refresh_statuses
from supply.core.audit import changed, record
from supply.core.clock import local_today, utc
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, paginate
from supply.demand.models import (
    DemandLine,
    DemandLineCreate,
    DemandLinePublic,
    DemandLineUpdate,
    DemandStatus,
)
from supply.projects.models import Project, ProjectDetail, ProjectStatus
from supply.projects.rules import check_line
from supply.projects.scope import visible
from supply.projects.service import get_project_or_raise

# A line may still be cancelled while nothing is held or issued for it.
CANCELLABLE = (DemandStatus.OPEN, DemandStatus.PLANNED)


def need_by(line: DemandLine, project: Project) -> date:
    """Return the date a line's materials are needed by: its override, else the project's."""
    return line.need_by_override or project.need_by


def line_public(line: DemandLine, project: Project) -> DemandLinePublic:
    """Return a line as the API shows it, with its effective need-by."""
    return DemandLinePublic.model_validate(line, update={"need_by": need_by(line, project)})


def submission_moment(now: datetime) -> datetime:
    """Return the stored submission moment for `now`: UTC, to the whole second (rounded down)."""
    return utc(now).replace(microsecond=0)


def material_refs(
    *, session: Session, codes: Sequence[str] | None = None
) -> dict[str, MaterialRef]:
    """Return what line checks need about materials (all, or those in `codes`)."""
    statement = select(Material)
    if codes is not None:
        statement = statement.where(col(Material.code).in_(set(codes)))
    return {m.code: MaterialRef(unit=m.unit) for m in session.exec(statement)}


def get_line_or_raise(*, session: Session, project_id: str, line_no: int) -> DemandLine:
    """Return line `line_no` of project `project_id`, or raise NotFound."""
    line = session.exec(
        select(DemandLine).where(DemandLine.project_id == project_id, DemandLine.line_no == line_no)
    ).first()
    if line is None:
        raise NotFound(
            f"项目 {project_id} 没有第 {line_no} 行 / project {project_id} has no line {line_no}",
            loc=("line_no",),
        )
    return line


def _require_active(project: Project) -> None:
    if project.status != ProjectStatus.ACTIVE:
        raise Conflict(
            f"项目 {project.id} 状态为 {project.status}，不能增改需求行 / project {project.id} is "
            f"{project.status}; its lines cannot be added or changed",
            loc=("project_id",),
        )


def add_lines(
    *,
    session: Session,
    project_id: str,
    lines: Sequence[DemandLineCreate],
    now: datetime,
    user: str,
) -> list[DemandLine]:
    """Add lines to an active project, submitted at `now` by `user`; all of them or none.

    A line without a number takes the next after the highest so far (the project's, or an
    earlier line of this call).
    """
    project = get_project_or_raise(session=session, project_id=project_id)
    try:
        created = new_lines(session=session, project=project, lines=lines, now=now, user=user)
    except Exception:
        session.rollback()
        raise
    record(
        session, actor=user, action="line.add", object_type="project", object_id=project_id,
        after={"lines": [{"line_no": x.line_no, "material_code": x.material_code,
                          "quantity": x.quantity} for x in created]},
        at=now,
    )  # fmt: skip
    session.commit()
    for added in created:
        session.refresh(added)
    return created


LineFacts = tuple[dict[str, MaterialRef], frozenset[str]]


def line_facts(*, session: Session, today: date, codes: Collection[str]) -> LineFacts:
    """What line checks read about materials: each known one, and which a catalog serves."""
    return (
        material_refs(session=session, codes=list(codes)),
        catalogued_materials(session=session, today=today, among=codes),
    )


def check_lines(
    *,
    session: Session,
    project: Project,
    lines: Sequence[DemandLineCreate],
    today: date,
    taken: set[int] | None = None,
    known: LineFacts | None = None,
) -> list[int]:
    """Check lines for `project` (active, materials known or listed, need-by overrides sound) and
    return the line number each would get; raise on the first problem, naming its line.

    `known` is what the checks read about the lines' materials, when the caller read it already
    for several requests at once (`line_facts`)."""
    _require_active(project)
    if not lines:
        raise InvalidInput("没有需求行 / no lines to add", loc=("lines",))
    if taken is None:
        taken = set(
            session.exec(select(DemandLine.line_no).where(DemandLine.project_id == project.id))
        )
    taken = set(taken)
    materials, catalogued = known or line_facts(
        session=session, today=today, codes=[line.material_code for line in lines]
    )
    next_no = max(taken, default=0) + 1
    numbers = []
    for index, line in enumerate(lines):
        line_no = line.line_no
        if line_no is None:
            while next_no in taken:
                next_no += 1
            line_no = next_no
        elif line_no in taken:
            raise Conflict(
                f"项目 {project.id} 已有第 {line_no} 行，请修改该行或换一个行号 / project "
                f"{project.id} already has line {line_no}: change that line or use another number",
                loc=("lines", index, "line_no"),
            )
        taken.add(line_no)
        next_no = max(next_no, line_no + 1)
        problems = check_line(
            material_code=line.material_code,
            materials=materials,
            catalogued=catalogued,
            feasibility_listed=line.feasibility_listed,
            need_by_override=line.need_by_override,
            override_reason=line.override_reason,
            approved_on=project.approved_on,
            deadline=project.deadline,
        )
        if problems:
            raise problems[0].error(prefix=("lines", index))
        numbers.append(line_no)
    return numbers


def line_values(
    project_id: str,
    line_no: int,
    line: DemandLineCreate,
    *,
    now: datetime,
    user: str,
    status: DemandStatus = DemandStatus.OPEN,
    covered: int = 0,
) -> dict[str, Any]:
    """The columns of a new demand line of a project (`covered` and the `status` it gives when
    the same transaction gives it a source)."""
    return {
        "project_id": project_id,
        "line_no": line_no,
        **line.model_dump(exclude={"line_no"}),
        "status": status,
        "covered": covered,
        "submitted_at": submission_moment(now),
        "submitted_by": user[:100],
    }


def new_lines(
    *,
    session: Session,
    project: Project,
    lines: Sequence[DemandLineCreate],
    now: datetime,
    user: str,
    numbers: Sequence[int] | None = None,
) -> list[DemandLine]:
    """Add lines to the session (flush only; the use case commits), checked here unless the
    caller checked them in this transaction and passes the `numbers` they get."""
    if numbers is None:
        numbers = check_lines(session=session, project=project, lines=lines, today=local_today(now))
    created = [
        DemandLine(**line_values(project.id, line_no, line, now=now, user=user))
        for line_no, line in zip(numbers, lines, strict=True)
    ]
    session.add_all(created)
    session.flush()
    return created


def update_line(
    *,
    session: Session,
    project_id: str,
    line_no: int,
    changes: DemandLineUpdate,
    now: datetime,
    user: str,
) -> DemandLine:
    """Change an open line's material, quantity, need-by override or feasibility flag.

    Clearing the override (null) clears its reason. A line already planned, held or issued
    cannot change: cancel it and add a new one.
    """
    project = get_project_or_raise(session=session, project_id=project_id)
    _require_active(project)
    line = get_line_or_raise(session=session, project_id=project_id, line_no=line_no)
    if line.status != DemandStatus.OPEN:
        raise Conflict(
            f"项目 {project_id} 第 {line_no} 行状态为 {line.status}，不能修改；请取消后新增一行 / "
            f"line {line_no} of project {project_id} is {line.status}; cancel it and add a new "
            "line instead",
            loc=("line_no",),
        )
    given = changes.model_dump(exclude_unset=True)
    for name in ("material_code", "quantity", "feasibility_listed"):
        if name in given and given[name] is None:
            raise InvalidInput(f"{name} 不能为空 / {name} cannot be null", loc=(name,))
    _check_covered_change(line, given)
    if "need_by_override" in given and given["need_by_override"] is None:
        given.setdefault("override_reason", "")
    merged = {
        name: getattr(line, name)
        for name in (
            "material_code",
            "quantity",
            "need_by_override",
            "override_reason",
            "feasibility_listed",
        )
    } | {k: ("" if k == "override_reason" and v is None else v) for k, v in given.items()}
    problems = check_line(
        material_code=merged["material_code"],
        materials=material_refs(session=session, codes=[merged["material_code"]]),
        catalogued=catalogued_materials(session=session, today=local_today(now)),
        feasibility_listed=merged["feasibility_listed"],
        need_by_override=merged["need_by_override"],
        override_reason=merged["override_reason"],
        approved_on=project.approved_on,
        deadline=project.deadline,
    )
    if problems:
        raise problems[0].error(given=given)
    old, new = changed({k: getattr(line, k) for k in merged}, merged)
    for name, value in merged.items():
        setattr(line, name, value)
    session.add(line)
    record(
        session, actor=user, action="line.update", object_type="demand_line",
        object_id=f"{project_id}/{line_no}", before=old, after=new, at=now,
    )  # fmt: skip
    if line.covered:  # a partly covered line may now be covered in full
        session.flush()
        refresh_statuses(session, [line.id or 0])
    session.commit()
    session.refresh(line)
    return line


def _check_covered_change(line: DemandLine, given: dict[str, Any]) -> None:
    """An open line partly covered already (stock held, supply promised or planned) keeps its
    material, and its quantity cannot fall below what covers it."""
    if not line.covered:
        return
    where = f"项目 {line.project_id} 第 {line.line_no} 行 / line {line.line_no} of project {line.project_id}"
    if given.get("material_code", line.material_code) != line.material_code:
        raise Conflict(
            f"{where}: 已有 {line.covered} 落实(预留、承诺或计划)，不能更换物料；请取消后新增一行 / "
            f"{line.covered} of it are held, promised or planned already, so its material "
            "cannot change: cancel it (release its holds first) and add a new line",
            loc=("material_code",),
        )
    if given.get("quantity", line.quantity) < line.covered:
        raise Conflict(
            f"{where}: 已有 {line.covered} 落实，数量不能少于此 / {line.covered} of it are held, "
            f"promised or planned already: its quantity cannot go below {line.covered}",
            loc=("quantity",),
        )


def cancel_line(
    *, session: Session, project_id: str, line_no: int, now: datetime, user: str
) -> DemandLine:
    """Cancel a line that is open or planned; a held or issued line cannot be cancelled."""
    line = get_line_or_raise(session=session, project_id=project_id, line_no=line_no)
    if line.status not in CANCELLABLE:
        hint_zh, hint_en = {
            DemandStatus.CANCELLED: ("已取消", "is already cancelled"),
            DemandStatus.HELD: (
                "已预留库存，请先释放预留",
                "has stock held: release the hold first",
            ),
            DemandStatus.ISSUED: ("已出库", "is already issued"),
        }.get(DemandStatus(line.status), (line.status, f"is {line.status}"))
        raise Conflict(
            f"项目 {project_id} 第 {line_no} 行{hint_zh} / line {line_no} of project "
            f"{project_id} {hint_en}",
            loc=("line_no",),
        )
    kept = held_or_issued(session, [line.id or 0]).get(line.id or 0)
    if kept is not None:  # an open or planned line with part of it held or issued
        raise Conflict(
            f"项目 {project_id} 第 {line_no} 行已有 {kept.held} 预留、{kept.issued} 出库：请先释放预留"
            f"或办理退库 / line {line_no} of project {project_id} has {kept.held} held and "
            f"{kept.issued} issued: release the hold (or return the goods) first",
            loc=("line_no",),
        )
    before = line.status
    line.status = DemandStatus.CANCELLED
    session.add(line)
    record(
        session, actor=user, action="line.cancel", object_type="demand_line",
        object_id=f"{project_id}/{line_no}", before={"status": before},
        after={"status": line.status}, at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(line)
    return line


def list_lines(
    *,
    session: Session,
    project_id: str | None = None,
    status: str | None = None,
    material_code: str | None = None,
    submitted_before: datetime | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    scope: ProjectScope | None = None,
) -> Page[DemandLinePublic]:
    """List the demand lines of the projects `scope` reaches, by project and line number,
    filtered by project, status, material."""
    statement = visible(
        select(DemandLine, Project).join(Project, col(Project.id) == col(DemandLine.project_id)),
        DemandLine.project_id,
        scope,
    )
    if project_id:
        statement = statement.where(DemandLine.project_id == project_id)
    if status:
        statement = statement.where(DemandLine.status == status)
    if material_code:
        statement = statement.where(DemandLine.material_code == material_code)
    if submitted_before is not None:
        statement = statement.where(col(DemandLine.submitted_at) < utc(submitted_before))
    return paginate(
        session,
        statement,
        order_by=[col(DemandLine.project_id), col(DemandLine.line_no)],
        offset=offset,
        limit=limit,
        convert=lambda row: line_public(*row),
    )


def project_lines(*, session: Session, project: Project) -> list[DemandLinePublic]:
    """Return every line of `project`, in line order, with its effective need-by."""
    lines = session.exec(
        select(DemandLine)
        .where(DemandLine.project_id == project.id)
        .order_by(col(DemandLine.line_no))
    ).all()
    return [line_public(line, project) for line in lines]


def project_detail(*, session: Session, project_id: str) -> ProjectDetail:
    """Return a project with all its lines, or raise NotFound."""
    project = get_project_or_raise(session=session, project_id=project_id)
    return ProjectDetail.model_validate(
        project, update={"lines": project_lines(session=session, project=project)}
    )
