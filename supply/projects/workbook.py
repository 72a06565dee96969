"""Validating a project workbook: every sheet, every row, every problem at once.

`parse_workbook(sheets, context, calendar=…, policy=…)` reads the packages, projects and demand
lines sheets with `supply.core.sheets.table.parse_table`, derives each project's deadline and
need-by, and checks every reference against the file itself and `context` (what the database holds).
It returns the rows ready to upsert, or every problem found, each naming its sheet, row and
column. Pure: the caller loads the context and writes the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from catalogs.parse import MaterialRef, ParseContext, check_material, to_base_quantity
from supply.calendar import WorkCalendar
from supply.core.errors import RowProblem
from supply.core.money import has_exact_places
from supply.core.sheets.cells import CellError, check_amount
from supply.core.sheets.read import Sheet
from supply.core.sheets.table import ParsedRow, ParseResult, parse_table
from supply.demand.models import DemandStatus
from supply.policy import DeadlinePolicy, ProjectType
from supply.projects.files import LINES, ORDER, PACKAGES, PROJECTS, SPECS, SheetKind, SheetSpec
from supply.projects.models import Priority, ProjectStatus
from supply.projects.rules import (
    FieldProblem,
    check_line,
    check_location,
    check_package,
    derive_project,
)

# What a file may set on a project and on a line; what is compared to tell a row unchanged.
PROJECT_FIELDS = (
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
LINE_FIELDS = (
    "material_code",
    "quantity",
    "need_by_override",
    "override_reason",
    "feasibility_listed",
)


@dataclass(frozen=True, slots=True)
class StoredProject:
    """What the database holds for a project: its status, dates, and the fields a file sets."""

    status: str
    approved_on: date
    deadline: date
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredLine:
    """What the database holds for a demand line: its status and the fields a file sets."""

    status: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WorkbookContext:
    """The reference data a workbook is checked against."""

    materials: Mapping[str, MaterialRef] = field(default_factory=dict)
    catalogued: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()
    projects: Mapping[str, StoredProject] = field(default_factory=dict)
    lines: Mapping[tuple[str, int], StoredLine] = field(default_factory=dict)


@dataclass(slots=True)
class WorkbookResult:
    """The valid rows of each sheet, or every problem; and the columns not used."""

    rows: dict[SheetKind, list[ParsedRow]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    total_problems: int = 0


def _add(result: ParseResult, number: int, spec: SheetSpec, problem: FieldProblem) -> None:
    result.add(number, spec.column(problem.field), problem.zh, problem.en)


class _Checks:
    """The per-row checks of each sheet, sharing what earlier sheets of the file declared."""

    def __init__(
        self, context: WorkbookContext, calendar: WorkCalendar, policy: DeadlinePolicy
    ) -> None:
        self.context = context
        self.calendar = calendar
        self.policy = policy
        self.file_packages: set[str] = set()
        self.file_projects: set[str] = set()
        # Approval date and deadline of each valid project row, for need-by overrides.
        self.project_dates: dict[str, tuple[date, date]] = {}
        self.materials = ParseContext(materials=context.materials)

    def package(self, number: int, values: dict[str, Any], result: ParseResult) -> None:
        if "id" in values:
            self.file_packages.add(values["id"])
        values.setdefault("kind", "")
        if "year" in values and not 2000 <= values["year"] <= 2100:
            result.add(
                number,
                PACKAGES.column("year"),
                f"年度 {values['year']} 不合理",
                f"year {values['year']} is not plausible",
            )
        budget: Decimal | None = values.get("budget")
        if budget is not None and not has_exact_places(budget):
            result.add(
                number,
                PACKAGES.column("budget"),
                f"预算 {budget} 超过 6 位小数",
                f"budget {budget} has more than 6 decimal places",
            )
        elif budget is not None:
            try:
                check_amount(budget)
            except CellError as problem:
                result.add(number, PACKAGES.column("budget"), problem.zh, problem.en)

    def project(self, number: int, values: dict[str, Any], result: ParseResult) -> None:
        project_id = values.get("id")
        if project_id is not None:
            self.file_projects.add(project_id)
        values.setdefault("customer", "")
        values.setdefault("completion_date", None)
        values.setdefault("package_id", None)
        values.setdefault("priority", Priority.NORMAL.value)
        problems: list[FieldProblem] = []
        if "location" in values:
            problems += filter(None, [check_location(values["location"], self.context.locations)])
        known = self.context.packages | self.file_packages
        problems += filter(None, [check_package(values["package_id"], known)])
        if "project_type" in values and "approved_on" in values:
            derived, found = derive_project(
                ProjectType(values["project_type"]),
                voltage_class=values.get("voltage_class"),
                approved_on=values["approved_on"],
                completion_date=values["completion_date"],
                calendar=self.calendar,
                policy=self.policy,
            )
            problems += found
            if derived is not None:
                values["voltage_class"] = derived.voltage_class
                values["deadline"], values["need_by"] = derived.deadline, derived.need_by
                if project_id is not None:
                    self.project_dates[project_id] = (values["approved_on"], derived.deadline)
        stored = self.context.projects.get(project_id or "")
        if (
            stored is not None
            and stored.status != ProjectStatus.ACTIVE
            and not problems
            and any(stored.values.get(k) != values.get(k) for k in PROJECT_FIELDS)
        ):
            result.add(
                number,
                None,
                f"项目 {project_id} 状态为 {stored.status}，不能修改",
                f"project {project_id} is {stored.status}; it cannot be changed",
            )
        for problem in problems:
            _add(result, number, PROJECTS, problem)

    def line(self, number: int, values: dict[str, Any], result: ParseResult) -> None:
        values.setdefault("need_by_override", None)
        values.setdefault("override_reason", "")
        values.setdefault("feasibility_listed", False)
        project_id = values.get("project_id")
        stored_project = self.context.projects.get(project_id or "")
        if project_id is not None and project_id not in self.file_projects | set(
            self.context.projects
        ):
            result.add(
                number,
                LINES.column("project_id"),
                f"项目 {project_id} 不存在，请在项目表中列出或先导入该项目",
                f"project {project_id} is neither on the projects sheet nor in the database",
            )
        if values.get("line_no", 1) < 1:
            result.add(
                number, LINES.column("line_no"), "行号应从 1 开始", "line numbers start at 1"
            )
        found = check_material(number, values, self.materials, result, LINES)
        values.pop("unit", None)
        if found is not None:
            to_base_quantity(number, values, "quantity", found[1], result, LINES)
            if values.get("quantity") == 0:
                result.add(
                    number, LINES.column("quantity"), "需求数量必须大于 0", "must be more than 0"
                )
        dates = self.project_dates.get(project_id or "")
        if dates is None and stored_project is not None and project_id not in self.file_projects:
            dates = (stored_project.approved_on, stored_project.deadline)
        # A stored line keeping its material is not checked against today's catalogs again: it
        # was checked when submitted, and agreement lines used up since must not refuse it.
        stored_line = self.context.lines.get((project_id or "", values.get("line_no", 0)))
        code = values.get("material_code")
        catalogued = self.context.catalogued
        kept = stored_line is not None and stored_line.values.get("material_code") == code
        if kept and code is not None and code not in catalogued:  # its catalog entry is gone
            catalogued = catalogued | {code}
        for problem in check_line(
            material_code=code if found is not None else None,
            materials=self.context.materials,
            catalogued=catalogued,
            feasibility_listed=values["feasibility_listed"],
            need_by_override=values["need_by_override"],
            override_reason=values["override_reason"],
            approved_on=dates[0] if dates else None,
            deadline=dates[1] if dates else None,
        ):
            _add(result, number, LINES, problem)
        self._line_state(number, values, stored_project, result)

    def _line_state(
        self,
        number: int,
        values: dict[str, Any],
        stored_project: StoredProject | None,
        result: ParseResult,
    ) -> None:
        key = (values.get("project_id", ""), values.get("line_no", 0))
        stored = self.context.lines.get(key)
        if stored is not None:
            changed = any(stored.values.get(k) != values.get(k) for k in LINE_FIELDS)
            if changed and stored.status != DemandStatus.OPEN:
                result.add(
                    number,
                    None,
                    f"项目 {key[0]} 第 {key[1]} 行状态为 {stored.status}，不能修改；请取消后新增一行",
                    f"line {key[1]} of project {key[0]} is {stored.status}; it cannot change: "
                    "cancel it and add a new line",
                )
        elif stored_project is not None and stored_project.status != ProjectStatus.ACTIVE:
            result.add(
                number,
                None,
                f"项目 {key[0]} 状态为 {stored_project.status}，不能新增需求行",
                f"project {key[0]} is {stored_project.status}; no lines can be added",
            )


def parse_workbook(
    sheets: Mapping[SheetKind, Sheet],
    context: WorkbookContext,
    *,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> WorkbookResult:
    """Validate the sheets of a project workbook; return the rows of each or every problem."""
    checks = _Checks(context, calendar, policy)
    row_check = {
        SheetKind.PACKAGES: checks.package,
        SheetKind.PROJECTS: checks.project,
        SheetKind.LINES: checks.line,
    }
    workbook = WorkbookResult()
    for kind in ORDER:  # packages before projects before lines: later sheets refer to earlier
        if kind not in sheets:
            continue
        spec = SPECS[kind]
        result = parse_table(spec, sheets[kind], row_check[kind], limits=spec.limit)
        workbook.rows[kind] = result.rows
        workbook.total_problems += result.total_problems
        workbook.ignored_columns += [f"{spec.sheet}: {name}" for name in result.ignored_columns]
        workbook.problems += [
            replace(p, sheet_zh=spec.sheet, sheet_en=spec.kind.value) for p in result.problems
        ]
    if workbook.problems:
        workbook.rows = {}
    return workbook
