"""`gridsupply plan …`: the weekly Monday-noon run, its approval, and what it decided."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from api.commands.db import cli_session, cli_user
from api.commands.render import fail, joined, out, progress_steps, styled

if TYPE_CHECKING:
    from sqlmodel import Session

    from supply.weekly.run import RunOutcome

plan_app = typer.Typer(
    help="周计划 / the weekly plan: run the Monday-noon batch, approve it, show it.",
    no_args_is_help=True,
)
BatchArg = Annotated[str, typer.Argument(help="批次 / batch id, e.g. 2026-W49")]
By = Annotated[str | None, typer.Option("--by", help="操作人 / who is acting (default: you)")]


def parse_at(text: str | None) -> datetime:
    """The moment a run is for: --at (ISO 8601 with an offset), else now."""
    from api.commands.environment import cli_clock

    if text is None:
        return cli_clock().now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at must be an ISO 8601 time such as 2026-11-30T11:00:00+08:00, got {text!r}", 2)
    if moment.tzinfo is None:
        fail(f"--at {text!r} has no time zone: add +08:00 (Asia/Shanghai) or Z", 2)
    return moment


def kpi_tables(kpis: dict[str, Any]) -> list[Table]:
    """Rich tables of a run's KPIs: outcomes by project type (lines and value, never mixed
    units), spend by source apart from the below-quota penalty, and the baseline."""
    from supply.labels import kind_label, project_type_label

    by_type = Table(title="按工程类型 / lines by project type", title_justify="left")
    for column in (
        "type 类型",
        "lines 行",
        "on time 按时",
        "late 延迟",
        "unmet 未满足",
        "on time by value 按金额按时率",
    ):
        by_type.add_column(column, justify="left" if column.startswith("type") else "right")
    rows = {project_type_label(k): v for k, v in kpis["by_project_type"].items()}
    for name, row in {**rows, "total 合计": kpis["totals"]}.items():
        share = row["on_time_value"] / row["value"] if row["value"] else 1.0
        by_type.add_row(
            name,
            f"{row['lines']:,}",
            f"{row['on_time_lines']:,}",
            f"{row['late_lines']:,}",
            f"{row['unmet_lines']:,}",
            f"{share:.0%}",
        )
    sources = Table(title="按来源支出 / spend by source", title_justify="left")
    for column in ("source 来源", "lines 行", "spend 支出(元)"):
        sources.add_column(column, justify="left" if column.startswith("source") else "right")
    for kind, row in kpis["by_source"].items():
        sources.add_row(f"{kind_label(kind)} {kind}", f"{row['lines']:,}", f"{row['spend']:,.2f}")
    sources.add_row("total 合计", "", f"{kpis['spend']:,.2f}")
    compare = Table(title="与人工规则对比 / against the hand planner's rule", title_justify="left")
    for column in ("measure 指标", "optimal 优化", "hand rule 人工规则"):
        compare.add_column(column, justify="left" if column.startswith("measure") else "right")
    mine, theirs = kpis["objective"], kpis["baseline"]["objective"]
    base = kpis["baseline"]
    totals = kpis["totals"]
    below = kpis["reserve_below_quota"]
    for label, ours, hand in (
        ("lines on time 按时行", f"{totals['on_time_lines']:,}", f"{base['on_time_lines']:,}"),
        (
            "value on time 按时金额(元)",
            f"{totals['on_time_value']:,.2f}",
            f"{base['on_time_value']:,.2f}",
        ),
        (
            "unmet, weighted 加权缺口",
            f"{mine['unmet_weighted']:,.0f}",
            f"{theirs['unmet_weighted']:,.0f}",
        ),
        (
            "late unit-days, weighted 加权延迟(数量×天)",
            f"{mine['lateness_weighted']:,.0f}",
            f"{theirs['lateness_weighted']:,.0f}",
        ),
        ("spend 支出(元)", f"{kpis['spend']:,.2f}", f"{base['spend']:,.2f}"),
        (
            "below-quota penalty, not paid 低于定额罚金(不实际支付)",
            f"{below['penalty']:,.2f}",
            f"{base['penalty']:,.2f}",
        ),
        ("reserve drawn below quota 储备低于定额(仓位)", str(below["positions_drawn_below"]), "—"),
    ):
        compare.add_row(label, ours, hand)
    tables = [by_type, sources, compare]
    replenishment = kpis.get("replenishment")
    if replenishment:
        refill = Table(title="补库 / replenishment (agreement stock only)", title_justify="left")
        for column in ("lines 行", "planned 已安排", "unmet 无协议可补", "value 金额(元)"):
            refill.add_column(column, justify="right")
        totals = replenishment["totals"]
        refill.add_row(
            f"{totals['lines']:,}",
            f"{totals['on_time_lines'] + totals['late_lines']:,}",
            f"{totals['unmet_lines']:,}",
            f"{totals['value']:,.2f}",
        )
        tables.append(refill)
    if kpis.get("by_package"):
        tables.append(package_table(kpis["by_package"]))
    return tables


def package_table(by_package: dict[str, Any]) -> Table:
    """The run per project package: lines on time, late and unmet, and the cost it plans."""
    from supply.weekly.kpis import NO_PACKAGE

    table = Table(title="按项目包 / by project package", title_justify="left")
    for column in ("package 项目包", "lines 行", "on time 按时", "late 延迟", "unmet 未满足"):
        table.add_column(column, justify="left" if column.startswith("package") else "right")
    table.add_column("planned cost 本次金额(元)", justify="right")
    for package, row in by_package.items():
        table.add_row(
            "无项目包 (none)" if package == NO_PACKAGE else package,
            str(row["lines"]),
            str(row["on_time_lines"]),
            str(row["late_lines"]),
            str(row["unmet_lines"]),
            f"{row['cost']:,.2f}",
        )
    return table


@plan_app.command("run")
def run_command(
    at: Annotated[
        str | None,
        typer.Option(
            help="计划时刻 / the moment (ISO 8601 with offset); its batch is planned. Default: now"
        ),
    ] = None,
    rerun: Annotated[
        bool,
        typer.Option(
            "--rerun", help="重新运行并取代本批次的草稿 / supersede the batch's draft run"
        ),
    ] = False,
    by: By = None,
) -> None:
    """Plan the batch a moment falls in: solve, check, save, write the exports; print run_dir."""
    moment = parse_at(at)
    with cli_session() as session:
        outcome = run_with_progress(session, at=moment, user=cli_user(by), rerun=rerun)
    print_outcome(outcome, tz=moment.tzinfo)


def run_with_progress(session: Session, *, at: datetime, user: str, rerun: bool) -> RunOutcome:
    """Run the weekly plan for `at`'s batch, showing each step with a spinner and its time."""

    from api.commands.environment import cli_clock, cli_settings
    from supply.calendar_store import load_calendar, policy_from_settings
    from supply.weekly.run import run_weekly

    settings = cli_settings()
    with progress_steps() as step:
        outcome = run_weekly(
            engine=session.get_bind(),  # type: ignore[arg-type]
            at=at,
            now=cli_clock().now(),
            user=user,
            calendar=load_calendar(),
            policy=policy_from_settings(settings),
            settings=settings,
            rerun=rerun,
            progress=step,
        )
    return outcome


def print_outcome(outcome: RunOutcome, *, tz: tzinfo | None) -> None:
    """Print a run's headline, its KPI tables, its exports and its folder."""
    run = outcome.run
    out.print(
        joined(
            "批次 batch ",
            styled(run.batch_id, "bold"),
            f" · 截止 cutoff {run.cutoff.astimezone(tz):%Y-%m-%d %H:%M} · 省公司匹配 province "
            f"match {run.province_match_on} · 求解 {run.solve_status} · 第 {run.id} 次运行 run "
            f"#{run.id}",
        ),
        highlight=False,
    )
    for table in kpi_tables(run.kpis):
        out.print(table)
    for name, path in outcome.exports.items():
        out.print(f"export {name}: {path.name}", highlight=False)
    out.print(f"run_dir: {outcome.run_dir}", highlight=False, soft_wrap=True)


@plan_app.command("approve")
def approve_command(batch: BatchArg, by: By = None) -> None:
    """Approve and freeze the batch's run: its reserve and consignment are held for its lines."""
    from api.commands.environment import cli_clock, cli_settings
    from supply.calendar_store import load_calendar, policy_from_settings
    from supply.weekly.approval import approve_run

    settings = cli_settings()
    with cli_session() as session:
        run = approve_run(
            session=session,
            batch_id=batch,
            user=cli_user(by),
            now=cli_clock().now(),
            calendar=load_calendar(),
            policy=policy_from_settings(settings),
            settings=settings,
        )
    out.print(
        f"批次 {run.batch_id} 已批准 / batch {run.batch_id} approved by {run.approved_by} (run #{run.id})"
    )
    if run.budget_warnings:
        from api.commands.packages import filings_table, print_budget_warnings

        print_budget_warnings(run.budget_warnings)
        out.print(filings_table(run.filings, title="需备案 / filings due (先实施、后备案)"))


@plan_app.command("list")
def list_command(
    batch: Annotated[str | None, typer.Option(help="只看此批次 / one batch")] = None,
) -> None:
    """List the runs, newest first (superseded runs too: history is kept)."""
    from supply.weekly.queries import list_runs

    with cli_session() as session:
        runs = list_runs(session=session, batch_id=batch)
    table = Table(title="计划运行 / plan runs", title_justify="left")
    for column in (
        "#",
        "batch 批次",
        "status 状态",
        "run at 运行时间",
        "by 操作人",
        "lines 行",
        "late 延迟",
        "unmet 未满足",
    ):
        table.add_column(column)
    for run in runs:
        totals = run.kpis.get("totals", {})
        table.add_row(
            str(run.id),
            run.batch_id,
            run.status,
            f"{run.run_at:%Y-%m-%d %H:%M}Z",
            run.run_by,
            str(run.demand_lines),
            str(totals.get("late_lines", "")),
            str(totals.get("unmet_lines", "")),
        )
    out.print(table)


@plan_app.command("show")
def show_command(batch: BatchArg) -> None:
    """Show the batch's live run: status, KPIs, the folder with its files."""
    from supply.weekly.queries import get_run_or_raise

    with cli_session() as session:
        run = get_run_or_raise(session=session, batch_id=batch)
    out.print(f"批次 {run.batch_id}: {run.status}, run #{run.id} by {run.run_by}", highlight=False)
    for table in kpi_tables(run.kpis):
        out.print(table)
    out.print(f"run_dir: {run.run_dir}", highlight=False, soft_wrap=True)


@plan_app.command("import-match")
def import_match_command(
    batch: BatchArg,
    file: Annotated[
        Path, typer.Argument(help="省公司匹配结果 / the province's matching result (.xlsx/.csv)")
    ],
    by: By = None,
) -> None:
    """Import the province's matching result: ordered quantities and expected arrivals update."""
    from api.commands.catalogs import print_rejection
    from api.commands.environment import cli_clock, cli_settings, read_input
    from supply.core.errors import ImportRejected
    from supply.weekly.province import import_province_match

    limit = cli_settings().max_upload_bytes
    content = read_input(file, limit)
    with cli_session() as session:
        try:
            result = import_province_match(
                session=session,
                batch_id=batch,
                content=content,
                file_name=file.name,
                user=cli_user(by),
                now=cli_clock().now(),
                max_bytes=limit,
                settings=cli_settings(),
            )
        except ImportRejected as rejected:
            print_rejection(rejected)
            raise typer.Exit(2) from None
    out.print(
        f"批次 {batch}: 导入 {result.rows} 行匹配结果，{result.agreement_lines} 条协议行已更新 / "
        f"{result.rows} matched rows imported, {result.agreement_lines} agreement lines updated, "
        f"{result.plan_lines} plan lines re-dated",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the plan commands to the app."""
    app.add_typer(plan_app, name="plan")
