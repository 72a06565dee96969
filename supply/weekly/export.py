"""The weekly run's Excel exports, with Chinese headers (planners and the province read them).

Every export is built from one list of plan lines (`PLAN_COLUMNS`, one row per allocation or
unmet rest, with names beside the codes: `supply.weekly.export_rows`), gone over once for them
all, so they always agree, and written by the one export writer (`supply.core.sheets`, a sheet
streamed row by row): text as text, amounts to the fen, a totals row and an autofilter on every
list.

- 协议库存需求计划: the agreement-stock requirement plan for the province, one row per material
  and delivery warehouse, with the project lines behind each row on a second sheet;
- 出库清单: what leaves each warehouse (reserve and consignment), one sheet per warehouse;
- 紧急采购清单: the emergency-procurement list, each line with its cause, and the totals by cause;
- 延迟与未满足清单: the late and unmet lines with their reasons;
- 补库清单: reserve replenishment, with the source planned for it;
- 项目包汇总: per project package, its lines on time, late and unmet and the cost the plan
  takes from its budget by source, with the projects behind each package.

A line's amount is its unit cost times its quantity, to the fen (`supply.core.money.line_amount`):
the KPIs sum the same amounts, so every total here equals its KPI to the fen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from supply.core.sheets import Column, Sheet, write_xlsx
from supply.labels import KIND_ZH, OUTCOME_ZH, emergency_cause_label
from supply.weekly.export_rows import Row, split_lines

EXPORTS = {
    "agreement_requirements": "协议库存需求计划",
    "issue_list": "出库清单",
    "emergency": "紧急采购清单",
    "late_unmet": "延迟与未满足清单",
    "replenishment": "补库清单",
    "packages": "项目包汇总",
}
NO_PACKAGE_ZH = "(无项目包)"
SPEND_KINDS = ("reserve", "consignment", "agreement", "emergency")
OUTCOMES = ("on_time", "late", "unmet")


# The columns the exports share: (column, the plan line's value it shows: a key of the line
# as `split_lines` gives it, or a function of the line).
_Getter = str | Callable[[Row], Any]
PROJECT = (Column("项目编号"), "project_id")
PROJECT_NAME = (Column("项目名称"), "project_label")
PROJECT_TYPE = (Column("工程类型"), "type_label")
MATERIAL = (Column("物料编码"), "material")
MATERIAL_NAME = (Column("物料名称"), "material_name")
UNIT = (Column("单位"), "unit")
QUANTITY = (Column("数量", "int"), "quantity")
SOURCE = (Column("来源"), "source_label")
UNIT_COST = (Column("单价(元)", "price"), "price")
AMOUNT = (Column("金额(元)", "money", total=True), "amount")
NEED_BY = (Column("需到货日期", "date"), "need_by")
ARRIVAL = (Column("预计到货日期", "date"), "arrival")
LATE_DAYS = (Column("延迟天数", "int"), "late_days")


def _sheet(
    name: str,
    columns: Sequence[tuple[Column, _Getter]],
    rows: Iterable[Row],
    *,
    totals: bool = True,
) -> Sheet:
    keys = [get for _, get in columns if isinstance(get, str)]
    if len(keys) == len(columns) > 1:  # every value a key of the line: one C call per row
        values: list[Sequence[Any]] = list(map(itemgetter(*keys), rows))
    else:
        getters = [itemgetter(get) if isinstance(get, str) else get for _, get in columns]
        values = [[get(row) for get in getters] for row in rows]
    return Sheet(name=name, columns=[c for c, _ in columns], rows=values, totals=totals)


def _sorted(rows: Iterable[Row], *fields: str) -> list[Row]:
    """The rows by `fields` in order, a missing value (None) after every other."""
    plain = itemgetter(*fields) if len(fields) > 1 else lambda row: (row[fields[0]],)
    try:  # the same order as below while no None is compared, without a pair per field
        return sorted(rows, key=plain)
    except TypeError:  # a None met another value
        pass

    def key(row: Row) -> tuple:
        return tuple(_sort_value(row.get(f)) for f in fields)

    return sorted(rows, key=key)


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, date):
        return (0, value.toordinal())
    return (0, value)


def _agreement_requirements(agreement: Sequence[Row], batch_id: str, city: str) -> bytes:
    """协议库存需求计划: per material and delivery warehouse, with the lines behind each row
    (`agreement`: the agreement lines, the plan's and those promised to urgent requests).

    The province matches every city's plan centrally (`supply.province`): each project line says
    its city, voltage class and priority, which the province weighs it by."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in agreement:
        groups[row["material"], row["warehouse_id"]].append(row)
    summary = []
    for (material, warehouse), rows in sorted(groups.items()):
        first = rows[0]
        summary.append(
            [
                batch_id,
                city,
                material,
                first["material_name"],
                first["unit"],
                warehouse,
                first["warehouse_name"],
                sum(int(r["quantity"]) for r in rows),
                min(r["need_by"] for r in rows),
                len(rows),
                sum((r["amount"] or Decimal(0) for r in rows), Decimal(0)),
            ]
        )
    summary_sheet = Sheet(
        name="需求汇总",
        columns=[
            Column("批次"),
            Column("地市"),
            Column("物料编码"),
            Column("物料名称"),
            Column("单位"),
            Column("交货仓库"),
            Column("交货仓库名称"),
            Column("需求数量", "int"),
            Column("最早需到货日期", "date"),
            Column("需求行数", "int", total=True),
            Column("参考金额(元)", "money", total=True),
        ],
        rows=summary,
        totals=True,
    )
    detail = _sheet(
        "项目明细",
        [
            (Column("地市"), lambda r: city),
            MATERIAL,
            (Column("交货仓库"), "warehouse_id"),
            PROJECT,
            PROJECT_NAME,
            PROJECT_TYPE,
            (Column("电压等级"), "voltage_class"),
            (Column("优先级"), "priority_label"),
            (Column("需求行"), "demand"),
            QUANTITY,
            NEED_BY,
            (Column("参考协议行"), "source_id"),
            (Column("参考供应商"), "supplier"),
            (Column("参考单价(元)", "price"), "unit_cost"),
            (Column("参考金额(元)", "money", total=True), "amount"),
            ARRIVAL,
            LATE_DAYS,
            (Column("说明"), "reason_zh"),
            (Column("说明(英文) / reason"), "reason"),
        ],
        _sorted(agreement, "material", "warehouse_id", "need_by", "demand"),
    )
    return write_xlsx([summary_sheet, detail])


def _issue_list(
    by_warehouse: Mapping[str, Sequence[Row]], warehouse_names: Mapping[str, str]
) -> bytes:
    """出库清单: reserve and consignment leaving each warehouse, one sheet per warehouse."""
    sheets = [
        _sheet(
            f"{warehouse} {warehouse_names.get(warehouse, '')}".strip(),
            [
                PROJECT,
                PROJECT_NAME,
                MATERIAL,
                MATERIAL_NAME,
                UNIT,
                QUANTITY,
                SOURCE,
                (Column("供应商(寄存)"), "supplier"),
                UNIT_COST,
                AMOUNT,
                NEED_BY,
                ARRIVAL,
            ],
            _sorted(rows, "need_by", "project_id", "material"),
        )
        for warehouse, rows in sorted(by_warehouse.items())
    ]
    if not sheets:
        sheets = [_nothing("无出库 none", "本批次没有出库 / nothing leaves a warehouse")]
    return write_xlsx(sheets)


def _emergency_list(emergency: Sequence[Row]) -> bytes:
    """紧急采购清单: what must be bought outside agreements, per line, with its cause and dates;
    then the lines and amounts per cause (catalog materials bought this way need approval)."""
    rows = _sorted(emergency, "need_by", "material", "demand")
    detail = _sheet(
        "紧急采购",
        [
            PROJECT,
            PROJECT_NAME,
            PROJECT_TYPE,
            MATERIAL,
            MATERIAL_NAME,
            UNIT,
            QUANTITY,
            (Column("估算单价(元)", "price"), "unit_cost"),
            (Column("估算金额(元)", "money", total=True), "amount"),
            NEED_BY,
            ARRIVAL,
            LATE_DAYS,
            (Column("紧急采购原因"), "emergency_label"),
            (Column("说明"), "reason_zh"),
            (Column("说明(英文) / reason"), "reason"),
        ],
        rows,
    )
    per_cause: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        per_cause[row["emergency_cause"] or ""].append(row)
    by_cause = Sheet(
        name="按原因汇总",
        columns=[
            Column("紧急采购原因"),
            Column("需求行数", "int", total=True),
            Column("估算金额(元)", "money", total=True),
        ],
        rows=[
            [
                emergency_cause_label(cause) or "未注明 (unknown)",
                len(group),
                sum((r["amount"] or Decimal(0) for r in group), Decimal(0)),
            ]
            for cause, group in sorted(per_cause.items())
        ],
        totals=True,
    )
    return write_xlsx([detail, by_cause])


def _late_and_unmet(late_or_unmet: Sequence[Row]) -> bytes:
    """延迟与未满足清单: every late or unmet line with the reason (R8)."""
    rows = _sorted(late_or_unmet, "need_by", "demand", "kind")
    return write_xlsx(
        [
            _sheet(
                "延迟与未满足",
                [
                    (Column("情况"), "outcome_label"),
                    PROJECT,
                    PROJECT_NAME,
                    PROJECT_TYPE,
                    MATERIAL,
                    MATERIAL_NAME,
                    UNIT,
                    QUANTITY,
                    SOURCE,
                    NEED_BY,
                    ARRIVAL,
                    LATE_DAYS,
                    (Column("原因类别"), "cause_label"),
                    (Column("原因"), "reason_zh"),
                    (Column("原因(英文) / reason"), "reason"),
                ],
                rows,
            )
        ]
    )


def _replenishment_list(replenishment: Sequence[Row]) -> bytes:
    """补库清单: reserve below quota and the source planned to refill it."""
    rows = _sorted(replenishment, "replenish_warehouse_id", "material", "kind")
    return write_xlsx(
        [
            _sheet(
                "补库",
                [
                    (Column("补库仓库"), "replenish_warehouse_id"),
                    MATERIAL,
                    MATERIAL_NAME,
                    UNIT,
                    QUANTITY,
                    SOURCE,
                    (Column("来源编号"), "source_id"),
                    (Column("供应商"), "supplier"),
                    UNIT_COST,
                    AMOUNT,
                    NEED_BY,
                    ARRIVAL,
                    (Column("原因类别"), "cause_label"),
                    (Column("说明"), "reason_zh"),
                    (Column("说明(英文) / reason"), "reason"),
                ],
                rows,
            )
        ]
    )


def _package_summary(rows: Sequence[Row], packages: Mapping[str, str | None]) -> bytes:
    """项目包汇总: per package (`packages` maps project → package), lines on time, late and
    unmet and the planned cost by source; then per package and project (`rows`: the projects'
    plan lines)."""
    if not rows:
        return write_xlsx(
            [_nothing("项目包汇总", "本批次没有项目需求 / no project demand in this batch")]
        )
    # A demand line is unmet if any of it is, else late if any of it is (as the KPIs count).
    outcome: dict[tuple[str, str, str], int] = {}
    cost: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        package = packages.get(row["project_id"]) or NO_PACKAGE_ZH
        line = (package, row["project_id"], row["demand"])
        rank = 2 if row["kind"] == "unmet" else 1 if row["late_days"] > 0 else 0
        outcome[line] = max(outcome.get(line, 0), rank)
        if row["kind"] != "unmet":
            cost[package, row["project_id"]][row["kind"]] += row["amount"] or Decimal(0)

    def table(by_project: bool) -> Sheet:
        def group(package: str, project: str) -> tuple[str, ...]:
            return (package, project) if by_project else (package,)

        counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
        for (package, project, _), rank in outcome.items():
            counts[group(package, project)][rank] += 1
        spent: dict[tuple[str, ...], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for (package, project), amounts in cost.items():
            for kind, amount in amounts.items():
                spent[group(package, project)][kind] += amount
        return Sheet(
            name="项目明细" if by_project else "项目包汇总",
            columns=[
                Column("项目包编号"),
                *([Column("项目编号")] if by_project else []),
                Column("需求行数", "int", total=True),
                *(Column(OUTCOME_ZH[o], "int", total=True) for o in OUTCOMES),
                *(Column(f"{KIND_ZH[k]}(元)", "money", total=True) for k in SPEND_KINDS),
                Column("本次计划金额(元)", "money", total=True),
            ],
            rows=[
                [
                    *key,
                    sum(counts[key]),
                    *counts[key],
                    *(spent[key][k] for k in SPEND_KINDS),
                    sum(spent[key].values(), Decimal(0)),
                ]
                for key in sorted(counts)
            ],
            totals=True,
        )

    return write_xlsx([table(False), table(True)])


# Each export on its own, from plan lines (`PLAN_COLUMNS`, any kind): a run writes them all at
# once (`write_exports`), going over its lines once.


def agreement_requirements(lines: Iterable[Row], batch_id: str, city: str = "") -> bytes:
    """协议库存需求计划 of `lines` (their agreement lines): see `_agreement_requirements`."""
    return _agreement_requirements(split_lines(lines).agreement, batch_id, city)


def issue_list(lines: Iterable[Row], warehouse_names: Mapping[str, str]) -> bytes:
    """出库清单 of `lines`: their reserve and consignment, one sheet per warehouse."""
    return _issue_list(split_lines(lines).stock, warehouse_names)


def emergency_list(lines: Iterable[Row]) -> bytes:
    """紧急采购清单 of `lines`: their emergency procurement, with its causes."""
    return _emergency_list(split_lines(lines).emergency)


def late_and_unmet(lines: Iterable[Row]) -> bytes:
    """延迟与未满足清单 of `lines`: those late or unmet, with their reasons."""
    return _late_and_unmet(split_lines(lines).late_or_unmet)


def replenishment_list(lines: Iterable[Row]) -> bytes:
    """补库清单 of `lines`: their reserve replenishment."""
    return _replenishment_list(split_lines(lines).replenishment)


def package_summary(lines: Iterable[Row], packages: Mapping[str, str | None]) -> bytes:
    """项目包汇总 of `lines` (their projects' lines), `packages` mapping project → package."""
    return _package_summary(split_lines(lines).projects, packages)


def _nothing(name: str, note: str) -> Sheet:
    return Sheet(name=name, columns=[Column("说明")], rows=[[note]])


def write_exports(
    directory: Path,
    lines: Sequence[Row],
    *,
    batch_id: str,
    warehouse_names: Mapping[str, str],
    packages: Mapping[str, str | None] | None = None,
    promised: Sequence[Row] = (),
    city: str = "",
) -> dict[str, Path]:
    """Write every export of a run into `directory`; return them by name.

    `packages` maps each project to its package, for the per-package summary. `promised` are
    rows of agreement and emergency supply urgent requests promised in this batch: they go to
    the province and to procurement with the plan's own (the requirement plan, the emergency
    list), but they are not this plan's lines, so the other exports leave them out.
    """
    rows = split_lines(lines, promised)
    contents = {
        "agreement_requirements": _agreement_requirements(rows.agreement, batch_id, city),
        "issue_list": _issue_list(rows.stock, warehouse_names),
        "emergency": _emergency_list(rows.emergency),
        "late_unmet": _late_and_unmet(rows.late_or_unmet),
        "replenishment": _replenishment_list(rows.replenishment),
        "packages": _package_summary(rows.projects, packages or {}),
    }
    paths = {}
    for name, content in contents.items():
        path = directory / f"{batch_id}_{EXPORTS[name]}.xlsx"
        path.write_bytes(content)
        paths[name] = path
    return paths
