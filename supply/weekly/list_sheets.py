"""The weekly page's lists as Excel, in the page's columns and order — what a planner sees is
what they download: the plan lines they filtered (or asked the API for), and the runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from supply.core.clock import SHANGHAI
from supply.core.money import line_amount
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.labels import RUN_STATUS_ZH, emergency_cause_label, kind_label
from supply.weekly.models import LineKind, PlanLinePublic, PlanRunPublic

COLUMNS = (
    Column("项目编号 / project"),
    Column("物料编码 / material"),
    Column("来源 / source"),
    Column("来源编号 / source id"),
    Column("仓库 / warehouse"),
    Column("数量 / quantity", "int", total=True),
    Column("单价(元) / unit cost", "price"),
    Column("金额(元) / amount", "money", total=True),
    Column("预计到货日期 / arrival", "date"),
    Column("需到货日期 / need-by", "date"),
    Column("延迟天数 / late days", "int"),
    Column("原因 / reason"),
)


def lines_workbook(lines: Sequence[PlanLinePublic], batch_id: str) -> bytes:
    """The lines as 计划明细 (one row each, a totals row); an unmet rest has no price or amount."""
    rows = []
    for line in lines:
        priced = line.kind != LineKind.UNMET
        rows.append(
            (
                line.project_id or f"补库 {line.replenish_warehouse_id or ''}".strip(),
                line.material_code,
                kind_label(line.kind),
                line.source_id,
                line.warehouse_id,
                line.quantity,
                line.unit_cost if priced else None,
                line_amount(line.unit_cost, line.quantity) if priced else None,
                line.arrival,
                line.need_by,
                line.late_days,
                line.reason_zh or emergency_cause_label(line.emergency_cause),
            )
        )
    return write_xlsx([Sheet(f"计划明细 {batch_id}", COLUMNS, rows, totals=True)])


RUN_COLUMNS = (
    Column("运行 / run", "int"),
    Column("批次 / batch"),
    Column("状态 / status"),
    Column("运行时间 / run at"),
    Column("操作人 / run by"),
    Column("需求行 / demand lines", "int"),
    Column("按时 / on time", "int"),
    Column("延迟 / late", "int"),
    Column("未满足 / unmet", "int"),
    Column("支出(元) / spend", "money"),
    Column("批准 / approved at"),
    Column("批准人 / approved by"),
)


def _moment(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else None


def runs_workbook(runs: Sequence[PlanRunPublic]) -> bytes:
    """The runs as 历次运行, newest first, with their KPIs' totals."""
    rows = []
    for run in runs:
        totals = run.kpis.get("totals", {})
        rows.append(
            (
                run.id,
                run.batch_id,
                RUN_STATUS_ZH.get(run.status, run.status),
                _moment(run.run_at),
                run.run_by,
                run.demand_lines,
                totals.get("on_time_lines"),
                totals.get("late_lines"),
                totals.get("unmet_lines"),
                run.kpis.get("spend"),
                _moment(run.approved_at),
                run.approved_by,
            )
        )
    return write_xlsx([Sheet("历次运行", RUN_COLUMNS, rows)])
