"""Reading the province's inputs: the cities' requirement plans, the provincial agreement catalog
and the transport days from each supplier's delivery site to each city.

Every file is read whole and every problem is kept, named by file, sheet, row and column
(`RowProblem.sheet_zh` carries "file · sheet"), so that the caller can refuse the lot before
anything is matched.

- A city's plan is exactly the 协议库存需求计划 its weekly run writes
  (`supply.weekly.export.agreement_requirements`): its 项目明细 sheet gives the lines, one per
  project line and requirement, with the city, voltage class and priority; 需求汇总 gives the batch.
- The agreement catalog is the `agreements` catalog import format (`catalogs.columns.SPECS`),
  province-wide: 交货地点 is the supplier's delivery site, not a city's warehouse. Quantities and
  prices are in the unit the row names (the first row of a material fixes its unit).
- Transport days (省内运输天数): 交货地点, 地市, 运输天数 — a file kind of the province's own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from catalogs.cells import read_voltage
from catalogs.columns import SPECS
from catalogs.models import CatalogKind
from catalogs.parse import MaterialRef, ParseContext, parse_sheet
from supply.core.errors import ImportRejected, RowProblem
from supply.core.sheets.cells import CellError, fold, show
from supply.core.sheets.read import Sheet, read_workbook
from supply.core.sheets.table import Cell, Column, ParseResult, parse_table

TOTALS_LABEL = "合计"  # the writer's totals row (supply.core.sheets.write)
DETAIL_SHEET = "项目明细"
SUMMARY_SHEET = "需求汇总"
TRANSPORT_SHEET = "运输天数"

# 优先级 as the requirement plan writes it → the city engine's weight (supply.projects.models).
PRIORITY_WEIGHTS = {"补库": 1, "一般": 2, "市级重点": 3, "省级重点": 4}
VOLTAGE_RANK = {"0.4kV": 0, "10kV": 1, "35kV": 2, "110kV": 3}


def read_priority(value: object) -> str:
    """Read 优先级: 一般, 市级重点, 省级重点 or 补库."""
    text = fold(str(value)).strip()
    if text not in PRIORITY_WEIGHTS:
        raise CellError(
            f"优先级 {show(value)} 应为 {'、'.join(PRIORITY_WEIGHTS)}",
            f"priority {show(value)!r} must be one of {', '.join(PRIORITY_WEIGHTS)}",
        )
    return text


@dataclass(frozen=True)
class _Table:
    """A table the province reads (the `TableSpec` protocol)."""

    sheet: str
    title_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


CITY_LINES = _Table(
    DETAIL_SHEET,
    "requirement plan lines",
    (
        Column("city", "地市", "city", Cell.TEXT),
        Column("material_code", "物料编码", "material_code", Cell.CODE),
        Column("warehouse_id", "交货仓库", "delivery_warehouse", Cell.CODE),
        Column("project_id", "项目编号", "project_id", Cell.CODE, required=False),
        Column("project_name", "项目名称", "project_name", Cell.TEXT, required=False),
        Column("voltage_class", "电压等级", "voltage_class", Cell.TEXT, reader=read_voltage),
        Column("priority", "优先级", "priority", Cell.TEXT, reader=read_priority),
        Column("demand", "需求行", "demand", Cell.CODE),
        Column("quantity", "数量", "quantity", Cell.QUANTITY),
        Column("need_by", "需到货日期", "need_by", Cell.DATE),
    ),
    # No key: a line served by two agreement lines in the city's plan is on two rows (they are
    # added up), and a key that is never read is never repeated.
    ("_none",),
)
CITY_SUMMARY = _Table(
    SUMMARY_SHEET,
    "requirement plan summary",
    (
        Column("batch", "批次", "batch", Cell.CODE),
        Column("city", "地市", "city", Cell.TEXT),
        Column("material_code", "物料编码", "material_code", Cell.CODE),
        Column("unit", "单位", "unit", Cell.TEXT, required=False),
        Column("warehouse_id", "交货仓库", "delivery_warehouse", Cell.CODE),
        Column("quantity", "需求数量", "quantity", Cell.QUANTITY),
    ),
    ("material_code", "warehouse_id"),
)
TRANSPORT = _Table(
    TRANSPORT_SHEET,
    "transport days to the cities",
    (
        Column("site", "交货地点", "delivery_site", Cell.CODE, aliases=("供应商交货地点",)),
        Column("city", "地市", "city", Cell.TEXT, aliases=("地市公司",)),
        Column("days", "运输天数", "days", Cell.INTEGER, aliases=("天数",)),
    ),
    ("site", "city"),
)


@dataclass(frozen=True)
class CityLine:
    """A project line (or replenishment requirement) of a city's plan."""

    city: str
    row: int
    demand: str
    project_id: str
    project_name: str
    material: str
    warehouse: str
    quantity: int
    need_by: date
    voltage_class: str
    priority: str

    @property
    def weight(self) -> int:
        """Priority first, the voltage class between equal priorities (docs/province.md)."""
        return 4 * PRIORITY_WEIGHTS[self.priority] + VOLTAGE_RANK[self.voltage_class]


@dataclass(frozen=True)
class CityPlan:
    city: str
    file_name: str
    lines: list[CityLine]
    units: dict[str, str] = field(default_factory=dict)  # material → unit, as the city wrote it


@dataclass(frozen=True)
class ProvinceAgreement:
    """A provincial agreement line, quantities and prices in its material's unit."""

    agreement_no: str
    line_no: int
    tender: str
    supplier: str
    material: str
    unit: str
    unit_price: Decimal
    estimated: int
    band_low_pct: int
    band_high_pct: int
    ordered: int
    valid_from: date
    valid_to: date
    lead_days: int
    site: str

    @property
    def key(self) -> str:
        return f"{self.agreement_no}/{self.line_no}"

    @property
    def upper(self) -> int:
        """The most the line may deliver: estimate × upper band, whole units down."""
        return self.estimated * self.band_high_pct // 100

    @property
    def lower(self) -> int:
        """What the line should reach: estimate × lower band, whole units up."""
        return -(-self.estimated * self.band_low_pct // 100)


def _where(file_name: str, sheet: str) -> tuple[str, str]:
    return f"{file_name} · {sheet}", f"{file_name} · {sheet}"


def _located(problems: list[RowProblem], file_name: str, sheet: str) -> list[RowProblem]:
    zh, en = _where(file_name, sheet)
    return [replace(p, sheet_zh=zh, sheet_en=en) for p in problems]


def _file_problem(file_name: str, sheet: str, zh: str, en: str) -> RowProblem:
    where_zh, where_en = _where(file_name, sheet)
    return RowProblem(None, "", "", zh, en, sheet_zh=where_zh, sheet_en=where_en)


def _sheets(content: bytes, file_name: str, problems: list[RowProblem]) -> dict[str, Sheet]:
    try:
        return {sheet.name: sheet for sheet in read_workbook(content, file_name)}
    except ImportRejected as rejected:
        problems += _located(rejected.problems, file_name, "")
        return {}


def _without_totals(sheet: Sheet) -> Sheet:
    """The sheet without the writer's totals row (合计, its sums are formulas)."""
    rows = [
        (n, cells)
        for n, cells in sheet.rows
        if not (cells and isinstance(cells[0], str) and cells[0].startswith(TOTALS_LABEL))
    ]
    return Sheet(rows=rows, name=sheet.name)


def _table(
    spec: _Table,
    sheets: dict[str, Sheet],
    file_name: str,
    problems: list[RowProblem],
    check: Any = None,
) -> ParseResult | None:
    sheet = sheets.get(spec.sheet) or (next(iter(sheets.values())) if len(sheets) == 1 else None)
    if sheet is None:
        problems.append(
            _file_problem(
                file_name,
                spec.sheet,
                f"缺少工作表 {spec.sheet}",
                f"the sheet {spec.sheet} ({spec.title_en}) is missing",
            )
        )
        return None
    result = parse_table(
        spec,
        _without_totals(sheet),
        check or (lambda number, values, result: None),
        limits=lambda key: 200,
    )
    problems += _located(result.problems, file_name, spec.sheet)
    return None if result.problems else result


def read_city_plan(
    content: bytes, file_name: str, *, batch_id: str, problems: list[RowProblem]
) -> CityPlan | None:
    """Read a city's 协议库存需求计划; add every problem to `problems` (None if any)."""
    before = len(problems)
    sheets = _sheets(content, file_name, problems)
    if not sheets:
        return None
    summary = _table(CITY_SUMMARY, sheets, file_name, problems)
    detail = _table(CITY_LINES, sheets, file_name, problems)
    if summary is None or detail is None:
        return None
    cities = {r.values["city"] for r in summary.rows} | {r.values["city"] for r in detail.rows}
    here = _where(file_name, DETAIL_SHEET)

    def problem(row: int | None, column: str, zh: str, en: str, sheet: str = DETAIL_SHEET) -> None:
        c = (CITY_LINES if sheet == DETAIL_SHEET else CITY_SUMMARY).column(column)
        where = _where(file_name, sheet)
        problems.append(RowProblem(row, c.zh, c.en, zh, en, sheet_zh=where[0], sheet_en=where[1]))

    if len(cities) != 1:
        named = "、".join(sorted(cities)) or "(无)"
        problems.append(
            RowProblem(
                None, "地市", "city",
                f"一个文件应只含一个地市的计划，此文件有：{named}",
                f"a file holds one city's plan; this one names: {named}",
                sheet_zh=here[0], sheet_en=here[1],
            )
        )  # fmt: skip
    for r in summary.rows:
        if r.values["batch"] != batch_id:
            problem(
                r.row,
                "batch",
                f"批次 {r.values['batch']} 不是 {batch_id}",
                f"batch {r.values['batch']} is not {batch_id}",
                SUMMARY_SHEET,
            )
    merged: dict[tuple[Any, ...], CityLine] = {}
    detail_total: dict[tuple[str, str], int] = defaultdict(int)
    for r in detail.rows:
        v = r.values
        if v["quantity"] <= 0:
            problem(r.row, "quantity", "须大于 0", "must be more than 0")
            continue
        if v["priority"] != "补库" and not v.get("project_id"):
            problem(r.row, "project_id", "项目行须有项目编号", "a project line needs its project")
            continue
        detail_total[v["material_code"], v["warehouse_id"]] += int(v["quantity"])
        same = (v["demand"], v["material_code"], v["warehouse_id"], v["need_by"],
                v["voltage_class"], v["priority"], v.get("project_id", ""))  # fmt: skip
        if same in merged:  # the line's rest, on another agreement line in the city's plan
            first = merged[same]
            merged[same] = replace(first, quantity=first.quantity + int(v["quantity"]))
            continue
        merged[same] = CityLine(
            city=v["city"], row=r.row, demand=v["demand"],
            project_id=v.get("project_id", ""), project_name=v.get("project_name", ""),
            material=v["material_code"], warehouse=v["warehouse_id"],
            quantity=int(v["quantity"]), need_by=v["need_by"],
            voltage_class=v["voltage_class"], priority=v["priority"],
        )  # fmt: skip
    lines = list(merged.values())
    for r in summary.rows:
        key = (r.values["material_code"], r.values["warehouse_id"])
        if detail_total.get(key, 0) != int(r.values["quantity"]):
            problem(
                r.row,
                "quantity",
                f"需求数量 {r.values['quantity']} 与项目明细合计 {detail_total.get(key, 0)} 不符",
                f"{r.values['quantity']} required, but the lines of {DETAIL_SHEET} add up to "
                f"{detail_total.get(key, 0)}",
                SUMMARY_SHEET,
            )
    if len(problems) > before:
        return None
    units = {r.values["material_code"]: r.values.get("unit", "") for r in summary.rows}
    return CityPlan(city=next(iter(cities)), file_name=file_name, lines=lines, units=units)


def read_agreements(
    content: bytes, file_name: str, *, problems: list[RowProblem]
) -> list[ProvinceAgreement]:
    """Read the provincial agreement catalog (the `agreements` import format).

    The province keeps no material master: each row names its unit (a material's base unit is
    that of its units), its delivery site and its supplier's lead time."""
    spec = SPECS[CatalogKind.AGREEMENTS]
    sheets = _sheets(content, file_name, problems)
    if not sheets:
        return []
    sheet = _without_totals(sheets.get(spec.sheet) or next(iter(sheets.values())))
    where = _where(file_name, spec.sheet)
    # First pass: the cells as read, for what a city catalog takes from its master.
    cells = parse_table(spec, sheet, lambda number, values, result: None, limits=lambda k: 200)
    units: dict[str, str] = {}
    sites: set[str] = set()
    before = len(problems)
    for r in cells.rows:
        for key in ("unit", "lead_days", "delivery_warehouse_id"):
            if r.values.get(key) is None:
                c = spec.column(key)
                problems.append(
                    RowProblem(
                        r.row, c.zh, c.en, "省公司协议目录须填写此列",
                        "the provincial catalog needs it in every row", *where,
                    )
                )  # fmt: skip
        if r.values.get("unit") is not None and r.values.get("material_code"):
            units.setdefault(r.values["material_code"], r.values["unit"].base)
        if r.values.get("delivery_warehouse_id"):
            sites.add(r.values["delivery_warehouse_id"])
    context = ParseContext(
        materials={code: MaterialRef(unit=unit) for code, unit in units.items()},
        warehouses=frozenset(sites),
    )
    result = parse_sheet(CatalogKind.AGREEMENTS, sheet, context)
    problems += _located(result.problems, file_name, spec.sheet)
    if len(problems) > before:
        return []
    return [
        ProvinceAgreement(
            agreement_no=v["agreement_no"], line_no=v["line_no"], tender=v["tender"],
            supplier=v["supplier"], material=v["material_code"],
            unit=units[v["material_code"]], unit_price=v["unit_price"],
            estimated=int(v["estimated_quantity"]), band_low_pct=v["band_low_pct"],
            band_high_pct=v["band_high_pct"], ordered=int(v["ordered_quantity"]),
            valid_from=v["valid_from"], valid_to=v["valid_to"], lead_days=v["lead_days"],
            site=v["delivery_warehouse_id"],
        )
        for v in (r.values for r in result.rows)
    ]  # fmt: skip


def read_transport(
    content: bytes, file_name: str, *, problems: list[RowProblem]
) -> dict[tuple[str, str], int]:
    """Read the transport days: (delivery site, city) → days."""
    sheets = _sheets(content, file_name, problems)
    if not sheets:
        return {}
    result = _table(TRANSPORT, sheets, file_name, problems)
    if result is None:
        return {}
    days = {}
    for r in result.rows:
        if r.values["days"] > 60:
            where = _where(file_name, TRANSPORT_SHEET)
            problems.append(
                RowProblem(r.row, "运输天数", "days", "不能超过 60 天", "must be at most 60 days",
                           *where)
            )  # fmt: skip
            continue
        days[r.values["site"], r.values["city"]] = r.values["days"]
    return days
