"""`gridsupply request FILE` and `gridsupply holds …`: urgent requests and the stock they hold."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from api.commands.db import cli_session, cli_user
from api.commands.plan import By
from api.commands.render import fail, joined, out, styled
from supply.labels import KIND_ZH

if TYPE_CHECKING:
    from supply.calendar import WorkCalendar
    from supply.core.clock import Clock
    from supply.core.settings import Settings
    from supply.holds.models import HoldDetail
    from supply.policy import DeadlinePolicy
    from supply.requests.models import RequestAnswer

holds_app = typer.Typer(
    help="库存保留 / holds: list, show, issue, release, expire.", no_args_is_help=True
)


def _context() -> tuple[Clock, WorkCalendar, DeadlinePolicy, Settings]:
    from api.commands.environment import cli_clock, cli_settings
    from supply.calendar_store import load_calendar, policy_from_settings

    settings = cli_settings()
    return cli_clock(), load_calendar(), policy_from_settings(settings), settings


def answer_table(answer: RequestAnswer) -> Table:
    """One row per part of each line: source, quantity, arrival, held or promised, on time."""
    table = Table(
        title=f"紧急需求 request #{answer.request_id} · 项目 {answer.project_id} · "
        f"批次 batch {answer.batch_id}" + (" · (重复请求 replayed)" if answer.replayed else ""),
        title_justify="left",
    )
    for column in (
        "行 line",
        "物料 material",
        "来源 source",
        "数量 qty",
        "到货 arrival",
        "状态 state",
        "需到货 need-by",
        "按时 on time",
    ):
        table.add_column(column, justify="right" if column.startswith(("数量", "行")) else "left")
    for line in answer.lines:
        ok = (
            styled("是 yes", "green")
            if line.on_time
            else styled(f"否 late {line.late_days} d", "red")
        )
        for index, part in enumerate(line.allocations):
            where = part.warehouse_id or ""
            if part.agreement_no:
                where = f"{part.agreement_no}/{part.agreement_line_no} {part.supplier}"
            table.add_row(
                str(line.line_no) if index == 0 else "",
                line.material_code if index == 0 else "",
                f"{KIND_ZH[part.kind]} {where}",
                f"{part.quantity:,}",
                str(part.arrival),
                ("保留 held" + (f" #{part.hold_id}" if part.hold_id else ""))
                if part.state == "held"
                else "承诺 promised",
                str(line.need_by) if index == 0 else "",
                ok if index == 0 else "",
            )
        if line.unmet_quantity:
            table.add_row(
                str(line.line_no),
                line.material_code,
                styled("无来源 unmet", "red"),
                f"{line.unmet_quantity:,}",
                "",
                "",
                str(line.need_by),
                styled("否 no", "red"),
            )
    return table


def print_answer(answer: RequestAnswer) -> None:
    """The answer's table and, for every late or unmet line, why and the earliest date."""
    out.print(answer_table(answer))
    for line in answer.lines:
        if line.reason:
            earliest = (
                f" (最早可到 earliest possible {line.earliest_possible})"
                if (line.earliest_possible)
                else ""
            )
            cause = f"【{line.cause_zh}】" if line.cause_zh else ""
            out.print(
                joined(
                    styled(f"第 {line.line_no} 行 line {line.line_no}", "yellow"),
                    f": {cause}{line.reason_zh or line.reason}{earliest}",
                ),
                highlight=False,
                soft_wrap=True,
            )
            if line.reason_zh:
                out.print(f"  {line.reason}", highlight=False, soft_wrap=True)
        if line.earliest_completion and not line.meets_deadline:
            out.print(
                f"  工期 deadline {line.deadline}: 最早完工 earliest completion "
                f"{line.earliest_completion}",
                highlight=False,
            )


def request_command(
    file: Annotated[Path, typer.Argument(help="请求 JSON 文件 / the request as JSON (see README)")],
    key: Annotated[
        str | None, typer.Option("--key", help="幂等键 / Idempotency-Key: resubmitting is safe")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
    by: By = None,
) -> None:
    """紧急需求 / Ask for a project's materials now: the answer per line, stock held."""
    from pydantic import ValidationError

    from supply.requests.models import SupplyRequestIn
    from supply.requests.service import submit_request

    try:
        raw = json.loads(file.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"{file} is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}", 2)
    try:
        body = SupplyRequestIn.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in exc.errors()
        )
        fail(f"{file}: {problems}", 2)
    clock, calendar, policy, settings = _context()
    with cli_session() as session:
        answer = submit_request(
            engine=session.get_bind(),  # type: ignore[arg-type]
            body=body,
            idempotency_key=key,
            now=clock.now(),
            user=cli_user(by),
            calendar=calendar,
            policy=policy,
            settings=settings,
        )
    if as_json:
        out.print_json(answer.model_dump_json())
    else:
        print_answer(answer)


def _detail(hold: HoldDetail) -> None:
    from supply.core.clock import SHANGHAI

    out.print(
        f"保留 hold #{hold.id} · {hold.project_id}/{hold.line_no} · "
        f"{KIND_ZH[hold.stock_kind]} {hold.warehouse_id} {hold.material_code} × {hold.quantity:,} · "
        f"{hold.status} · 到期 expires {hold.expires_on}",
        highlight=False,
    )
    for event in hold.events:
        note = f" — {event.note}" if event.note else ""
        out.print(
            f"  {event.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} {event.event} {event.quantity:,} by "
            f"{event.by}{note}",
            highlight=False,
        )
    if hold.settlement_amount is not None:
        out.print(
            f"  寄存结算 consignment settlement: {hold.settlement_amount:,.2f} 元", highlight=False
        )


@holds_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="held, issued or released")] = None,
    project: Annotated[str | None, typer.Option(help="项目 / project id")] = None,
    warehouse: Annotated[str | None, typer.Option(help="仓库 / warehouse id")] = None,
) -> None:
    """List holds, newest first."""
    from supply.holds.models import HoldStatus
    from supply.holds.service import list_holds

    if status is not None and status not in {s.value for s in HoldStatus}:
        fail(f"--status must be one of held, issued, released; got {status!r}", 2)
    with cli_session() as session:
        page = list_holds(
            session=session,
            status=HoldStatus(status) if status else None,
            project_id=project,
            warehouse_id=warehouse,
            limit=1000,
        )
    table = Table(title=f"保留 / holds ({page.total})", title_justify="left")
    for column in (
        "id",
        "project/line",
        "kind 类型",
        "warehouse 仓库",
        "material 物料",
        "qty 数量",
        "status 状态",
        "expires 到期",
    ):
        table.add_column(column, justify="right" if column in ("id", "qty 数量") else "left")
    for h in page.items:
        table.add_row(
            str(h.id),
            f"{h.project_id}/{h.line_no}",
            KIND_ZH[h.stock_kind],
            h.warehouse_id,
            h.material_code,
            f"{h.quantity:,}",
            h.status,
            str(h.expires_on or ""),
        )
    out.print(table)


@holds_app.command("show")
def show_command(hold_id: Annotated[int, typer.Argument(help="保留编号 / hold id")]) -> None:
    """Show a hold and its history."""
    from supply.holds.service import hold_detail

    with cli_session() as session:
        _detail(hold_detail(session=session, hold_id=hold_id))


def _act(action: Callable[..., HoldDetail], by: str | None, **arguments: Any) -> None:
    """Run a hold use case now, as `by`, and print the hold it leaves."""
    from supply.core.clock import local_today

    now = _context()[0].now()
    with cli_session() as session:
        _detail(
            action(
                engine=session.get_bind(),
                now=now,
                user=cli_user(by),
                today=local_today(now),
                **arguments,
            )
        )


@holds_app.command("issue")
def issue_command(
    hold_id: Annotated[int, typer.Argument(help="保留编号 / hold id")],
    quantity: Annotated[int | None, typer.Option(min=1, help="出库数量 / default: all")] = None,
    by: By = None,
) -> None:
    """Goods issue: on-hand falls; consignment passes to the company with a settlement line."""
    from supply.holds.service import issue_hold

    _act(issue_hold, by, hold_id=hold_id, quantity=quantity)


@holds_app.command("release")
def release_command(
    hold_id: Annotated[int, typer.Argument(help="保留编号 / hold id")],
    reason: Annotated[str, typer.Option(help="释放原因 / why")] = "",
    by: By = None,
) -> None:
    """Give a hold back: the stock is free for others."""
    from supply.holds.service import release_hold

    _act(release_hold, by, hold_id=hold_id, reason=reason[:200])


@holds_app.command("expire")
def expire_command() -> None:
    """Release every hold past its expiry date (run it daily, e.g. from cron)."""
    from supply.core.clock import local_today
    from supply.holds.service import expire_holds

    clock = _context()[0]
    now = clock.now()
    with cli_session() as session:
        released = expire_holds(
            engine=session.get_bind(),  # type: ignore[arg-type]
            today=local_today(now),
            now=now,
        )
    out.print(f"released {len(released)} expired hold(s): {', '.join(map(str, released)) or '—'}")


def register(app: typer.Typer) -> None:
    """Add `request` and `holds` to the app."""
    app.command("request")(request_command)
    app.add_typer(holds_app, name="holds")
