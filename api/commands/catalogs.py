"""`gridsupply catalogs …`: import, export, confirm and summarise the supply catalogs.

The same service functions as the HTTP API; this module reads arguments, opens a session, calls
and renders. A rejected file prints every problem (Chinese / English) and exits 2.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from api.commands.db import cli_session, cli_user
from api.commands.environment import cli_clock, cli_today, read_input
from api.commands.render import err, fail, header, joined, out, styled
from catalogs import importing, records, reserve
from catalogs.cells import LEVEL_NAMES
from catalogs.models import (
    CatalogKind,
    CatalogSummary,
    ImportReport,
    ImportStatus,
    QuotaCatalogStatus,
)
from catalogs.summary import catalog_summary
from supply.core.clock import SHANGHAI
from supply.core.errors import ImportRejected
from supply.core.settings import get_settings
from supply.sample.catalogs import sample_files

EXIT_REJECTED = 2
COUNT_LABELS = {
    "materials": "物料",
    "warehouses": "仓库",
    "transport": "运输天数",
    "reserve": "实物库存",
    "quota_catalogs": "定额目录版本",
    "quotas": "定额行",
    "agreements": "协议行",
    "consignment": "寄存",
}
SHOWN_PROBLEMS = 200

catalogs_app = typer.Typer(
    help="供应目录 / the supply catalogs: import, export, confirm quotas, summary.",
    no_args_is_help=True,
)
KindArg = Annotated[
    CatalogKind,
    typer.Argument(
        help="materials | warehouses | transport | reserve | quotas | agreements | consignment"
    ),
]


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def report_table(reports: list[ImportReport]) -> Table:
    """A table of imports: file, rows, inserted, updated, unchanged."""
    table = Table(title="导入 / imports", title_justify="left")
    for name, justify in (
        ("kind / 类别", "left"),
        ("file / 文件", "left"),
        ("rows / 行", "right"),
        ("inserted / 新增", "right"),
        ("updated / 更新", "right"),
        ("unchanged / 未变", "right"),
    ):
        table.add_column(header(name), justify=justify)  # type: ignore[arg-type]
    for r in reports:
        table.add_row(
            r.kind, r.file_name, str(r.rows), str(r.inserted), str(r.updated), str(r.unchanged)
        )
    return table


def print_rejection(rejected: ImportRejected) -> None:
    """Print every problem of a rejected file (up to SHOWN_PROBLEMS) to stderr."""
    err.print(joined(styled("rejected:", "bold red"), " ", rejected.message), soft_wrap=True)
    for problem in rejected.problems[:SHOWN_PROBLEMS]:
        err.print(f"  {problem.text}", highlight=False, soft_wrap=True)
    if len(rejected.problems) > SHOWN_PROBLEMS:
        err.print(f"  … {len(rejected.problems) - SHOWN_PROBLEMS} more / 另有更多问题")


def summary_tables(summary: CatalogSummary) -> list[Table]:
    """Render the catalog summary: counts, value per warehouse, below quota, agreements ending."""
    counts = Table(title=f"供应目录 / supply catalogs on {summary.today}", title_justify="left")
    counts.add_column(header("catalog / 目录"))
    counts.add_column(header("rows / 行数"), justify="right")
    for name, count in summary.counts.items():
        counts.add_row(f"{COUNT_LABELS.get(name, name)} {name}", f"{count:,}")

    quotas = Table(title="储备定额目录 / reserve quota catalog", title_justify="left")
    for name in ("version / 版本", "status / 状态", "lines / 行数", "confirmed / 确认"):
        quotas.add_column(header(name))
    shown = [summary.quota_catalog] if summary.quota_catalog else []
    for catalog in [*shown, *summary.pending_drafts]:
        when = (
            catalog.confirmed_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            if catalog.confirmed_at
            else ""
        )
        status = {"confirmed": "执行中 in force", "draft": "草稿待确认 draft"}.get(
            catalog.status, ""
        )
        confirmed = f"{when} {catalog.confirmed_by}" if catalog.confirmed_by else "—"
        quotas.add_row(f"{catalog.year} v{catalog.version}", status, str(catalog.lines), confirmed)
    if not summary.quota_catalog:
        quotas.add_row(str(summary.today.year), "无已确认版本 none confirmed", "", "")

    stock = Table(title="各仓库存金额(元) / stock value per warehouse (CNY)", title_justify="left")
    for name, justify in (
        ("warehouse / 仓库", "left"),
        ("level / 级别", "left"),
        ("reserve lines / 储备品种", "right"),
        ("reserve / 实物储备", "right"),
        ("consignment / 供应商寄存", "right"),
    ):
        stock.add_column(header(name), justify=justify)  # type: ignore[arg-type]
    for w in summary.warehouses:
        stock.add_row(
            w.warehouse_id,
            LEVEL_NAMES.get(w.level, w.level),
            str(w.reserve_lines),
            _money(w.reserve_value),
            _money(w.consignment_value),
        )
    stock.add_row(
        "total / 合计",
        "",
        "",
        _money(sum((w.reserve_value for w in summary.warehouses), Decimal(0))),
        _money(sum((w.consignment_value for w in summary.warehouses), Decimal(0))),
        style="bold",
    )

    below = Table(
        title=f"低于定额(缺口金额前 {len(summary.below_quota)} 项) / "
        "below quota, largest shortfall first",
        title_justify="left",
    )
    for name, justify in (
        ("warehouse / 仓库", "left"),
        ("material / 物料", "left"),
        ("on hand / 库存", "right"),
        ("quota / 定额", "right"),
        ("short / 缺口", "right"),
        ("value / 金额", "right"),
    ):
        below.add_column(header(name), justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for p in summary.below_quota:
        below.add_row(
            p.warehouse_id,
            p.material_code,
            f"{p.on_hand:,} {p.unit}",
            f"{p.quota:,}",
            f"{p.shortfall:,}",
            _money(p.shortfall_value),
        )

    band = sorted(
        (a for a in summary.agreements_near_end if a.band_ending),
        key=lambda a: (a.line.remaining_quantity, a.line.material_code),
    )
    ending = Table(
        title=f"接近执行上限的协议行({len(band)} 行) / agreement lines at or near their upper band",
        title_justify="left",
    )
    for name, justify in (
        ("agreement / 协议", "left"),
        ("supplier / 供应商", "left"),
        ("material / 物料", "left"),
        ("left / 剩余", "right"),
        ("valid to / 有效期止", "left"),
    ):
        ending.add_column(
            header(name),
            justify=justify,  # type: ignore[arg-type]
            no_wrap=True,
            overflow="ellipsis",
            max_width=22,
        )
    for alert in band[:12]:
        line = alert.line
        ending.add_row(
            f"{line.agreement_no}/{line.line_no}",
            line.supplier,
            line.material_code,
            f"{line.remaining_quantity:,}",
            str(line.valid_to),
        )
    if len(band) > 12:
        ending.add_row("…", f"{len(band) - 12} more / 另有", "", "", "")
    expiring: dict[tuple[str, date], int] = {}
    for alert in summary.agreements_near_end:
        if alert.validity_ending:
            key = (alert.line.tender, alert.line.valid_to)
            expiring[key] = expiring.get(key, 0) + 1
    validity = Table(
        title="有效期将尽或已过的招标批次 / tenders whose validity is ending or over",
        title_justify="left",
    )
    validity.add_column(header("tender / 招标批次"))
    validity.add_column(header("valid to / 有效期止"))
    validity.add_column(header("lines / 行数"), justify="right")
    for (tender, valid_to), count in sorted(expiring.items(), key=lambda item: item[0][1]):
        validity.add_row(tender, str(valid_to), str(count))
    return [counts, quotas, stock, below, ending, validity]


@catalogs_app.command("import")
def import_command(
    kind: KindArg,
    file: Annotated[
        Path, typer.Argument(help="Excel (.xlsx) or CSV; headers in Chinese or English")
    ],
    by: Annotated[
        str | None, typer.Option("--by", help="who imports (default: the login name)")
    ] = None,
) -> None:
    """Import a catalog file: every row checked; all rows written in one transaction, or none."""
    limit = get_settings().max_upload_bytes
    content = read_input(file, limit)
    with cli_session() as session:
        try:
            report = importing.import_catalog(
                session=session,
                kind=kind,
                content=content,
                file_name=file.name,
                imported_by=cli_user(by),
                now=cli_clock().now(),
                default_delivery_warehouse=get_settings().default_delivery_warehouse,
                max_bytes=limit,
            )
        except ImportRejected as rejected:
            print_rejection(rejected)
            raise typer.Exit(EXIT_REJECTED) from None
    out.print(report_table([report]))
    if report.note:
        out.print(report.note, highlight=False)
    if report.ignored_columns:
        out.print(
            f"ignored columns / 未使用的列: {', '.join(report.ignored_columns)}", highlight=False
        )


@catalogs_app.command("export")
def export_command(
    kind: KindArg,
    file: Annotated[Path, typer.Argument(help="where to write: .xlsx or .csv")],
    year: Annotated[int | None, typer.Option(help="quotas: the year (default: this year)")] = None,
    version: Annotated[
        int | None, typer.Option(help="quotas: the version (default: newest)")
    ] = None,
) -> None:
    """Export a catalog in the format its import reads (quantities in base units)."""
    suffix = file.suffix.lower().lstrip(".")
    if suffix not in ("xlsx", "csv"):
        fail(f"{file}: the file name must end in .xlsx or .csv")
    today = cli_today()
    with cli_session() as session:
        content = importing.export_catalog(
            session=session,
            kind=kind,
            fmt="csv" if suffix == "csv" else "xlsx",
            year=year or today.year,
            version=version,
        )
    try:
        file.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    out.print(f"wrote {file} ({len(content):,} bytes)", highlight=False)


@catalogs_app.command("confirm-quotas")
def confirm_command(
    year: Annotated[int, typer.Argument(help="the catalog's year")],
    by: Annotated[str, typer.Option("--by", help="who confirms, for the departments")],
) -> None:
    """Confirm the year's draft quota catalog; the previously confirmed version is superseded."""
    with cli_session() as session:
        drafts = [
            c
            for c in reserve.list_quota_catalogs(session=session, year=year)
            if c.status == QuotaCatalogStatus.DRAFT
        ]
        if not drafts:
            fail(
                f"{year} 年没有待确认的草稿 / "
                f"no draft quota catalog for {year}: import quotas first"
            )
        confirmed = reserve.confirm_quota_catalog(
            session=session, catalog_id=drafts[0].id, confirmed_by=by, now=cli_clock().now()
        )
    out.print(
        f"confirmed quota catalog {confirmed.year} v{confirmed.version} ({confirmed.lines} lines) "
        f"by {confirmed.confirmed_by}",
        highlight=False,
    )


@catalogs_app.command("summary")
def summary_command(
    top: Annotated[int, typer.Option(help="below-quota lines to list")] = 10,
) -> None:
    """Summarise the catalogs: stock value per warehouse, below quota, agreements ending."""
    with cli_session() as session:
        summary = catalog_summary(session=session, today=cli_today(), top=top)
    for table in summary_tables(summary):
        out.print(table)


@catalogs_app.command("imports")
def imports_command(
    limit: Annotated[int, typer.Option(help="how many, newest first", min=1, max=500)] = 20,
    status: Annotated[
        ImportStatus | None, typer.Option(help="only accepted or only rejected imports")
    ] = None,
) -> None:
    """List recorded imports (catalogs, project workbooks, province matching): who, when, which
    file, accepted with what it changed or rejected with its first problem."""
    with cli_session() as session:
        page = records.list_imports(session=session, status=status, limit=limit)
    table = Table(title=f"导入记录 / imports ({page.total})", title_justify="left")
    for name in (
        "when / 时间",
        "who / 导入人",
        "kind / 类别",
        "file / 文件",
        "status / 状态",
        "result / 结果",
    ):
        table.add_column(header(name))
    for r in page.items:
        state: str | Text
        if r.status == ImportStatus.ACCEPTED:
            state, result = "accepted 已导入", f"+{r.inserted} ~{r.updated} ={r.unchanged}"
        else:
            first = r.first_problems.splitlines()[0] if r.first_problems else ""
            state, result = styled("rejected 已拒绝", "red"), f"{r.problems} problem(s): {first}"
        table.add_row(
            r.imported_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            r.imported_by,
            r.kind,
            r.file_name,
            state,
            result,
        )
    out.print(table)


@catalogs_app.command("sample")
def sample_command(
    directory: Annotated[Path, typer.Argument(help="folder to write the sample files into")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    on: Annotated[
        str | None, typer.Option("--date", help="the day the sample is for (YYYY-MM-DD)")
    ] = None,
) -> None:
    """Write the seeded Weihai sample catalogs as import files (estimates, for trying out)."""
    if fmt not in ("xlsx", "csv"):
        fail("--format must be xlsx or csv")
    try:
        today = date.fromisoformat(on) if on else cli_today()
    except ValueError:
        fail(f"--date must be YYYY-MM-DD, got {on!r}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in sample_files(
            today=today, fmt="csv" if fmt == "csv" else "xlsx"
        ).items():
            (directory / name).write_bytes(content)
            out.print(f"wrote {directory / name}", highlight=False)
    except OSError as exc:
        fail(f"cannot write to {directory}: {exc.strerror or exc}")


def register(app: typer.Typer) -> None:
    """Add the catalogs commands to the app."""
    app.add_typer(catalogs_app, name="catalogs")
