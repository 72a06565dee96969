"""Validating a catalog file: every row, every column, every problem at once.

`parse_sheet(kind, sheet, context)` reads the file as the kind's table (`SPECS`, with the shared
`supply.core.sheets.table.parse_table`: headers in Chinese or English, each cell by its column),
converts quantities and prices to the material's base unit, checks references against `context`
(the materials and warehouses already known) and finds duplicates within the file. It returns the
rows ready to upsert, or every problem found; it never stops at the first. Pure: the caller loads
the context and writes the result.

`check_material` and `to_base_quantity` serve any file whose rows name a material in a unit (the
project workbook's demand lines use them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalogs.columns import SPECS
from catalogs.models import CatalogKind, text_limit
from supply.core.money import has_exact_places
from supply.core.sheets.cells import CellError, check_price, check_quantity
from supply.core.sheets.read import Sheet
from supply.core.sheets.table import ParseResult, TableSpec, parse_table
from supply.core.units import Unit, lookup_unit


@dataclass(frozen=True, slots=True)
class MaterialRef:
    """What validation needs to know about a material already in the master."""

    unit: str
    reserve_catalog: bool = False
    referenced: bool = False  # stock, quotas, agreements or consignment count in its unit
    typical_lead_days: int = 0


@dataclass(frozen=True, slots=True)
class ParseContext:
    """The reference data a file is checked against."""

    materials: Mapping[str, MaterialRef] = field(default_factory=dict)
    warehouses: frozenset[str] = frozenset()
    default_delivery_warehouse: str = "WH-CENTRAL"


def parse_sheet(kind: CatalogKind, sheet: Sheet, context: ParseContext) -> ParseResult:
    """Validate every row of `sheet` as a `kind` file; return the rows or every problem."""
    check = _CHECKS[kind]
    return parse_table(
        SPECS[kind],
        sheet,
        lambda number, values, result: check(number, values, context, result),
        limits=lambda key: text_limit(kind, key),
        finish=_check_single_year if kind is CatalogKind.QUOTAS else None,
    )


# ---------------------------------------------------------------- per-kind checks


def check_material(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult, spec: TableSpec
) -> tuple[str, Unit] | None:
    """Check the row's material exists; return its base unit and the row's unit (if compatible)."""
    column = spec.column("material_code")
    code = values.get("material_code")
    if code is None:
        return None
    ref = context.materials.get(code)
    if ref is None:
        result.add(
            number,
            column,
            f"物料编码 {code} 不在物料主数据中，请先导入物料",
            f"material {code} is not in the material master; import it first",
        )
        return None
    row_unit: Unit | None = values.pop("unit", None)
    if row_unit is None:
        row_unit = lookup_unit(ref.unit)
        assert row_unit is not None, f"stored unit {ref.unit} is a base unit"
    if row_unit.base != ref.unit:
        result.add(
            number,
            spec.column("unit"),
            f"单位 {row_unit.name} 与物料 {code} 的计量单位 {ref.unit} 不符",
            f"unit {row_unit.name} does not match material {code}, counted in {ref.unit}",
        )
        return None
    return ref.unit, row_unit


def to_base_quantity(
    number: int, values: dict[str, Any], key: str, unit: Unit, result: ParseResult, spec: TableSpec
) -> None:
    """Convert a quantity read in the row's unit to whole base units, or add a problem."""
    if key not in values:
        return
    amount: Decimal = values[key] * unit.factor
    if amount != amount.to_integral_value():
        given = f"{values[key].normalize():f} {unit.name}"
        if unit.name == unit.base:  # nothing was converted: say what was given
            zh, en = f"填写的是 {given}", f"{given} given"
        else:  # show the conversion that left a fraction
            zh = en = f"{given} = {amount.normalize():f} {unit.base}"
        result.add(
            number,
            spec.column(key),
            f"数量必须是 {unit.base} 的整数（{zh}）",
            f"must be a whole number of {unit.base} ({en})",
        )
        del values[key]
        return
    try:
        check_quantity(amount, unit.base)
    except CellError as problem:
        result.add(number, spec.column(key), problem.zh, problem.en)
        del values[key]
        return
    values[key] = int(amount)


def _to_base_price(
    number: int, values: dict[str, Any], key: str, unit: Unit, result: ParseResult, spec: TableSpec
) -> None:
    if key not in values:
        return
    price: Decimal = values[key] / unit.factor
    if not has_exact_places(price):
        result.add(
            number,
            spec.column(key),
            f"单价 {values[key]} 元/{unit.name} 换算后超过 6 位小数",
            f"price {values[key]} per {unit.name} needs more than 6 decimal places per {unit.base}",
        )
        del values[key]
        return
    try:
        check_price(price, unit.base)
    except CellError as problem:
        result.add(number, spec.column(key), problem.zh, problem.en)
        del values[key]
        return
    values[key] = price


def _warehouse(
    number: int,
    values: dict[str, Any],
    key: str,
    context: ParseContext,
    result: ParseResult,
    spec: TableSpec,
) -> None:
    warehouse = values.get(key)
    if warehouse is not None and warehouse not in context.warehouses:
        result.add(
            number,
            spec.column(key),
            f"仓库 {warehouse} 不存在，请先导入仓库",
            f"warehouse {warehouse} does not exist; import the warehouses first",
        )


def _check_materials(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    spec = SPECS[CatalogKind.MATERIALS]
    unit: Unit | None = values.pop("unit", None)
    if unit is not None:
        values["unit"] = unit.base
        _to_base_price(number, values, "standard_price", unit, result, spec)
    values.setdefault("name_en", "")
    values.setdefault("category", "")
    values.setdefault("reserve_catalog", False)
    values.setdefault("heavy", False)
    values.setdefault("typical_lead_days", 0)
    for key in ("typical_lead_days", "emergency_lead_days"):
        if values.get(key, 0) > 3650:
            result.add(number, spec.column(key), "不能超过 3650 天", "must be at most 3650 days")
    existing = context.materials.get(values.get("code", ""))
    if (
        unit is not None
        and existing is not None
        and existing.referenced
        and existing.unit != unit.base
    ):
        result.add(
            number,
            spec.column("unit"),
            f"物料 {values['code']} 已有库存、定额、协议或寄存按 {existing.unit} 计量，"
            f"不能改为 {unit.base}",
            f"material {values['code']} already has stock, quotas, agreements or consignment "
            "counted "
            f"in {existing.unit}; its unit cannot become {unit.base}",
        )


def _check_warehouses(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    pass


def _check_transport(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    spec = SPECS[CatalogKind.TRANSPORT]
    if values.get("days", 0) > 365:
        result.add(number, spec.column("days"), "不能超过 365 天", "must be at most 365 days")
    same = values.get("from_location", 1) == values.get("to_location", 2)
    if same and values.get("days", 0) != 0:
        result.add(
            number,
            spec.column("days"),
            "起点与终点相同，运输天数应为 0",
            "from and to are the same location, so the days must be 0",
        )


def _check_stock_like(
    kind: CatalogKind,
    number: int,
    values: dict[str, Any],
    context: ParseContext,
    result: ParseResult,
) -> Unit | None:
    spec = SPECS[kind]
    _warehouse(number, values, "warehouse_id", context, result, spec)
    found = check_material(number, values, context, result, spec)
    if found is None:
        values.pop("unit", None)
        return None
    _base, unit = found
    return unit


def _check_reserve(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    unit = _check_stock_like(CatalogKind.RESERVE, number, values, context, result)
    if unit is not None:
        to_base_quantity(number, values, "quantity", unit, result, SPECS[CatalogKind.RESERVE])


def _check_quotas(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    spec = SPECS[CatalogKind.QUOTAS]
    if "year" in values and not 2000 <= values["year"] <= 2100:
        result.add(
            number,
            spec.column("year"),
            f"年度 {values['year']} 不合理",
            f"year {values['year']} is not plausible",
        )
        del values["year"]
    unit = _check_stock_like(CatalogKind.QUOTAS, number, values, context, result)
    if unit is None:
        return
    to_base_quantity(number, values, "quantity", unit, result, spec)
    code = values["material_code"]
    if not context.materials[code].reserve_catalog:
        result.add(
            number,
            spec.column("material_code"),
            f"物料 {code} 未列入储备目录，请先在物料主数据中将“储备目录”设为 是",
            f"material {code} is not a reserve-catalog material; set reserve_catalog to yes in the "
            "material master first",
        )


def _check_single_year(result: ParseResult) -> None:
    years = sorted({row.values["year"] for row in result.rows if "year" in row.values})
    if len(years) > 1:
        first = {y: next(r.row for r in result.rows if r.values.get("year") == y) for y in years}
        for year in years[1:]:
            result.add(
                first[year],
                SPECS[CatalogKind.QUOTAS].column("year"),
                f"一个文件只能包含一个年度的定额（已有 {years[0]}，此处 {year}）",
                f"a file may hold one year's quotas only ({years[0]} above, {year} here)",
            )


def _check_agreements(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    spec = SPECS[CatalogKind.AGREEMENTS]
    values.setdefault("tender", "")
    values.setdefault("band_low_pct", 80)
    values.setdefault("band_high_pct", 120)
    values.setdefault("ordered_quantity", Decimal(0))
    values.setdefault("delivery_warehouse_id", context.default_delivery_warehouse)
    _warehouse(number, values, "delivery_warehouse_id", context, result, spec)
    if "line_no" in values and values["line_no"] < 1:
        result.add(number, spec.column("line_no"), "行号应从 1 开始", "line numbers start at 1")
    if not values["band_low_pct"] <= 100 <= values["band_high_pct"]:
        result.add(
            number,
            spec.column("band_high_pct"),
            f"执行区间 {values['band_low_pct']}%–{values['band_high_pct']}% 应包含 100%",
            f"the execution band {values['band_low_pct']}–{values['band_high_pct']} % "
            "must contain 100 %",
        )
    if (
        "valid_from" in values
        and "valid_to" in values
        and values["valid_from"] > values["valid_to"]
    ):
        result.add(
            number,
            spec.column("valid_to"),
            f"有效期止 {values['valid_to']} 早于有效期起 {values['valid_from']}",
            f"valid_to {values['valid_to']} is before valid_from {values['valid_from']}",
        )
    if values.get("lead_days", 0) > 3650:
        result.add(
            number, spec.column("lead_days"), "不能超过 3650 天", "must be at most 3650 days"
        )
    found = check_material(number, values, context, result, spec)
    if found is None:
        return
    _base, unit = found
    values.setdefault("lead_days", context.materials[values["material_code"]].typical_lead_days)
    for key in ("estimated_quantity", "ordered_quantity"):
        to_base_quantity(number, values, key, unit, result, spec)
    _to_base_price(number, values, "unit_price", unit, result, spec)


def _check_consignment(
    number: int, values: dict[str, Any], context: ParseContext, result: ParseResult
) -> None:
    spec = SPECS[CatalogKind.CONSIGNMENT]
    unit = _check_stock_like(CatalogKind.CONSIGNMENT, number, values, context, result)
    if unit is not None:
        to_base_quantity(number, values, "quantity", unit, result, spec)
        _to_base_price(number, values, "issue_price", unit, result, spec)


_CHECKS: dict[CatalogKind, Callable[[int, dict[str, Any], ParseContext, ParseResult], None]] = {
    CatalogKind.MATERIALS: _check_materials,
    CatalogKind.WAREHOUSES: _check_warehouses,
    CatalogKind.TRANSPORT: _check_transport,
    CatalogKind.RESERVE: _check_reserve,
    CatalogKind.QUOTAS: _check_quotas,
    CatalogKind.AGREEMENTS: _check_agreements,
    CatalogKind.CONSIGNMENT: _check_consignment,
}
