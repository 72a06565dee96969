"""The catalog file formats: for each kind of catalog, its columns with Chinese and English headers.

`SPECS` holds a `KindSpec` (a `supply.core.sheets.table.TableSpec`) per catalog kind; the
columns several kinds share (a material, a warehouse, a row's unit, a supplier) are named here for
other formats to reuse. Headers are matched, cells read and files written by the shared table
machinery (`supply.core.sheets.table`, `catalogs.export`); voltage classes and warehouse levels
are read by `catalogs.cells`.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalogs.cells import level_name, read_level, read_voltage
from catalogs.models import CatalogKind
from supply.core.sheets.table import Cell, Column


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A kind of catalog file: its sheet name, columns, and the columns that identify a row."""

    kind: CatalogKind
    sheet: str
    title_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def column(self, key: str) -> Column:
        """Return the column with field name `key`."""
        return next(c for c in self.columns if c.key == key)


MATERIAL = Column(
    "material_code",
    "物料编码",
    "material_code",
    Cell.CODE,
    aliases=("物资编码", "物料代码", "code"),
)
MATERIAL_NAME = Column(
    "material_name", "物料名称", "material_name", Cell.TEXT, required=False, info=True
)
WAREHOUSE = Column(
    "warehouse_id", "仓库编码", "warehouse_id", Cell.CODE, aliases=("仓库", "warehouse", "库房编码")
)
ROW_UNIT = Column("unit", "单位", "unit", Cell.UNIT, required=False, aliases=("计量单位", "uom"))
SUPPLIER = Column("supplier", "供应商", "supplier", Cell.TEXT, aliases=("供应商名称", "vendor"))

SPECS: dict[CatalogKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            CatalogKind.MATERIALS,
            "物料",
            "materials",
            (
                Column(
                    "code", "物料编码", "material_code", Cell.CODE, aliases=("物资编码", "code")
                ),
                Column("name_zh", "物料名称", "name_zh", Cell.TEXT, aliases=("物资名称", "名称")),
                Column("name_en", "英文名称", "name_en", Cell.TEXT, required=False),
                Column("unit", "计量单位", "unit", Cell.UNIT, aliases=("单位", "uom")),
                Column(
                    "voltage_class", "电压等级", "voltage_class", Cell.TEXT, reader=read_voltage
                ),
                Column(
                    "category", "物资类别", "category", Cell.TEXT, required=False, aliases=("类别",)
                ),
                Column(
                    "standard_price",
                    "标准单价",
                    "standard_price",
                    Cell.MONEY,
                    aliases=("单价", "unit_price", "price"),
                ),
                Column(
                    "reserve_catalog",
                    "储备目录",
                    "reserve_catalog",
                    Cell.BOOL,
                    required=False,
                    aliases=("是否储备", "in_reserve_catalog"),
                ),
                Column("heavy", "重型设备", "heavy", Cell.BOOL, required=False, aliases=("重型",)),
                Column(
                    "typical_lead_days",
                    "典型供货周期(天)",
                    "typical_lead_days",
                    Cell.INTEGER,
                    required=False,
                    aliases=("供货周期", "supplier_lead_time_days", "lead_days"),
                ),
                Column(
                    "emergency_lead_days", "紧急采购周期(天)", "emergency_lead_days", Cell.INTEGER
                ),
                Column(
                    "emergency_premium_pct",
                    "紧急采购溢价(%)",
                    "emergency_premium_pct",
                    Cell.PERCENT,
                    aliases=("紧急溢价", "emergency_premium"),
                ),
            ),
            ("code",),
        ),
        KindSpec(
            CatalogKind.WAREHOUSES,
            "仓库",
            "warehouses",
            (
                Column("id", "仓库编码", "warehouse_id", Cell.CODE, aliases=("仓库", "id")),
                Column("name", "仓库名称", "name", Cell.TEXT, aliases=("名称",)),
                Column(
                    "level",
                    "仓库级别",
                    "level",
                    Cell.TEXT,
                    aliases=("级别",),
                    reader=read_level,
                    writer=level_name,
                ),
                Column(
                    "location",
                    "所在地点",
                    "location",
                    Cell.LOCATION,
                    aliases=("地点", "location_id"),
                ),
            ),
            ("id",),
        ),
        KindSpec(
            CatalogKind.TRANSPORT,
            "运输天数",
            "transport",
            (
                Column(
                    "from_location",
                    "起点",
                    "from_location",
                    Cell.LOCATION,
                    aliases=("from", "起点地点"),
                ),
                Column(
                    "to_location", "终点", "to_location", Cell.LOCATION, aliases=("to", "终点地点")
                ),
                Column(
                    "days", "运输天数", "days", Cell.INTEGER, aliases=("天数", "transport_days")
                ),
            ),
            ("from_location", "to_location"),
        ),
        KindSpec(
            CatalogKind.RESERVE,
            "实物库存",
            "reserve stock",
            (
                WAREHOUSE,
                MATERIAL,
                MATERIAL_NAME,
                ROW_UNIT,
                Column(
                    "quantity",
                    "库存数量",
                    "quantity",
                    Cell.QUANTITY,
                    aliases=("数量", "on_hand", "实物库存"),
                ),
            ),
            ("warehouse_id", "material_code"),
        ),
        KindSpec(
            CatalogKind.QUOTAS,
            "储备定额",
            "reserve quotas",
            (
                Column("year", "年度", "year", Cell.INTEGER, aliases=("目录年度",)),
                WAREHOUSE,
                MATERIAL,
                MATERIAL_NAME,
                ROW_UNIT,
                Column(
                    "quantity",
                    "储备定额",
                    "quota",
                    Cell.QUANTITY,
                    aliases=("定额", "定额数量", "quantity"),
                ),
            ),
            ("year", "warehouse_id", "material_code"),
        ),
        KindSpec(
            CatalogKind.AGREEMENTS,
            "协议库存",
            "framework agreements",
            (
                Column(
                    "agreement_no",
                    "协议编号",
                    "agreement_no",
                    Cell.CODE,
                    aliases=("协议号", "合同编号"),
                ),
                Column("line_no", "行号", "line_no", Cell.INTEGER, aliases=("协议行号", "line")),
                Column(
                    "tender", "招标批次", "tender", Cell.TEXT, required=False, aliases=("批次",)
                ),
                SUPPLIER,
                MATERIAL,
                MATERIAL_NAME,
                ROW_UNIT,
                Column(
                    "unit_price", "协议单价", "unit_price", Cell.MONEY, aliases=("单价", "price")
                ),
                Column(
                    "estimated_quantity",
                    "预估数量",
                    "estimated_quantity",
                    Cell.QUANTITY,
                    aliases=("协议数量", "预计数量"),
                ),
                Column(
                    "band_low_pct",
                    "执行下限(%)",
                    "band_low_pct",
                    Cell.PERCENT,
                    required=False,
                    aliases=("下限",),
                ),
                Column(
                    "band_high_pct",
                    "执行上限(%)",
                    "band_high_pct",
                    Cell.PERCENT,
                    required=False,
                    aliases=("上限",),
                ),
                Column(
                    "ordered_quantity",
                    "已下单数量",
                    "ordered_quantity",
                    Cell.QUANTITY,
                    required=False,
                    aliases=("已执行数量", "ordered"),
                ),
                Column(
                    "valid_from",
                    "有效期起",
                    "valid_from",
                    Cell.DATE,
                    aliases=("生效日期", "开始日期"),
                ),
                Column(
                    "valid_to", "有效期止", "valid_to", Cell.DATE, aliases=("截止日期", "结束日期")
                ),
                Column(
                    "lead_days",
                    "供货周期(天)",
                    "lead_days",
                    Cell.INTEGER,
                    required=False,
                    aliases=("交货周期", "supplier_lead_time_days"),
                ),
                Column(
                    "delivery_warehouse_id",
                    "交货地点",
                    "delivery_warehouse_id",
                    Cell.CODE,
                    required=False,
                    aliases=("交货仓库", "delivery_site"),
                ),
            ),
            ("agreement_no", "line_no"),
        ),
        KindSpec(
            CatalogKind.CONSIGNMENT,
            "供应商寄存",
            "vendor consignment",
            (
                SUPPLIER,
                WAREHOUSE,
                MATERIAL,
                MATERIAL_NAME,
                ROW_UNIT,
                Column("quantity", "寄存数量", "quantity", Cell.QUANTITY, aliases=("数量",)),
                Column(
                    "issue_price",
                    "结算单价",
                    "issue_price",
                    Cell.MONEY,
                    aliases=("领用单价", "单价", "price"),
                ),
            ),
            ("supplier", "warehouse_id", "material_code"),
        ),
    )
}
