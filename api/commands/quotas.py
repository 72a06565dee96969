"""`gridsupply quotas …`: the quota advisor — recommend the year's reserve quotas from the last
12 months of demand, proven by replaying the year, as a draft quota catalog workbook."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.commands.db import cli_session, cli_user
from api.commands.render import fail, out, progress_steps, titled_table

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from supply.quotas.models import RecommendationDetail

quotas_app = typer.Typer(
    help="储备定额建议 / the quota advisor: recommend the year's reserve quotas from a year of "
    "demand, replayed through the engine.",
    no_args_is_help=True,
)
Year = Annotated[
    int | None,
    typer.Option(
        min=2000, max=2100, help="定额目录年度 / the quota catalog year (default: this year)"
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="草稿定额目录工作簿 / the draft quota catalog workbook to write (.xlsx; default: "
        "<year>年储备定额建议.xlsx)",
    ),
]


def parse_service_level(text: str | None) -> Decimal:
    """The service level given (0.5–1, to the per mille), else GRIDSUPPLY_QUOTA_SERVICE_LEVEL."""
    from pydantic import TypeAdapter, ValidationError

    from api.commands.environment import cli_settings
    from supply.quotas.models import ServiceLevel

    if text is None:
        return cli_settings().quota_service_level
    try:
        return TypeAdapter(ServiceLevel).validate_python(Decimal(text.strip().rstrip("%")))
    except (InvalidOperation, ValidationError):
        fail(
            f"--service-level {text!r}: give a share between 0.5 and 1 to the per mille, such as "
            "0.95",
            2,
        )
        raise  # unreachable: fail exits


@quotas_app.command("recommend")
def recommend_command(
    year: Year = None,
    service_level: Annotated[
        str | None,
        typer.Option(
            help="目标服务水平 / target share of short-deadline lines on time, 0.5–1 (default: "
            "GRIDSUPPLY_QUOTA_SERVICE_LEVEL, 0.95)"
        ),
    ] = None,
    output: Output = None,
    workers: Annotated[
        int, typer.Option(min=1, max=2, help="重放进程数 / replay in 1 or 2 processes")
    ] = 2,
    by: Annotated[str | None, typer.Option("--by", help="操作人 / who asks (default: you)")] = None,
) -> None:
    """Recommend the quotas from the last 12 months and write the draft workbook.

    Reads the 52 weekly batches before now, recommends a quota per warehouse × material of the
    reserve catalog, replays the year with the current and the recommended quotas through the
    engine, saves the recommendation and writes it in the `quotas` import format (import it
    with `gridsupply catalogs import quotas FILE`, then `catalogs confirm-quotas`)."""
    from api.commands.environment import cli_clock
    from supply.quotas import recommendation_workbook

    level = parse_service_level(service_level)
    now = cli_clock().now()
    chosen = year or now.year
    target = output or Path(f"{chosen}年储备定额建议.xlsx")
    if not target.parent.is_dir():  # say so now, not after the replay
        fail(f"cannot write {target}: no folder {target.parent}", 2)
    with cli_session() as session:
        done = recommend_with_progress(
            session, year=chosen, service_level=level, now=now, user=cli_user(by), workers=workers
        )
    try:
        target.write_bytes(recommendation_workbook(done))
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}", 2)
    print_recommendation(done)
    out.print(
        f"draft quota catalog written to {target} — import it into {chosen}'s draft with "
        f"`gridsupply catalogs import quotas {target}`, then marketing confirms it "
        f"(`gridsupply catalogs confirm-quotas {chosen}`)",
        highlight=False,
        soft_wrap=True,
    )


def share(rate: float | None) -> str:
    """A rate as a percentage to one place, '—' for none."""
    return "—" if rate is None else f"{rate:.1%}"


def percent(level: Decimal | float) -> str:
    """A service level as a percentage without trailing zeros (0.950 -> 95 %)."""
    return f"{(Decimal(repr(level)) * 100).normalize():f} %"


def recommend_with_progress(
    session: Session,
    *,
    year: int,
    service_level: Decimal,
    now: datetime,
    user: str,
    workers: int,
) -> RecommendationDetail:
    """Recommend and replay (`supply.quotas.recommend_quotas`), showing each step with a
    spinner and its time."""

    from api.commands.environment import cli_settings
    from supply.calendar_store import load_calendar, policy_from_settings
    from supply.quotas import recommend_quotas

    settings = cli_settings()
    with progress_steps() as step:
        done = recommend_quotas(
            engine=session.get_bind(),  # type: ignore[arg-type]
            year=year,
            service_level=service_level,
            now=now,
            calendar=load_calendar(),
            policy=policy_from_settings(settings),
            settings=settings,
            user=user,
            workers=workers,
            progress=step,
        )
    return done


def print_recommendation(done: RecommendationDetail, *, lines: int = 12) -> None:
    """Print a recommendation: the replay's figures, then its largest changes by value."""
    out.print(
        f"quota recommendation #{done.id} for {done.year}: target {percent(done.service_level)} "
        f"of short-deadline lines on time; demand of batches {done.first_batch} to "
        f"{done.last_batch} ({done.short_lines:,} short-deadline lines of reserve materials), "
        f"compared with the {done.catalog} catalog; replayed in {done.replay_seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    table = titled_table(
        "一年重放 / the year replayed through the engine",
        [("figure / 指标", "left"), ("current quotas / 现行定额", "right"),
         ("recommended / 推荐定额", "right")],
    )  # fmt: skip
    table.add_row(
        "短工期需求行按时 / short-deadline lines on time",
        share(done.on_time_rate_current),
        share(done.on_time_rate_recommended),
    )
    table.add_row(
        "平均库存金额 / average stock value (CNY)",
        f"{done.stock_value_current:,.2f}",
        f"{done.stock_value_recommended:,.2f}",
    )
    table.add_row(
        "定额金额 / value at quota (CNY)",
        f"{done.quota_value_current:,.2f}",
        f"{done.quota_value_recommended:,.2f}",
    )
    table.add_row(
        "其余需求行按时(周计划) / other lines on time (weekly batch)",
        share(done.other_on_time_rate_current),
        share(done.other_on_time_rate_recommended),
    )
    out.print(table)
    changes = sorted(
        done.lines,
        key=lambda x: -abs(x.recommended - x.current) * x.unit_price,
    )[:lines]
    biggest = titled_table(
        "变化最大的定额（按金额） / the largest changes, by value",
        [("warehouse / 仓库", "left"), ("material / 物料", "left"), ("current / 现行", "right"),
         ("recommended / 推荐", "right"), ("lines / 需求行", "right"),
         ("lead days / 补库天数", "right"), ("on time now→then / 按时率", "right")],
    )  # fmt: skip
    for x in changes:
        rates = "→".join(
            "—" if r is None else f"{r:.0%}" for r in (x.on_time_current, x.on_time_recommended)
        )
        biggest.add_row(
            x.warehouse_id,
            f"{x.material_code} {x.material_name}",
            f"{x.current:,} {x.unit}",
            f"{x.recommended:,} {x.unit}",
            f"{x.lines:,}",
            str(x.lead_days),
            rates,
        )
    out.print(biggest)


@quotas_app.command("show")
def show_command(
    recommendation: Annotated[
        int | None, typer.Argument(help="建议编号 / recommendation id (default: the newest)")
    ] = None,
    output: Output = None,
) -> None:
    """Show a saved recommendation (the newest by default); -o writes its workbook again."""
    from supply.quotas import get_recommendation, latest_recommendation, recommendation_workbook

    with cli_session() as session:
        if recommendation is None:
            done = latest_recommendation(session=session)
            if done is None:
                fail("no quota recommendation yet: run `gridsupply quotas recommend` first")
                return
        else:
            done = get_recommendation(session=session, recommendation_id=recommendation)
    print_recommendation(done)
    if output is not None:
        try:
            output.write_bytes(recommendation_workbook(done))
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}", 2)
        out.print(f"draft quota catalog written to {output}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the quotas commands to the app."""
    app.add_typer(quotas_app, name="quotas")
