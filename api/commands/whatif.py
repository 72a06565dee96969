"""`gridsupply whatif BATCH --change FILE`: a what-if on a weekly plan (假设分析), saved and shown
beside its base."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.commands.render import fail, joined, out, styled

if TYPE_CHECKING:
    from supply.whatif import ScenarioPublic

EXIT_REJECTED = 2
SHOWN_LINES = 40


def whatif_command(
    batch: Annotated[str, typer.Argument(help="批次 / batch id, e.g. 2026-W49")],
    change: Annotated[
        Path | None,
        typer.Option(
            "--change",
            help="变更文件: JSON, 或含 变更 表的工作簿(可含 项目、需求明细 表) / the change file: "
            "JSON, or a workbook with the sheet 变更 (docs/whatif.md)",
        ),
    ] = None,
    projects: Annotated[
        Path | None,
        typer.Option(
            "--projects", help="新增项目(项目导入格式) / extra projects (projects import format)"
        ),
    ] = None,
    base: Annotated[
        str,
        typer.Option(help="基准: run (批次计划) 或 current (当前状态) / the base: run or current"),
    ] = "run",
    run: Annotated[
        int | None, typer.Option("--run", help="基准运行编号 / a run of the batch (default: live)")
    ] = None,
    name: Annotated[str, typer.Option(help="名称 / a name to find it by")] = "",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="写出结果的目录 / folder for the workbook and the JSON files"
        ),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="操作人 / who (default: you)")] = None,
) -> None:
    """Apply changes to the batch's plan (or the current state), solve, and compare with the base;
    the scenario is saved (its changes, instances and plans) and nothing else changes."""
    from dataclasses import replace

    from api.commands.catalogs import print_rejection
    from api.commands.db import cli_session, cli_user
    from api.commands.environment import cli_clock, cli_settings, read_input
    from supply.calendar_store import load_calendar, policy_from_settings
    from supply.core.errors import ImportRejected
    from supply.whatif import WhatIf, create_scenario, read_changes, read_projects

    if base not in ("run", "current"):
        fail(f"--base must be run or current, got {base!r}", 2)
    if change is None and projects is None:
        fail("give the changes: --change FILE (JSON or a workbook), or --projects FILE", 2)
    settings = cli_settings()
    limit = settings.max_upload_bytes
    what = WhatIf(batch_id=batch, base=base, run_id=run, name=name[:200])
    try:
        if change is not None:
            found = read_changes(read_input(change, limit), change.name, max_bytes=limit)
            what = replace(
                what,
                changes=found.changes,
                problems=found.problems,
                projects=found.projects,
                projects_file=change.name,
            )
        if projects is not None:
            sheets = read_projects(read_input(projects, limit), projects.name, max_bytes=limit)
            what = replace(what, projects=sheets, projects_file=projects.name)
        with cli_session() as session:
            try:  # a rejection lists every problem (exit 2); cli_session ends the others
                scenario = create_scenario(
                    engine=session.get_bind(),  # type: ignore[arg-type]
                    what=what,
                    now=cli_clock().now(),
                    user=cli_user(by),
                    calendar=load_calendar(),
                    policy=policy_from_settings(settings),
                    settings=settings,
                )
            except ImportRejected as rejected:
                print_rejection(rejected)
                raise typer.Exit(EXIT_REJECTED) from None
    except ImportRejected as rejected:
        print_rejection(rejected)
        raise typer.Exit(EXIT_REJECTED) from None
    print_scenario(scenario)
    if output is not None:
        write_output(scenario, output)


def print_scenario(scenario: ScenarioPublic) -> None:
    """The scenario's headline, what each change did, the KPIs side by side, the changed lines."""
    base = (
        f"第 {scenario.base_run_id} 次运行 run #{scenario.base_run_id}"
        if scenario.base_run_id
        else "当前状态 current state"
    )
    out.print(
        joined(
            "假设分析 what-if ",
            styled(f"#{scenario.id}", "bold"),
            f" · 批次 batch {scenario.batch_id} · 基准 base {base} · 求解 {scenario.solve_status}"
            f" · {scenario.lines_changed} 行变化 lines changed",
        ),
        highlight=False,
    )
    for effect in scenario.effects:
        what = "；".join(effect.sources[:3]) + (" …" if len(effect.sources) > 3 else "")
        if effect.added:
            what = f"新增 {effect.added} 行需求 / {effect.added} lines added"
        out.print(f"  {effect.number}. {effect.text}: {what or effect.idle}", highlight=False)
    kpis = Table(title="指标对比 / KPIs, base beside what-if", title_justify="left")
    for column in ("measure 指标", "base 基准", "what-if 假设", "change 变化"):
        kpis.add_column(column, justify="left" if column.startswith("measure") else "right")
    for row in scenario.kpis:
        shown = "{:,.2f}" if row.unit == "money" else "{:,.0f}"
        mark = {"better": " ↑", "worse": " ↓"}.get(row.verdict, "")
        kpis.add_row(
            f"{row.label} {row.label_en}",
            shown.format(row.base),
            shown.format(row.scenario),
            (("+" if row.delta > 0 else "") + shown.format(row.delta) + mark) if row.delta else "—",
        )
    out.print(kpis)
    if not scenario.lines:
        out.print("没有需求行的来源或到货发生变化 / no line's source or arrival changed")
        return
    lines = Table(
        title=f"变化的需求行 / lines that changed ({len(scenario.lines)}); reasons: -o workbook",
        title_justify="left",
    )
    for column in ("line 需求行", "need-by 需到货", "base 基准", "what-if 假设", "changes 变更"):
        lines.add_column(column)
    for line in scenario.lines[:SHOWN_LINES]:
        lines.add_row(
            f"{line.demand} {line.material} ×{line.quantity:,}",
            line.need_by.isoformat(),
            _side(line.base),
            _side(line.scenario),
            ", ".join(map(str, line.changes)) or "—",
        )
    out.print(lines)
    if len(scenario.lines) > SHOWN_LINES:
        out.print(
            f"… {len(scenario.lines) - SHOWN_LINES} more / 另有更多: the workbook (-o) has all",
            highlight=False,
        )


def _side(side: object) -> str:
    from supply.labels import OUTCOME_ZH
    from supply.whatif.models import LineSide

    if not isinstance(side, LineSide):
        return "新增 new"
    parts = ", ".join(p.source_id for p in side.parts)
    late = f" +{side.late_days}d" if side.late_days else ""
    unmet = f" 未满足 {side.unmet:,}" if side.unmet else ""
    arrival = f" {side.arrival.isoformat()}" if side.arrival else ""
    return f"{OUTCOME_ZH.get(side.outcome, side.outcome)}{late}{unmet}{arrival} {parts}".strip()


def write_output(scenario: ScenarioPublic, folder: Path) -> None:
    """Write the scenario's workbook and its JSON files into `folder`."""
    from supply.whatif import scenario_workbook
    from supply.whatif.service import FILES

    try:
        folder.mkdir(parents=True, exist_ok=True)
        workbook = folder / f"假设分析_{scenario.batch_id}_{scenario.id}.xlsx"
        workbook.write_bytes(scenario_workbook(scenario))
        written = [workbook]
        source = _folder_of(scenario)
        for name in FILES:
            if (source / name).is_file():
                written.append(Path(shutil.copy(source / name, folder / name)))
    except OSError as exc:
        fail(f"cannot write {folder}: {exc.strerror or exc}", 2)
    for path in written:
        out.print(f"  {path}", highlight=False, soft_wrap=True)


def _folder_of(scenario: ScenarioPublic) -> Path:
    from sqlmodel import Session

    from supply.core.db import get_engine
    from supply.whatif.service import get_scenario_row

    with Session(get_engine()) as session:
        return Path(get_scenario_row(session=session, scenario_id=scenario.id).folder)


def register(app: typer.Typer) -> None:
    """Add the whatif command to the app."""
    app.command("whatif")(whatif_command)
