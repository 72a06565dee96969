"""The plan lines a planner filtered on the weekly page (or asked the API for), as one Excel
sheet in the page's columns and order — what they see is what they download."""

from __future__ import annotations

from collections.abc import Sequence

from supply.core.money import line_amount
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.labels import emergency_cause_label, kind_label
from supply.weekly.models import LineKind, PlanLinePublic

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
