"""Extra projects of a what-if, in the projects import format, checked by the import's own rules.

A workbook's sheets 项目 and 需求明细 (and 项目包, for packages the file declares) are read by
`supply.projects.workbook.parse_workbook` exactly as `gridsupply projects import` reads them:
every problem named by sheet, row and column, deadlines and need-by derived by the calendar and
the deadline policy. A JSON `extra_projects` change is written into the same sheets and checked
the same way; its problems are named by change, project and line. The projects must be new (a
what-if adds projects, it does not edit stored ones). Pure: the caller reads the context.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from supply.calendar import WorkCalendar
from supply.core.errors import RowProblem
from supply.core.sheets.cells import CellError, read_code
from supply.core.sheets.read import Sheet
from supply.core.sheets.table import ParseResult, map_headers
from supply.planning import DemandItem, line_key
from supply.policy import DeadlinePolicy
from supply.projects.files import LINES, PACKAGES, PROJECTS, SheetKind
from supply.projects.models import PRIORITY_WEIGHT, Priority
from supply.projects.workbook import WorkbookContext, parse_workbook
from supply.whatif.changes import (
    SHEET_EN,
    SHEET_ZH,
    ExtraProjects,
    LineSpec,
    ProjectSpec,
    rejected,
)

_PROJECT_FIELDS = (
    "id",
    "name",
    "customer",
    "project_type",
    "voltage_class",
    "location",
    "approved_on",
    "completion_date",
    "package_id",
    "priority",
)
_LINE_FIELDS = (
    "project_id",
    "line_no",
    "material_code",
    "quantity",
    "need_by_override",
    "override_reason",
    "feasibility_listed",
)


@dataclass(frozen=True, slots=True)
class Arrivals:
    """Extra projects checked: their demand lines as the planner plans them, and their types
    and names (for the KPIs by project type and the lines shown)."""

    items: list[DemandItem]
    project_types: dict[str, str]
    project_names: dict[str, str]


def specs_from_sheets(
    sheets: Mapping[SheetKind, Sheet],
    context: WorkbookContext,
    *,
    existing: Collection[str],
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> list[ProjectSpec]:
    """Read a projects workbook's sheets as extra projects, or raise every problem by sheet,
    row and column (`existing`: the ids of stored projects, which cannot arrive again)."""
    result = parse_workbook(sheets, context, calendar=calendar, policy=policy)
    problems = list(result.problems)
    if SheetKind.PROJECTS in sheets:
        problems += _stored_rows(sheets[SheetKind.PROJECTS], existing)
        order = {PACKAGES.sheet: 0, PROJECTS.sheet: 1, LINES.sheet: 2}
        problems.sort(key=lambda p: (order.get(p.sheet_zh, 3), p.row or 0))
    projects = result.rows.get(SheetKind.PROJECTS, [])
    if not problems and not projects:
        problems.append(
            RowProblem(
                None,
                "",
                "",
                "没有项目：新增项目须在 项目 表中列出",
                "no projects: extra projects are listed on the sheet 项目 (projects)",
            )
        )
    if problems:
        raise rejected(problems)
    lines: dict[str, list[LineSpec]] = {row.values["id"]: [] for row in projects}
    line_rows = result.rows.get(SheetKind.LINES, [])
    for row in line_rows:
        values = row.values
        lines[values["project_id"]].append(
            LineSpec(
                line_no=values["line_no"],
                material_code=values["material_code"],
                quantity=values["quantity"],
                need_by_override=values["need_by_override"],
                override_reason=values["override_reason"],
                feasibility_listed=values["feasibility_listed"],
            )
        )
    empty = [row for row in projects if not lines[row.values["id"]]]
    if empty:
        raise rejected(
            [
                RowProblem(
                    row.row,
                    "",
                    "",
                    f"项目 {row.values['id']} 没有需求行（需求明细表）",
                    f"project {row.values['id']} has no lines on the sheet 需求明细 (lines)",
                    PROJECTS.sheet,
                    PROJECTS.kind.value,
                )
                for row in empty
            ]
        )
    return [
        ProjectSpec(
            **{k: row.values[k] for k in _PROJECT_FIELDS if row.values.get(k) is not None},
            lines=lines[row.values["id"]],
        )
        for row in projects
    ]


def arrivals(
    change: ExtraProjects,
    number: int,
    context: WorkbookContext,
    *,
    existing: Collection[str],
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> Arrivals:
    """Check a JSON `extra_projects` change (the `number`th) by the projects import's rules and
    derive its demand lines; or raise every problem by change, project, line and field."""
    sheets, where = _as_sheets(change.projects)
    result = parse_workbook(sheets, context, calendar=calendar, policy=policy)
    problems = [
        RowProblem(
            number,
            f"{where[p.sheet_en, p.row][0]}{p.column_zh}" if p.row else p.column_zh,
            f"{where[p.sheet_en, p.row][1]}{p.column_en}" if p.row else p.column_en,
            p.message_zh,
            p.message_en,
            SHEET_ZH,
            SHEET_EN,
        )
        for p in result.problems
    ]
    for j, project in enumerate(change.projects):
        if project.id in existing:
            problems.append(
                replace(
                    _stored(number, project.id),
                    column_zh=f"projects[{j}].id",
                    column_en=f"projects[{j}].id",
                    sheet_zh=SHEET_ZH,
                    sheet_en=SHEET_EN,
                )
            )
    if problems:
        raise rejected(problems)
    derived = {row.values["id"]: row.values for row in result.rows[SheetKind.PROJECTS]}
    items = []
    for project in change.projects:
        values = derived[project.id]
        for position, line in enumerate(project.lines, start=1):
            items.append(
                DemandItem(
                    key=line_key(project.id, line.line_no or position),
                    project_id=project.id,
                    material=line.material_code,
                    quantity=line.quantity,
                    need_by=line.need_by_override or values["need_by"],
                    voltage_class=values["voltage_class"],
                    location=project.location,
                    weight=PRIORITY_WEIGHT[Priority(project.priority)],
                    package=project.package_id,
                    listed=line.feasibility_listed,
                )
            )
    return Arrivals(
        items=items,
        project_types={p.id: str(p.project_type) for p in change.projects},
        project_names={p.id: p.name for p in change.projects},
    )


def _as_sheets(
    projects: Sequence[ProjectSpec],
) -> tuple[dict[SheetKind, Sheet], dict[tuple[str, int], tuple[str, str]]]:
    """The projects as the workbook's sheets (English headers), and for each sheet row where it
    came from (`projects[j].`, `projects[j].lines[k].`), in Chinese and English."""
    where: dict[tuple[str, int], tuple[str, str]] = {}
    project_rows: list[tuple[int, list[object]]] = [(1, list(_PROJECT_FIELDS))]
    line_rows: list[tuple[int, list[object]]] = [(1, list(_LINE_FIELDS))]
    for j, project in enumerate(projects):
        number = len(project_rows) + 1
        where[PROJECTS.kind.value, number] = (f"项目 {j + 1} ", f"projects[{j}].")
        values: dict[str, Any] = project.model_dump(exclude={"lines"})
        values["project_type"] = str(project.project_type)
        project_rows.append((number, [values[k] for k in _PROJECT_FIELDS]))
        for k, line in enumerate(project.lines):
            number = len(line_rows) + 1
            where[LINES.kind.value, number] = (
                f"项目 {j + 1} 第 {k + 1} 行 ",
                f"projects[{j}].lines[{k}].",
            )
            line_values: dict[str, Any] = line.model_dump()
            line_values["project_id"] = project.id
            line_values["line_no"] = line.line_no or k + 1
            line_rows.append((number, [line_values[f] for f in _LINE_FIELDS]))
    sheets = {
        SheetKind.PROJECTS: Sheet(project_rows, PROJECTS.sheet),
        SheetKind.LINES: Sheet(line_rows, LINES.sheet),
    }
    return sheets, where


def _stored_rows(sheet: Sheet, existing: Collection[str]) -> list[RowProblem]:
    """The rows of a 项目 sheet naming a project that is stored already."""
    header_row, header = sheet.rows[0]
    position = map_headers(PROJECTS, header_row, header, ParseResult()).get("id")
    found = []
    for number, cells in sheet.rows[1:]:
        raw = cells[position] if position is not None and position < len(cells) else None
        try:
            project_id = read_code(raw) if raw is not None else None
        except CellError:
            continue  # parse_workbook names it
        if project_id is not None and project_id in existing:
            found.append(_stored(number, project_id))
    return found


def _stored(row: int | None, project_id: str) -> RowProblem:
    return RowProblem(
        row,
        PROJECTS.column("id").zh,
        PROJECTS.column("id").en,
        f"项目 {project_id} 已在系统中；假设分析只增加新项目，请换一个项目编号",
        f"project {project_id} is stored already; a what-if adds new projects only: give it "
        "another id",
        PROJECTS.sheet,
        PROJECTS.kind.value,
    )
