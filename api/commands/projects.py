"""`gridsupply projects …`: the project workbook, lists, one project.

The same service functions as the HTTP API; this module reads arguments, opens a session, calls
and renders. A rejected file prints every problem (Chinese / English) and exits 2. The database,
Excel and calendar code is imported inside the commands, so `gridsupply --help` stays quick.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.commands.render import fail, header, out, titled_table

if TYPE_CHECKING:
    from supply.calendar import WorkCalendar
    from supply.demand.models import DemandLinePublic
    from supply.policy import DeadlinePolicy
    from supply.projects.files import SheetKind
    from supply.projects.importing import ProjectImportReport
    from supply.projects.models import ProjectDetail, TypeSummary

EXIT_REJECTED = 2
SHEETS = "projects | lines | packages"

projects_app = typer.Typer(
    help="业扩项目与需求 / projects and their demand: import, export, list, show, sample.",
    no_args_is_help=True,
)


def _calendar_and_policy() -> tuple[WorkCalendar, DeadlinePolicy]:
    from supply.calendar import CalendarError
    from supply.calendar_store import load_calendar, policy_from_settings

    try:
        return load_calendar(), policy_from_settings()
    except CalendarError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def _sheet(value: str | None) -> SheetKind | None:
    from supply.projects.files import SheetKind

    if value is None:
        return None
    try:
        return SheetKind(value)
    except ValueError:
        fail(f"--sheet must be one of {SHEETS}, got {value!r}")
        raise


def report_table(report: ProjectImportReport) -> Table:
    """A table of what a project workbook import did, sheet by sheet."""
    table = titled_table(
        f"导入 / imported {report.file_name}",
        [
            ("sheet / 工作表", "left"),
            ("rows / 行", "right"),
            ("inserted / 新增", "right"),
            ("updated / 更新", "right"),
            ("unchanged / 未变", "right"),
        ],
    )
    for label, counts in (
        ("项目包 packages", report.packages),
        ("项目 projects", report.projects),
        ("需求明细 lines", report.lines),
    ):
        table.add_row(
            label,
            str(counts.rows),
            str(counts.inserted),
            str(counts.updated),
            str(counts.unchanged),
        )
    return table


@projects_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="project workbook (.xlsx) or one sheet as CSV")],
    sheet: Annotated[
        str | None, typer.Option(help=f"import just this sheet ({SHEETS}); required for CSV")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="who submits (default: login)")] = None,
) -> None:
    """Import projects and their demand lines: every row checked; all written, or none."""
    from api.commands.catalogs import print_rejection
    from api.commands.db import cli_session, cli_user
    from api.commands.environment import cli_clock, cli_settings, read_input
    from supply.core.errors import ImportRejected
    from supply.projects.importing import import_projects

    limit = cli_settings().max_upload_bytes
    content = read_input(file, limit)
    kind = _sheet(sheet)
    calendar, policy = _calendar_and_policy()
    with cli_session() as session:
        try:
            report = import_projects(
                session=session,
                content=content,
                file_name=file.name,
                sheet=kind,
                calendar=calendar,
                policy=policy,
                now=cli_clock().now(),
                user=cli_user(by),
                max_bytes=limit,
            )
        except ImportRejected as rejected:
            print_rejection(rejected)
            raise typer.Exit(EXIT_REJECTED) from None
    out.print(report_table(report))
    for label, names in (("sheets", report.ignored_sheets), ("columns", report.ignored_columns)):
        if names:
            out.print(f"ignored {label} / 未使用: {', '.join(names)}", highlight=False)


@projects_app.command("export")
def export_command(
    file: Annotated[Path, typer.Argument(help="where to write: .xlsx (workbook) or .csv")],
    sheet: Annotated[
        str | None, typer.Option(help=f"one sheet only ({SHEETS}); required for CSV")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="only projects in this status (active, completed, …)")
    ] = None,
) -> None:
    """Export projects and their lines in the format import reads."""
    from api.commands.db import cli_session
    from supply.projects.importing import export_projects

    suffix = file.suffix.lower().lstrip(".")
    if suffix not in ("xlsx", "csv"):
        fail(f"{file}: the file name must end in .xlsx or .csv")
    kind = _sheet(sheet)
    with cli_session() as session:
        content = export_projects(
            session=session,
            fmt="csv" if suffix == "csv" else "xlsx",
            sheet=kind,
            status=status,
        )
    try:
        file.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    out.print(f"wrote {file} ({len(content):,} bytes)", highlight=False)


@projects_app.command("list")
def list_command(
    project_type: Annotated[str | None, typer.Option("--type", help="lv_extension, …")] = None,
    status: Annotated[str | None, typer.Option(help="active, completed or cancelled")] = None,
    location: Annotated[str | None, typer.Option(help="location id, e.g. huancui")] = None,
    package: Annotated[str | None, typer.Option(help="project package id")] = None,
    priority: Annotated[str | None, typer.Option(help="normal, city_key, provincial_key")] = None,
    q: Annotated[str | None, typer.Option("-q", help="text in id, name or customer")] = None,
    limit: Annotated[int, typer.Option(help="how many, earliest need-by first")] = 50,
) -> None:
    """List projects with their derived deadline and need-by, earliest need-by first."""
    from api.commands.db import cli_session
    from supply.policy import PROJECT_TYPE_ZH, ProjectType
    from supply.projects.models import PRIORITY_ZH, PROJECT_STATUS_ZH, Priority, ProjectStatus
    from supply.projects.service import list_projects

    with cli_session() as session:
        page = list_projects(
            session=session,
            q=q,
            project_type=project_type,
            status=status,
            location=location,
            package_id=package,
            priority=priority,
            limit=max(1, min(limit, 1000)),
        )
    table = titled_table(
        f"项目 / projects ({len(page.items)} of {page.total})",
        [
            ("project / 项目", "left"),
            ("type / 类型", "left"),
            ("location / 地点", "left"),
            ("approved / 审批", "left"),
            ("need-by / 需到货", "left"),
            ("deadline / 期限", "left"),
            ("priority / 重点", "left"),
            ("status / 状态", "left"),
        ],
    )
    for p in page.items:
        table.add_row(
            p.id,
            PROJECT_TYPE_ZH.get(ProjectType(p.project_type), p.project_type),
            p.location,
            str(p.approved_on),
            str(p.need_by),
            str(p.deadline),
            "" if p.priority == Priority.NORMAL else PRIORITY_ZH[Priority(p.priority)],
            PROJECT_STATUS_ZH.get(ProjectStatus(p.status), p.status),
        )
    out.print(table)


def detail_tables(detail: ProjectDetail, units: dict[str, tuple[str, str]]) -> list[Table]:
    """Render a project (its fields and dates) and its lines; `units` maps code to name, unit."""
    from supply.core.clock import SHANGHAI
    from supply.demand.models import DEMAND_STATUS_ZH, DemandStatus
    from supply.policy import PROJECT_TYPE_ZH, ProjectType
    from supply.projects.models import PRIORITY_ZH, PROJECT_STATUS_ZH, Priority, ProjectStatus

    head = titled_table(
        f"{detail.id} {detail.name}", [("field / 项", "left"), ("value / 值", "left")]
    )
    kind = ProjectType(detail.project_type)
    for label, value in (
        ("customer / 客户", detail.customer),
        ("type / 工程类型", f"{PROJECT_TYPE_ZH[kind]} ({kind.value}), {detail.voltage_class}"),
        ("location / 地点", detail.location),
        ("package / 项目包", detail.package_id or "—"),
        ("priority / 重点工程", PRIORITY_ZH[Priority(detail.priority)]),
        ("approved / 行政审批", str(detail.approved_on)),
        ("completion / 客户要求完工", str(detail.completion_date or "—")),
        ("deadline / 建设期限", str(detail.deadline)),
        ("need-by / 物资需到货", str(detail.need_by)),
        ("status / 状态", PROJECT_STATUS_ZH[ProjectStatus(detail.status)]),
    ):
        head.add_row(header(label).replace("\n", " "), value)
    lines = titled_table(
        f"需求明细 / demand lines ({len(detail.lines)})",
        [
            ("line / 行", "right"),
            ("material / 物料", "left"),
            ("quantity / 数量", "right"),
            ("need-by / 需到货", "left"),
            ("status / 状态", "left"),
            ("submitted / 提报", "left"),
        ],
    )
    for line in detail.lines:
        name, unit = units.get(line.material_code, ("", ""))
        lines.add_row(
            str(line.line_no),
            f"{line.material_code} {name}"
            + (" [可研列明 listed]" if line.feasibility_listed else ""),
            f"{line.quantity:,} {unit}",
            _need_by(line),
            DEMAND_STATUS_ZH.get(DemandStatus(line.status), line.status),
            line.submitted_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M:%S"),
        )
    return [head, lines]


def _need_by(line: DemandLinePublic) -> str:
    if line.need_by_override is None:
        return str(line.need_by)
    return f"{line.need_by} * {line.override_reason}"


@projects_app.command("show")
def show_command(project_id: Annotated[str, typer.Argument(help="the project's id")]) -> None:
    """Show a project: its type, dates, status, and every demand line with its need-by."""
    from sqlmodel import select

    from api.commands.db import cli_session
    from catalogs.models import Material
    from supply.demand.service import project_detail

    with cli_session() as session:
        detail = project_detail(session=session, project_id=project_id)
        codes = {line.material_code for line in detail.lines}
        units = {
            m.code: (m.name_zh, m.unit)
            for m in session.exec(select(Material)).all()
            if m.code in codes
        }
    for table in detail_tables(detail, units):
        out.print(table)


def week_table(summaries: Sequence[TypeSummary], *, cutoff: datetime) -> Table:
    """A short table of active projects by type around a batch's cutoff."""
    from supply.core.clock import SHANGHAI
    from supply.policy import PROJECT_TYPE_ZH, ProjectType

    shown = cutoff.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    table = titled_table(
        f"项目与需求(截止 {shown}) / projects by type, cutoff {shown}",
        [
            ("type / 工程类型", "left"),
            ("projects / 项目", "right"),
            ("key / 重点", "right"),
            ("lines / 需求行", "right"),
            ("next week / 下周批次", "right"),
            ("need-by / 最早需到货", "left"),
        ],
    )
    table.columns[0].min_width = len("area_capacity_increase")  # one id per line
    for s in summaries:
        table.add_row(
            f"{PROJECT_TYPE_ZH[ProjectType(s.project_type)]}\n{s.project_type}",
            str(s.projects),
            str(s.key_projects or ""),
            str(s.lines),
            str(s.lines_after or ""),
            str(s.earliest_need_by),
        )
    table.add_row(
        "total / 合计",
        str(sum(s.projects for s in summaries)),
        str(sum(s.key_projects for s in summaries)),
        str(sum(s.lines for s in summaries)),
        str(sum(s.lines_after for s in summaries)),
        str(min((s.earliest_need_by for s in summaries), default="")),
        style="bold",
    )
    return table


@projects_app.command("sample")
def sample_command(
    directory: Annotated[Path, typer.Argument(help="folder to write the sample files into")],
    load: Annotated[
        bool,
        typer.Option(
            help="also load the week into the database (needs the sample catalogs), "
            "each line at its own moment"
        ),
    ] = False,
) -> None:
    """Write the seeded sample week (batch 2026-W49) as import files; optionally load it."""
    from supply.sample.week import SAMPLE_CUTOFF, SAMPLE_LOADED_AT, sample_workbook

    calendar, policy = _calendar_and_policy()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in sample_workbook(calendar=calendar).items():
            (directory / name).write_bytes(content)
            out.print(f"wrote {directory / name}", highlight=False)
    except OSError as exc:
        fail(f"cannot write to {directory}: {exc.strerror or exc}")
    if load:
        from api.commands.db import cli_session
        from supply.projects.service import summary_by_type
        from supply.sample.week import load_sample_week

        with cli_session() as session:
            load_sample_week(
                session=session, calendar=calendar, policy=policy, now=SAMPLE_LOADED_AT
            )
            summary = summary_by_type(session=session, cutoff=SAMPLE_CUTOFF)
        out.print(week_table(summary, cutoff=SAMPLE_CUTOFF))


def register(app: typer.Typer) -> None:
    """Add the projects commands to the app (packages: `api.commands.packages`)."""
    app.add_typer(projects_app, name="projects")
