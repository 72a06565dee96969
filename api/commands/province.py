"""`gridsupply province …`: the province's central matching (省公司集中匹配), files in → files out."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.commands.render import fail, out

province_app = typer.Typer(
    help="省公司集中匹配 / the province's central matching of the cities' agreement-stock plans.",
    no_args_is_help=True,
)


@province_app.command("match")
def match_command(
    batch: Annotated[str, typer.Option("--batch", help="批次 / batch id, e.g. 2026-W49")],
    agreements: Annotated[
        Path, typer.Option("--agreements", help="省级协议库存目录 / provincial agreement catalog")
    ],
    transport: Annotated[
        Path,
        typer.Option("--transport", help="省内运输天数 / transport days, delivery site → city"),
    ],
    cities: Annotated[
        list[Path], typer.Argument(help="各地市的协议库存需求计划 / each city's requirement plan")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="写出结果的目录 / folder for the results")
    ] = Path("province-match"),
) -> None:
    """Match every city's requirement plan against the provincial agreements; write a result
    per city (what `gridsupply plan import-match` reads), a summary, and the instance and plan."""
    from api.commands.catalogs import print_rejection
    from api.commands.environment import cli_settings, read_input
    from supply.core.errors import DomainError, ImportRejected, InvalidInput
    from supply.province.matching import Upload
    from supply.province.service import match_files

    settings = cli_settings()
    limit = settings.max_upload_bytes

    def upload(path: Path) -> Upload:
        return Upload(path.name, read_input(path, limit))

    try:
        report = match_files(
            batch_id=batch,
            agreements=upload(agreements),
            transport=upload(transport),
            cities=[upload(c) for c in cities],
            out_dir=output,
            settings=settings,
            workers=os.cpu_count() or 1,
        )
    except ImportRejected as rejected:
        print_rejection(rejected)
        raise typer.Exit(2) from None
    except InvalidInput as exc:
        fail(exc.message, 2)
    except DomainError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}", 2)
    figures = report.figures
    table = Table(
        title=f"批次 {batch} 省公司匹配（{figures['match_day']}） / the province's matching",
        title_justify="left",
    )
    for name in ("地市 city", "行 lines", "按时 on time", "延迟 late", "未满足 unmet"):
        table.add_column(name, justify="left" if name.startswith("地市") else "right")
    table.add_column("金额 CNY", justify="right", no_wrap=True, min_width=17)  # to the fen, whole
    totals = figures["totals"]
    for row in [*figures["cities"], {"city": "合计", **totals}]:
        table.add_row(
            row["city"], f"{row['lines']:,}", f"{row['on_time']:,}", f"{row['late']:,}",
            f"{row['unmet_lines']:,}", f"{Decimal(row['amount']):,.2f}",
            end_section=row is not totals and row["city"] == figures["cities"][-1]["city"],
        )  # fmt: skip
    out.print(table)
    out.print(
        f"{figures['status']}; {figures['agreement_lines_serving']} of "
        f"{figures['agreement_lines']} agreement lines could take orders; "
        f"{figures['at_risk']} at risk; read {report.seconds['read']} s, solve and check "
        f"{report.seconds['solve_and_check']} s, write {report.seconds['write']} s",
        highlight=False,
    )
    for name in sorted(report.files):
        out.print(f"  {report.files[name]}", highlight=False, soft_wrap=True)


@province_app.command("sample")
def sample_command(
    directory: Annotated[Path, typer.Argument(help="写出样例文件的目录 / folder for the files")],
) -> None:
    """Write the sample province: 16 cities' requirement plans (Weihai's is the demo's), the
    provincial agreement catalog and the transport days."""
    from supply.province.sample import write_province_sample

    try:
        sample = write_province_sample(directory)
    except OSError as exc:
        fail(f"cannot write {directory}: {exc.strerror or exc}", 2)
    for path in [sample.agreements, sample.transport, *sample.cities.values()]:
        out.print(f"  {path}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the province commands to the app."""
    app.add_typer(province_app, name="province")
