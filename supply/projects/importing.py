"""Project workbook import and export: the one code path behind the command line and the upload.

An import reads the file (an .xlsx workbook with the sheets 项目包, 项目, 需求明细, or a CSV file
holding one of them), validates every row against the file and the database, then upserts
packages by id, projects by id and lines by (project, line number) in one transaction, or writes
nothing and raises `ImportRejected` listing every problem; either way the attempt is recorded
(`catalogs.records`). New lines are submitted at `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Field, Session, SQLModel, col, select

from catalogs.export import FileFormat, write_table, write_workbook
from catalogs.models import ImportKind, ImportStatus, Material
from catalogs.records import audit_import, new_record, record_rejected
from supply.auth.actor import ProjectScope
from supply.auth.units import units_by_location
from supply.calendar import WorkCalendar
from supply.core.clock import local_today
from supply.core.errors import ImportRejected, InvalidInput, RowProblem
from supply.core.sheets.read import DEFAULT_MAX_BYTES, Sheet, read_workbook, reject
from supply.demand.models import DemandLine, DemandStatus
from supply.demand.service import (
    catalogued_materials,
    material_refs,
    need_by,
    submission_moment,
)
from supply.packages.models import Package
from supply.packages.service import upsert_packages
from supply.policy import DeadlinePolicy
from supply.projects.files import ORDER, SPECS, SheetKind, spec_for_sheet
from supply.projects.models import Project, ProjectStatus
from supply.projects.scope import visible
from supply.projects.service import known_locations
from supply.projects.workbook import (
    LINE_FIELDS,
    PROJECT_FIELDS,
    StoredLine,
    StoredProject,
    WorkbookContext,
    parse_workbook,
)

SHEET_NAMES = "项目包 packages、项目 projects、需求明细 lines"


class SheetCounts(SQLModel):
    """What an import did to one sheet's rows."""

    rows: int = Field(default=0, description="数据行数 / data rows read")
    inserted: int = Field(default=0, description="新增 / inserted")
    updated: int = Field(default=0, description="更新 / updated")
    unchanged: int = Field(default=0, description="未变 / already as in the file")


class ProjectImportReport(SQLModel):
    """What an accepted project workbook import did, sheet by sheet."""

    import_id: int = Field(
        description="导入记录编号 / the import's record (GET /imports/records/{id})"
    )
    file_name: str
    imported_by: str
    imported_at: datetime
    packages: SheetCounts = Field(description="项目包 / packages")
    projects: SheetCounts = Field(description="项目 / projects")
    lines: SheetCounts = Field(description="需求明细 / demand lines")
    ignored_sheets: list[str] = Field(default=[], description="未识别的工作表 / sheets not used")
    ignored_columns: list[str] = Field(default=[], description="未识别的列 / columns not used")


def _context(session: Session, *, now: datetime) -> WorkbookContext:
    projects = {
        p.id: StoredProject(
            status=p.status,
            approved_on=p.approved_on,
            deadline=p.deadline,
            values={k: getattr(p, k) for k in PROJECT_FIELDS},
        )
        for p in session.exec(select(Project))
    }
    lines = {
        (line.project_id, line.line_no): StoredLine(
            status=line.status, values={k: getattr(line, k) for k in LINE_FIELDS}
        )
        for line in session.exec(select(DemandLine))
    }
    return WorkbookContext(
        materials=material_refs(session=session),
        catalogued=catalogued_materials(session=session, today=local_today(now)),
        locations=known_locations(session=session),
        packages=frozenset(session.exec(select(Package.id))),
        projects=projects,
        lines=lines,
    )


def _pick_sheets(
    content: bytes, file_name: str, sheet: SheetKind | None, max_bytes: int
) -> tuple[dict[SheetKind, Sheet], list[str]]:
    """Choose the sheets to import and name the ones left out."""
    found = read_workbook(content, file_name, max_bytes=max_bytes)
    if len(found) == 1 and not found[0].name:  # a CSV file: one table, no name
        if sheet is None:
            raise InvalidInput(
                "CSV 文件只含一张表，请指明是哪一张：projects（项目）、lines（需求明细）或 "
                "packages（项目包） / a CSV file holds one table: say which (sheet = projects, "
                "lines or packages)",
                loc=("sheet",),
            )
        return {sheet: found[0]}, []
    chosen: dict[SheetKind, Sheet] = {}
    ignored: list[str] = []
    for table in found:
        spec = spec_for_sheet(table.name)
        if spec is None or spec.kind in chosen or (sheet is not None and spec.kind != sheet):
            ignored.append(table.name)
        else:
            chosen[spec.kind] = table
    if sheet is not None and not chosen:
        chosen[sheet] = found[0]  # the one table asked for, whatever its sheet is called
        ignored.remove(found[0].name)
    if not chosen:
        raise reject(
            f"工作簿中没有可导入的工作表，工作表应命名为 {SHEET_NAMES}",
            f"the workbook has no sheet to import: name them 项目包 (packages), 项目 (projects), "
            f"需求明细 (lines); found {', '.join(t.name for t in found)}",
        )
    return chosen, ignored


def import_projects(
    *,
    session: Session,
    content: bytes,
    file_name: str,
    sheet: SheetKind | None = None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    now: datetime,
    user: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProjectImportReport:
    """Validate a project workbook (at most `max_bytes`) and upsert it in one transaction, or
    reject every problem.

    Either way the attempt is recorded (`import_record`, kind `projects`): accepted with what
    each sheet changed, or rejected with its problems and nothing else written.
    """
    record = new_record(kind=ImportKind.PROJECTS, file_name=file_name, imported_by=user, now=now)
    user, file_name = record.imported_by, record.file_name
    count = 0
    try:
        sheets, ignored_sheets = _pick_sheets(content, file_name, sheet, max_bytes)
        result = parse_workbook(
            sheets, _context(session, now=now), calendar=calendar, policy=policy
        )
        rows = {kind: len(table.rows) - 1 for kind, table in sheets.items()}
        record.rows = sum(rows.values())
        if not result.problems and not any(rows.values()):
            raise reject("文件只有表头，没有数据行", "the file has a header but no data rows")
        if result.problems:
            count = result.total_problems
            problems = list(result.problems)
            hidden = result.total_problems - len(problems)
            if hidden:
                problems.append(
                    RowProblem(
                        None, "", "", f"另有 {hidden} 个问题未列出", f"{hidden} more not listed"
                    )
                )
            raise ImportRejected(
                f"{file_name}: {result.total_problems} 个问题，未导入任何数据 / "
                f"{result.total_problems} problem(s); nothing was imported",
                problems,
            )
    except ImportRejected as rejected:
        record_rejected(session, record, rejected.problems, count=count or len(rejected.problems))
        raise
    counts = {kind: SheetCounts(rows=rows.get(kind, 0)) for kind in ORDER}
    values = {kind: [row.values for row in result.rows.get(kind, [])] for kind in ORDER}
    package_counts = upsert_packages(session=session, rows=values[SheetKind.PACKAGES], now=now)
    counts[SheetKind.PACKAGES].inserted, counts[SheetKind.PACKAGES].updated = package_counts[:2]
    counts[SheetKind.PACKAGES].unchanged = package_counts[2]
    _upsert_projects(session, values[SheetKind.PROJECTS], counts[SheetKind.PROJECTS], now, user)
    _upsert_lines(session, values[SheetKind.LINES], counts[SheetKind.LINES], now, user)
    record.status = ImportStatus.ACCEPTED
    record.inserted = sum(c.inserted for c in counts.values())
    record.updated = sum(c.updated for c in counts.values())
    record.unchanged = sum(c.unchanged for c in counts.values())
    record.note = "; ".join(
        f"{SPECS[kind].sheet} {kind.value} +{c.inserted} ~{c.updated} ={c.unchanged}"
        for kind, c in counts.items()
        if c.rows
    )[:500]
    audit_import(session, record)
    session.commit()
    assert record.id is not None  # assigned by audit_import's flush
    return ProjectImportReport(
        import_id=record.id,
        file_name=file_name,
        imported_by=user,
        imported_at=now,
        packages=counts[SheetKind.PACKAGES],
        projects=counts[SheetKind.PROJECTS],
        lines=counts[SheetKind.LINES],
        ignored_sheets=ignored_sheets,
        ignored_columns=result.ignored_columns,
    )


def _upsert_projects(
    session: Session, rows: list[dict[str, Any]], counts: SheetCounts, now: datetime, user: str
) -> None:
    fields = (*PROJECT_FIELDS, "deadline", "need_by")
    units = units_by_location(session)
    for values in rows:
        values = {**values, "unit": units.get(values["location"])}
        project = session.get(Project, values["id"])
        if project is None:
            session.add(
                Project(
                    id=values["id"],
                    **{k: values[k] for k in (*fields, "unit")},
                    status=ProjectStatus.ACTIVE,
                    created_at=now,
                    created_by=user,
                    updated_at=now,
                )
            )
            counts.inserted += 1
            continue
        changed = {k: values[k] for k in fields if getattr(project, k) != values[k]}
        if "location" in changed:
            changed["unit"] = values["unit"]
        if not changed:
            counts.unchanged += 1
            continue
        for name, value in changed.items():
            setattr(project, name, value)
        project.updated_at = now
        session.add(project)
        counts.updated += 1
    session.flush()


def _upsert_lines(
    session: Session, rows: list[dict[str, Any]], counts: SheetCounts, now: datetime, user: str
) -> None:
    existing = {
        (line.project_id, line.line_no): line
        for line in session.exec(
            select(DemandLine).where(
                col(DemandLine.project_id).in_({values["project_id"] for values in rows})
            )
        )
    }
    for values in rows:
        line = existing.get((values["project_id"], values["line_no"]))
        if line is None:
            session.add(
                DemandLine(
                    project_id=values["project_id"],
                    line_no=values["line_no"],
                    **{k: values[k] for k in LINE_FIELDS},
                    status=DemandStatus.OPEN,
                    submitted_at=submission_moment(now),
                    submitted_by=user,
                )
            )
            counts.inserted += 1
            continue
        changed = {k: values[k] for k in LINE_FIELDS if getattr(line, k) != values[k]}
        if not changed:
            counts.unchanged += 1
            continue
        for name, value in changed.items():
            setattr(line, name, value)
        session.add(line)
        counts.updated += 1
    session.flush()


# ---------------------------------------------------------------- export


def workbook_rows(
    *, session: Session, status: str | None = None, scope: ProjectScope | None = None
) -> dict[SheetKind, list[dict[str, Any]]]:
    """Return the rows of each sheet as the file holds them (derived dates and names beside):
    the projects `scope` reaches (all for None), their lines and their packages."""
    materials = {m.code: m for m in session.exec(select(Material))}
    statement = visible(select(Project).order_by(col(Project.id)), Project.id, scope)
    if status:
        statement = statement.where(Project.status == status)
    projects = {p.id: p for p in session.exec(statement)}
    lines: list[dict[str, Any]] = []
    for line in session.exec(
        select(DemandLine)
        .where(col(DemandLine.project_id).in_(list(projects)))
        .order_by(col(DemandLine.project_id), col(DemandLine.line_no))
    ):
        material = materials[line.material_code]
        lines.append(
            line.model_dump()
            | {
                "material_name": material.name_zh,
                "unit": material.unit,
                "need_by": need_by(line, projects[line.project_id]),
            }
        )
    used = {p.package_id for p in projects.values()}
    packages = [
        p.model_dump()
        for p in session.exec(select(Package).order_by(col(Package.id)))
        if (status is None and scope is None) or p.id in used
    ]
    return {
        SheetKind.PACKAGES: packages,
        SheetKind.PROJECTS: [p.model_dump() for p in projects.values()],
        SheetKind.LINES: lines,
    }


def export_projects(
    *,
    session: Session,
    fmt: FileFormat = "xlsx",
    sheet: SheetKind | None = None,
    status: str | None = None,
    scope: ProjectScope | None = None,
) -> bytes:
    """Write the project workbook (or one sheet of it; a CSV file is one sheet) as import reads:
    the projects `scope` reaches."""
    rows = workbook_rows(session=session, status=status, scope=scope)
    kinds: Sequence[SheetKind] = ORDER if sheet is None else (sheet,)
    if fmt == "csv":
        if sheet is None:
            raise InvalidInput(
                "CSV 文件只含一张表，请指明导出哪一张：projects、lines 或 packages / a CSV file "
                "holds one table: say which sheet to export (projects, lines or packages)",
                loc=("sheet",),
            )
        return write_table(SPECS[sheet], rows[sheet], "csv")
    return write_workbook([(SPECS[kind], rows[kind]) for kind in kinds])
