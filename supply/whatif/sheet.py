"""The workbook sheet 变更: one change a row, Chinese or English headers, the kind in Chinese or
as its code (docs/whatif.md). Read by the shared table reader (`supply.core.sheets.table`): every
bad row and column named. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from supply.core.errors import RowProblem
from supply.core.sheets.cells import CellError, fold, read_number, show
from supply.core.sheets.read import Sheet
from supply.core.sheets.table import Cell, Column, ParseResult, normalise_header, parse_table
from supply.whatif.changes import (
    KIND_ZH,
    ONE,
    SHEET_EN,
    SHEET_ZH,
    Located,
    validation_problems,
)


def _read_kind(value: object) -> str:
    text = normalise_header(fold(str(value)))
    for code, zh in KIND_ZH.items():
        if text in (normalise_header(code), normalise_header(zh)):
            return code
    raise CellError(
        f"类型 {show(value)} 无法识别，应为：" + "、".join(KIND_ZH.values()),
        f"unknown kind {show(value)!r}; one of: " + ", ".join(KIND_ZH),
    )


@dataclass(frozen=True, slots=True)
class ChangeSheet:
    """The sheet 变更: one change a row (a `supply.core.sheets.table.TableSpec`)."""

    sheet: str
    title_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def column(self, key: str) -> Column:
        """Return the column with field name `key`."""
        return next(c for c in self.columns if c.key == key)


SHEET = ChangeSheet(
    SHEET_ZH,
    "what-if changes",
    (
        Column("kind", "类型", "kind", Cell.TEXT, aliases=("变更类型",), reader=_read_kind),
        Column(
            "target",
            "对象",
            "target",
            Cell.TEXT,
            required=False,
            aliases=("供应商/协议行/仓库/起点", "object"),
        ),
        Column("material", "物料编码", "material", Cell.CODE, required=False, aliases=("物料",)),
        Column("to", "终点", "to", Cell.CODE, required=False, aliases=("目的地", "至")),
        Column("value", "数值", "value", Cell.TEXT, required=False, reader=read_number),
        Column("note", "说明", "note", Cell.TEXT, required=False, aliases=("备注",)),
    ),
    ("no key",),  # no field of that name: rows may repeat (a delay and another of the same)
)
# Which field of each kind a column gives, and the column a field's problem is named by.
_TARGET = {
    "supplier_delay": "supplier",
    "agreement_expired": "agreement",
    "agreement_exhausted": "agreement",
    "stock_change": "warehouse",
    "quota_change": "warehouse",
    "warehouse_closed": "warehouse",
    "transport_days": "from",
}
_VALUE = {
    "supplier_delay": "days",
    "agreement_exhausted": "left",
    "stock_change": "quantity",
    "quota_change": "quota",
    "transport_days": "days",
}
_MATERIAL = {"supplier_delay", "stock_change", "quota_change"}
FIELD_COLUMN: Mapping[str, str] = {
    "supplier": "target",
    "agreement": "target",
    "warehouse": "target",
    "from": "target",
    "from_": "target",
    "material": "material",
    "to": "to",
    "days": "value",
    "left": "value",
    "quantity": "value",
    "quota": "value",
    "kind": "kind",
}


def column_of(field: str) -> Column | None:
    """The column of the sheet 变更 a change's field is written in."""
    key = FIELD_COLUMN.get(field)
    return SHEET.column(key) if key else None


def _limit(key: str) -> int | None:
    return {"target": 200, "material": 64, "to": 32, "note": 200}.get(key)


def read_change_sheet(sheet: Sheet) -> tuple[list[Located], list[RowProblem]]:
    """Read the sheet 变更 (one change a row): its valid changes, and every bad row and column
    named."""
    found: list[Located] = []

    def check(number: int, values: dict[str, Any], result: ParseResult) -> None:
        kind = values.get("kind")
        if kind is None:
            return
        if kind == "extra_projects":
            result.add(
                number,
                SHEET.column("kind"),
                "新增项目请写在同一工作簿的 项目、需求明细 表中（项目导入格式）",
                "extra projects go on the sheets 项目 and 需求明细 of the workbook (the projects "
                "import format)",
            )
            return
        unread = {p.column_en for p in result.problems if p.row == number}  # named already
        item: dict[str, Any] = {"kind": kind}
        target = _TARGET[kind]
        if "target" in values:
            item[target] = values["target"]
        elif "target" not in unread:
            result.add(number, SHEET.column("target"), "不能为空", "is required")
        if "material" in values:
            if kind in _MATERIAL:
                item["material"] = values["material"]
            else:
                result.add(
                    number,
                    SHEET.column("material"),
                    f"{KIND_ZH[kind]}不填物料",
                    f"a {kind} change takes no material",
                )
        if kind == "transport_days":
            if "to" in values:
                item["to"] = values["to"]
            elif "to" not in unread:
                result.add(number, SHEET.column("to"), "运输天数须填终点", "is required")
        elif "to" in values:
            result.add(
                number, SHEET.column("to"), "只有运输天数填终点", f"a {kind} change takes no to"
            )
        value = values.get("value")
        if kind in _VALUE and value is not None:
            if value != value.to_integral_value():
                result.add(number, SHEET.column("value"), "应为整数", "must be a whole number")
            else:
                item[_VALUE[kind]] = int(value)
        elif kind in _VALUE and kind != "agreement_exhausted" and "value" not in unread:
            result.add(number, SHEET.column("value"), "不能为空", "is required")
        elif kind not in _VALUE and value is not None:
            result.add(
                number,
                SHEET.column("value"),
                f"{KIND_ZH[kind]}不填数值",
                f"a {kind} change takes no value",
            )
        if any(p.row == number for p in result.problems):
            return
        try:
            change = ONE.validate_python(item)
        except ValidationError as exc:
            for problem in validation_problems(exc):
                column = column_of(problem.column_en.split(".")[0])
                result.add(number, column, problem.message_zh, problem.message_en)
            return
        found.append(Located(change, number, sheet=True))

    result = parse_table(SHEET, sheet, check, limits=_limit)
    problems = [
        RowProblem(p.row, p.column_zh, p.column_en, p.message_zh, p.message_en, SHEET_ZH, SHEET_EN)
        for p in result.problems
    ]
    bad = {p.row for p in problems}
    if None in bad or any(p.row == sheet.rows[0][0] for p in problems):
        return [], problems  # the file or its header: no row was read
    return [c for c in found if c.row not in bad], problems
