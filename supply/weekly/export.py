"""The weekly run's Excel exports, with Chinese headers (planners and the province read them).

Every export is built from one table of plan lines (`PLAN_COLUMNS`), so they always agree:

- 协议库存需求计划: the agreement-stock requirement plan for the province, one row per material
  and delivery warehouse, with the project lines behind each row on a second sheet;
- 出库清单: what leaves each warehouse (reserve and consignment), one sheet per warehouse;
- 紧急采购清单: the emergency-procurement list;
- 延迟与未满足清单: the late and unmet lines with their reasons;
- 补库清单: reserve replenishment, with the source planned for it;
- 项目包汇总: per project package, its lines on time, late and unmet and the cost the plan
  takes from its budget by source, with the projects behind each package.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import xlsxwriter

PLAN_COLUMNS = [
    "kind", "demand", "project_id", "project_name", "project_type", "material", "material_name",
    "unit", "quantity", "source_id", "warehouse_id", "warehouse_name", "supplier", "unit_cost",
    "arrival", "need_by", "late_days", "reason", "replenish_warehouse_id",
]  # fmt: skip

KIND_ZH = {
    "reserve": "实物储备",
    "consignment": "供应商寄存",
    "agreement": "协议库存",
    "emergency": "紧急采购",
    "unmet": "未满足",
}
EXPORTS = {
    "agreement_requirements": "协议库存需求计划",
    "issue_list": "出库清单",
    "emergency": "紧急采购清单",
    "late_unmet": "延迟与未满足清单",
    "replenishment": "补库清单",
    "packages": "项目包汇总",
}
NO_PACKAGE_ZH = "(无项目包)"

_DETAIL = {
    "project_id": "项目编号",
    "project_name": "项目名称",
    "project_type": "工程类型",
    "material": "物料编码",
    "material_name": "物料名称",
    "unit": "单位",
    "quantity": "数量",
    "need_by": "需到货日期",
    "arrival": "预计到货日期",
    "late_days": "延迟天数",
}


def workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Write frames as sheets: a bold frozen header, real dates, columns sized to their text.

    Written with xlsxwriter row by row: several times faster than pandas' cell-by-cell writer.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "default_date_format": "yyyy-mm-dd"})
    bold = book.add_format({"bold": True})
    for name, frame in sheets.items():
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
        sheet.freeze_panes(1, 0)
        cells = frame.astype(object).where(frame.notna(), None)
        for row, values in enumerate(cells.itertuples(index=False), start=1):
            sheet.write_row(row, 0, values)
        for position, column in enumerate(frame.columns):
            # Wide enough for the header and the first rows (CJK characters count double).
            sample = [str(column), *(str(v) for v in frame[column].head(200))]
            width = max(len(text.encode("gbk", "replace")) for text in sample)
            sheet.set_column(position, position, min(60, max(8, width + 2)))
    book.close()
    return buffer.getvalue()


def _amount(frame: pd.DataFrame) -> pd.Series:
    return (frame["unit_cost"].astype(float) * frame["quantity"]).round(2)


def agreement_requirements(lines: pd.DataFrame, batch_id: str) -> bytes:
    """协议库存需求计划: per material and delivery warehouse, with the lines behind each row."""
    agreement = lines[lines["kind"] == "agreement"].copy()
    agreement["amount"] = _amount(agreement)
    summary = (
        agreement.groupby(
            ["material", "material_name", "unit", "warehouse_id", "warehouse_name"], as_index=False
        )
        .agg(
            quantity=("quantity", "sum"),
            earliest_need_by=("need_by", "min"),
            lines=("demand", "count"),
            amount=("amount", "sum"),
        )
        .sort_values(["material", "warehouse_id"])
    )
    summary.insert(0, "batch", batch_id)
    summary = summary.rename(columns={
        "batch": "批次", "material": "物料编码", "material_name": "物料名称", "unit": "单位",
        "warehouse_id": "交货仓库", "warehouse_name": "交货仓库名称", "quantity": "需求数量",
        "earliest_need_by": "最早需到货日期", "lines": "需求行数", "amount": "参考金额(元)",
    })  # fmt: skip
    detail = agreement.sort_values(["material", "warehouse_id", "need_by", "demand"])
    detail = detail[
        [
            "material",
            "warehouse_id",
            "project_id",
            "project_name",
            "project_type",
            "demand",
            "quantity",
            "need_by",
            "source_id",
            "supplier",
            "unit_cost",
            "arrival",
            "late_days",
        ]
    ]
    detail = detail.rename(columns={
        **_DETAIL, "warehouse_id": "交货仓库", "demand": "需求行", "source_id": "参考协议行",
        "supplier": "参考供应商", "unit_cost": "参考单价(元)",
    })  # fmt: skip
    return workbook({"需求汇总": summary, "项目明细": detail})


def issue_list(lines: pd.DataFrame, warehouse_names: dict[str, str]) -> bytes:
    """出库清单: reserve and consignment leaving each warehouse, one sheet per warehouse."""
    stock = lines[lines["kind"].isin(["reserve", "consignment"])].copy()
    stock["source"] = stock["kind"].map(KIND_ZH)
    sheets = {}
    for warehouse, rows in sorted(stock.groupby("warehouse_id"), key=lambda item: str(item[0])):
        rows = rows.sort_values(["need_by", "project_id", "material"])
        frame = rows[
            [
                "project_id",
                "project_name",
                "material",
                "material_name",
                "unit",
                "quantity",
                "source",
                "supplier",
                "need_by",
                "arrival",
            ]
        ]
        frame = frame.rename(columns={**_DETAIL, "source": "来源", "supplier": "供应商(寄存)"})
        sheets[f"{warehouse} {warehouse_names.get(str(warehouse), '')}".strip()] = frame
    if not sheets:
        sheets["无出库 none"] = pd.DataFrame(
            {"说明": ["本批次没有出库 / nothing leaves a warehouse"]}
        )
    return workbook(sheets)


def emergency_list(lines: pd.DataFrame) -> bytes:
    """紧急采购清单: what must be bought outside agreements, per line, with its dates."""
    rows = lines[lines["kind"] == "emergency"].copy()
    rows["amount"] = _amount(rows)
    rows = rows.sort_values(["need_by", "material", "demand"])
    frame = rows[
        [
            "project_id",
            "project_name",
            "project_type",
            "material",
            "material_name",
            "unit",
            "quantity",
            "unit_cost",
            "amount",
            "need_by",
            "arrival",
            "late_days",
        ]
    ]
    return workbook(
        {
            "紧急采购": frame.rename(
                columns={**_DETAIL, "unit_cost": "估算单价(元)", "amount": "估算金额(元)"}
            )
        }
    )


def late_and_unmet(lines: pd.DataFrame) -> bytes:
    """延迟与未满足清单: every late or unmet line with the reason (R8)."""
    rows = lines[(lines["kind"] == "unmet") | (lines["late_days"] > 0)].copy()
    rows["outcome"] = rows["kind"].map(lambda k: "未满足 unmet" if k == "unmet" else "延迟 late")
    rows["source"] = rows["kind"].map(KIND_ZH)
    rows = rows.sort_values(["need_by", "demand", "kind"])
    frame = rows[
        [
            "outcome",
            "project_id",
            "project_name",
            "project_type",
            "material",
            "material_name",
            "quantity",
            "source",
            "need_by",
            "arrival",
            "late_days",
            "reason",
        ]
    ]
    return workbook(
        {
            "延迟与未满足": frame.rename(
                columns={**_DETAIL, "outcome": "情况", "source": "来源", "reason": "原因 / reason"}
            )
        }
    )


def replenishment_list(lines: pd.DataFrame) -> bytes:
    """补库清单: reserve below quota and the source planned to refill it."""
    rows = lines[lines["replenish_warehouse_id"].notna()].copy()
    rows["source"] = rows["kind"].map(KIND_ZH)
    rows = rows.sort_values(["replenish_warehouse_id", "material", "kind"])
    frame = rows[
        [
            "replenish_warehouse_id",
            "material",
            "material_name",
            "unit",
            "quantity",
            "source",
            "source_id",
            "supplier",
            "need_by",
            "arrival",
            "reason",
        ]
    ]
    return workbook(
        {
            "补库": frame.rename(
                columns={
                    **_DETAIL,
                    "replenish_warehouse_id": "补库仓库",
                    "source": "来源",
                    "source_id": "来源编号",
                    "supplier": "供应商",
                    "reason": "说明",
                }
            )
        }
    )


def package_summary(lines: pd.DataFrame, packages: Mapping[str, str | None]) -> bytes:
    """项目包汇总: per package (`packages` maps project → package), lines on time, late and
    unmet and the planned cost by source; then per package and project."""
    rows = lines[lines["project_id"] != ""].copy()
    rows["package"] = rows["project_id"].map(lambda p: packages.get(p) or NO_PACKAGE_ZH)
    rows["amount"] = _amount(rows).where(rows["kind"] != "unmet", 0.0)
    per_line = rows.groupby(["package", "project_id", "demand"], as_index=False).agg(
        unmet=("kind", lambda kinds: bool((kinds == "unmet").any())),
        late=("late_days", lambda days: bool((days > 0).any())),
    )
    per_line["outcome"] = per_line.apply(
        lambda r: "unmet" if r["unmet"] else ("late" if r["late"] else "on_time"), axis=1
    )
    kinds = [k for k in KIND_ZH if k != "unmet"]

    def table(keys: list[str]) -> pd.DataFrame:
        counts = (
            per_line.groupby([*keys, "outcome"]).size().unstack(fill_value=0)
            .reindex(columns=["on_time", "late", "unmet"], fill_value=0)
        )  # fmt: skip
        counts.insert(0, "lines", counts.sum(axis=1))
        cost = (
            rows.groupby([*keys, "kind"])["amount"].sum().unstack(fill_value=0.0)
            .reindex(columns=kinds, fill_value=0.0)
        )  # fmt: skip
        cost["total"] = cost.sum(axis=1)
        frame = counts.join(cost, how="left").fillna(0.0).reset_index()
        for column in [*kinds, "total"]:
            frame[column] = frame[column].astype(float).round(2)
        return frame.rename(
            columns={
                "package": "项目包编号",
                "project_id": "项目编号",
                "lines": "需求行数",
                "on_time": "按时",
                "late": "延迟",
                "unmet": "未满足",
                **{k: f"{KIND_ZH[k]}(元)" for k in kinds},
                "total": "本次计划金额(元)",
            }
        )

    if rows.empty:
        empty = pd.DataFrame({"说明": ["本批次没有项目需求 / no project demand in this batch"]})
        return workbook({"项目包汇总": empty})
    return workbook(
        {"项目包汇总": table(["package"]), "项目明细": table(["package", "project_id"])}
    )


def write_exports(
    directory: Path,
    lines: pd.DataFrame,
    *,
    batch_id: str,
    warehouse_names: dict[str, str],
    packages: Mapping[str, str | None] | None = None,
    promised: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write every export of a run into `directory`; return them by name.

    `packages` maps each project to its package, for the per-package summary. `promised` are
    rows of agreement and emergency supply urgent requests promised in this batch: they go to
    the province and to procurement with the plan's own (the requirement plan, the emergency
    list), but they are not this plan's lines, so the other exports leave them out.
    """
    procured = lines if promised is None else pd.concat([lines, promised], ignore_index=True)
    contents = {
        "agreement_requirements": agreement_requirements(procured, batch_id),
        "issue_list": issue_list(lines, warehouse_names),
        "emergency": emergency_list(procured),
        "late_unmet": late_and_unmet(lines),
        "replenishment": replenishment_list(lines),
        "packages": package_summary(lines, packages or {}),
    }
    paths = {}
    for name, content in contents.items():
        path = directory / f"{batch_id}_{EXPORTS[name]}.xlsx"
        path.write_bytes(content)
        paths[name] = path
    return paths
