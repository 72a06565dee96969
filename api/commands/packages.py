"""`gridsupply packages …` and `gridsupply filings …`: package budgets (committed, pending,
remaining, forecast, overrun), the draft application for supplementary funds, and the filings
(先实施、后备案) of projects implemented over budget (R7).

The same service functions as the HTTP API; the database code is imported inside the commands so
that `gridsupply --help` stays quick.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.commands.render import fail, header, joined, out, styled, titled_table

if TYPE_CHECKING:
    from supply.packages.models import BudgetWarning, FilingPublic

packages_app = typer.Typer(
    help="项目包 / project packages: budgets, figures, the supplementary funding application.",
    no_args_is_help=True,
)
filings_app = typer.Typer(
    help="备案 / filings of projects implemented over their package's budget (先实施、后备案).",
    invoke_without_command=True,
)

YearOption = Annotated[int | None, typer.Option(help="年度 / budget year")]


def money(amount: Decimal) -> str:
    """An amount in yuan to the fen, with thousands separators."""
    from supply.core.money import fen

    return f"{fen(amount):,}"


def _today(on: str | None) -> date:
    from api.commands.environment import cli_today

    if on is None:
        return cli_today()
    try:
        return date.fromisoformat(on)
    except ValueError:
        fail(f"--on must be a date such as 2026-10-09, got {on!r}", 2)
        raise  # unreachable: fail exits


@packages_app.command("list")
def list_command(year: YearOption = None) -> None:
    """List project packages with their budget, committed, pending, remaining and overrun."""
    from api.commands.db import cli_session
    from supply.packages.budget import package_figures

    with cli_session() as session:
        figures = package_figures(session=session, year=year)
    table = titled_table(
        f"项目包 / project packages ({len(figures)})",
        [
            ("package / 项目包", "left"),
            ("name / 名称", "left"),
            ("year / 年度", "right"),
            ("kind / 类别", "left"),
            ("budget / 预算(元)", "right"),
            ("committed / 已占用", "right"),
            ("pending / 待发生", "right"),
            ("remaining / 剩余", "right"),
            ("forecast / 预计总额", "right"),
            ("overrun / 预计超支", "right"),
        ],
    )
    for f in figures:
        table.add_row(
            f.package_id,
            f.name,
            str(f.year),
            f.kind,
            money(f.budget),
            money(f.committed),
            money(f.pending),
            money(f.remaining),
            money(f.forecast),
            styled(money(f.overrun), "bold red") if f.overrun > 0 else "—",
        )
    out.print(table)


@packages_app.command("show")
def show_command(
    package_id: Annotated[str, typer.Argument(help="项目包编号 / package id")],
) -> None:
    """Show a package's figures and each of its projects' committed and pending cost."""
    from api.commands.db import cli_session
    from supply.packages.budget import package_figures
    from supply.packages.service import get_package_or_raise

    with cli_session() as session:
        get_package_or_raise(session=session, package_id=package_id)
        [f] = package_figures(session=session, package_ids=[package_id])
    head = titled_table(
        f"{f.package_id} {f.name} ({f.year})", [("figure / 项", "left"), ("CNY / 元", "right")]
    )
    for label, amount in (
        ("budget / 预算", f.budget),
        ("committed / 已占用", f.committed),
        ("pending / 待发生", f.pending),
        ("remaining / 剩余预算", f.remaining),
        ("forecast / 预计总额", f.forecast),
        ("overrun / 预计超支", f.overrun),
    ):
        head.add_row(header(label).replace("\n", " "), money(amount))
    projects = titled_table(
        f"项目 / projects ({len(f.projects)})",
        [
            ("project / 项目", "left"),
            ("status / 状态", "left"),
            ("committed / 已占用", "right"),
            ("pending / 待发生", "right"),
            ("forecast / 预计", "right"),
        ],
    )
    for p in f.projects:
        projects.add_row(
            f"{p.project_id} {p.project_name}",
            p.status,
            money(p.committed),
            money(p.pending),
            money(p.forecast),
        )
    out.print(head)
    out.print(projects)


@packages_app.command("funding")
def funding_command(
    file: Annotated[Path, typer.Argument(help="where to write the draft (.xlsx)")],
    year: YearOption = None,
    package: Annotated[
        list[str] | None, typer.Option("--package", help="只含此项目包 / only this package")
    ] = None,
) -> None:
    """Write the draft application for supplementary funds: every package over budget."""
    from api.commands.db import cli_session
    from supply.packages.export import funding_application

    if file.suffix.lower() != ".xlsx":
        fail(f"{file}: the file name must end in .xlsx", 2)
    today = _today(None)
    with cli_session() as session:
        content, over = funding_application(
            session=session, today=today, year=year, package_ids=package
        )
    try:
        file.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    if over:
        total = sum((f.overrun for f in over), Decimal(0))
        out.print(
            f"{len(over)} 个项目包预计超支，共 {money(total)} 元 / {len(over)} packages over "
            f"budget by {money(total)} CNY: {', '.join(f.package_id for f in over)}",
            highlight=False,
        )
    else:
        out.print(
            "没有预计超支的项目包 / no package's forecast exceeds its budget", highlight=False
        )
    out.print(f"wrote {file} ({len(content):,} bytes)", highlight=False)


def filings_table(filings: Sequence[FilingPublic], *, title: str) -> Table:
    """A table of filings: package, project, overrun, review and due dates, status, reference."""
    from supply.packages.models import FILING_STATUS_ZH, FilingStatus

    table = titled_table(
        title,
        [
            ("id / 编号", "right"),
            ("package / 项目包", "left"),
            ("project / 项目", "left"),
            ("overrun / 超支(元)", "right"),
            ("review / 评审", "left"),
            ("due / 截止", "left"),
            ("status / 状态", "left"),
            ("filed / 备案", "left"),
        ],
    )
    style = {FilingStatus.OVERDUE: "bold red", FilingStatus.DUE: "yellow", FilingStatus.FILED: ""}
    for f in filings:
        status = f"{FILING_STATUS_ZH[f.status]} {f.status.value}"
        table.add_row(
            str(f.id),
            f.package_id,
            f"{f.project_id} {f.project_name}",
            money(f.overrun),
            str(f.review_on),
            str(f.due_on),
            styled(status, style[f.status]),
            f"{f.reference} ({f.filed_by})" if f.reference else "",
        )
    return table


def print_budget_warnings(warnings: Sequence[BudgetWarning]) -> None:
    """Print each budget warning: the package, its overrun, and the projects causing it."""
    for w in warnings:
        out.print(
            joined(
                styled("预算预警 budget warning", "bold red"),
                f" 项目包 {w.package_id} {w.package_name}: 预算 budget {money(w.budget)} · "
                f"预计 forecast {money(w.forecast_before)} → {money(w.forecast_after)} · "
                "超支 over by ",
                styled(money(w.overrun), "bold"),
            ),
            highlight=False,
        )
        for p in w.projects:
            out.print(
                f"  {p.project_id} {p.project_name}: 新增 adds {money(p.addition)}, "
                f"超支 causes {money(p.overrun)}",
                highlight=False,
            )


@filings_app.callback()
def filings_command(
    ctx: typer.Context,
    due_this_week: Annotated[
        bool, typer.Option("--due-this-week", help="本周到期未备案 / unfiled, due by Sunday")
    ] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="已逾期未备案 / unfiled and past due")
    ] = False,
    package: Annotated[str | None, typer.Option(help="项目包 / package id")] = None,
    on: Annotated[
        str | None, typer.Option(help="按此日期看状态 / as of this day (default today)")
    ] = None,
) -> None:
    """List filings, earliest due first: what is due this week, what is overdue."""
    if ctx.invoked_subcommand is not None:
        return
    from api.commands.db import cli_session
    from supply.packages.filings import list_filings

    today = _today(on)
    with cli_session() as session:
        page = list_filings(
            session=session,
            today=today,
            due_this_week=due_this_week,
            overdue=overdue,
            package_id=package,
            limit=1000,
        )
    which = " · ".join(
        name
        for name, wanted in (("本周到期 due this week", due_this_week), ("逾期 overdue", overdue))
        if wanted
    )
    title = f"备案 / filings ({page.total}) as of {today}" + (f" — {which}" if which else "")
    out.print(filings_table(page.items, title=title))


@filings_app.command("file")
def file_command(
    filing_id: Annotated[int, typer.Argument(help="备案记录编号 / filing id", min=1)],
    reference: Annotated[str, typer.Option(help="省公司备案文号 / the province's reference")],
    by: Annotated[str | None, typer.Option("--by", help="备案人 / who filed it")] = None,
) -> None:
    """Mark a filing as filed with the province, with its reference number."""
    from api.commands.db import cli_session, cli_user
    from api.commands.environment import cli_clock
    from supply.core.clock import local_today
    from supply.packages.filings import file_filing, filing_public

    now: datetime = cli_clock().now()
    with cli_session() as session:
        filing = file_filing(
            session=session, filing_id=filing_id, reference=reference, by=cli_user(by), now=now
        )
        shown = filing_public(session, filing, today=local_today(now))
    out.print(
        f"备案记录 {shown.id} 已备案 / filing {shown.id} filed: {shown.project_id} "
        f"({shown.package_id}), 文号 reference {shown.reference or ''}, by {shown.filed_by or ''}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the packages and filings commands to the app."""
    app.add_typer(packages_app, name="packages")
    app.add_typer(filings_app, name="filings")
