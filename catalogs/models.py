"""The supply catalogs: tables and the schemas the API returns.

Materials and warehouses; the transport days between locations; physical reserve on hand and the
yearly reserve quota catalog (实物储备定额目录) with its confirmation; framework-agreement lines
(协议库存); vendor consignment (供应商寄存); and the record of every import.

Quantities are whole numbers in the material's base unit; money is `Decimal`
(see `supply.core.money`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime
from supply.core.db import check_in as _in
from supply.core.db import check_non_negative as _non_negative
from supply.core.money import Money

FIRST_PROBLEMS = 5  # problems a rejected import's record keeps in full
FIRST_PROBLEMS_LENGTH = 2000


class VoltageClass(StrEnum):
    """Voltage class of a material (and of the projects it may serve)."""

    LV = "0.4kV"
    MV = "10kV"
    HV35 = "35kV"
    HV110 = "110kV"


class WarehouseLevel(StrEnum):
    """Level of a warehouse: city central store, county turnover store, storage point."""

    CENTRAL = "central"
    COUNTY = "county"
    STORAGE_POINT = "storage_point"


class QuotaCatalogStatus(StrEnum):
    """A quota catalog version is a draft until confirmed; confirming supersedes the previous."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SUPERSEDED = "superseded"


QUOTA_CATALOG_STATUS_ZH = {
    QuotaCatalogStatus.DRAFT: "草稿",
    QuotaCatalogStatus.CONFIRMED: "已确认",
    QuotaCatalogStatus.SUPERSEDED: "已替代",
}


class CatalogKind(StrEnum):
    """What a file holds: one kind of catalog per import or export."""

    MATERIALS = "materials"
    WAREHOUSES = "warehouses"
    TRANSPORT = "transport"
    RESERVE = "reserve"
    QUOTAS = "quotas"
    AGREEMENTS = "agreements"
    CONSIGNMENT = "consignment"


class ImportKind(StrEnum):
    """What an import record is of: a catalog kind, a project workbook, a province matching."""

    MATERIALS = "materials"
    WAREHOUSES = "warehouses"
    TRANSPORT = "transport"
    RESERVE = "reserve"
    QUOTAS = "quotas"
    AGREEMENTS = "agreements"
    CONSIGNMENT = "consignment"
    PROJECTS = "projects"  # a project workbook (supply.projects.importing)
    PROVINCE_MATCH = "province_match"  # the province's matching result (supply.weekly.province)


class ImportStatus(StrEnum):
    """An import either wrote every row (accepted) or nothing (rejected, with its problems)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


# ---------------------------------------------------------------- materials


class MaterialBase(SQLModel):
    code: str = Field(primary_key=True, max_length=64, description="物料编码 / material code")
    name_zh: str = Field(max_length=200, description="物料名称 / Chinese name")
    name_en: str = Field(default="", max_length=200, description="英文名称 / English name")
    unit: str = Field(max_length=16, description="基本计量单位 / base unit (千米 is stored as 米)")
    voltage_class: str = Field(max_length=8, description="电压等级 / voltage class")
    category: str = Field(default="", max_length=64, description="物资类别 / category")
    standard_price: Decimal = Field(
        sa_type=Money, description="标准单价(元/基本单位) / standard price per base unit, CNY"
    )
    reserve_catalog: bool = Field(
        default=False, description="列入实物储备定额目录 / held in the reserve quota catalog"
    )
    heavy: bool = Field(
        default=False, description="重型设备(运输加 1 天) / heavy item, one more transport day"
    )
    typical_lead_days: int = Field(
        default=0, description="典型供货周期(天) / typical supplier lead time, calendar days"
    )
    emergency_lead_days: int = Field(
        description="紧急采购周期(天) / emergency procurement lead time, calendar days"
    )
    emergency_premium_pct: int = Field(
        description="紧急采购溢价(%) / emergency price premium over the standard price, percent"
    )


class Material(MaterialBase, table=True):
    __table_args__ = (
        _in("voltage_class", VoltageClass),
        _non_negative("standard_price"),
        _non_negative("typical_lead_days"),
        _non_negative("emergency_lead_days"),
        _non_negative("emergency_premium_pct"),
    )

    updated_at: datetime = Field(sa_type=UTCDateTime)


class MaterialPublic(MaterialBase):
    pass


# ---------------------------------------------------------------- warehouses and transport


class WarehouseBase(SQLModel):
    id: str = Field(primary_key=True, max_length=32, description="仓库编码 / warehouse id")
    name: str = Field(max_length=100, description="仓库名称 / name")
    level: str = Field(
        max_length=16,
        description="仓库级别 / level: central (市级中心库), county (县级周转库), "
        "storage_point (仓储点)",
    )
    location: str = Field(max_length=32, index=True, description="所在地点 / location id")


class Warehouse(WarehouseBase, table=True):
    __table_args__ = (_in("level", WarehouseLevel),)

    updated_at: datetime = Field(sa_type=UTCDateTime)


class WarehousePublic(WarehouseBase):
    pass


class TransportBase(SQLModel):
    from_location: str = Field(primary_key=True, max_length=32, description="起点 / from location")
    to_location: str = Field(primary_key=True, max_length=32, description="终点 / to location")
    days: int = Field(description="运输天数(含装卸) / whole days including loading")


class Transport(TransportBase, table=True):
    __table_args__ = (_non_negative("days"),)

    updated_at: datetime = Field(sa_type=UTCDateTime)


class TransportPublic(TransportBase):
    pass


# ---------------------------------------------------------------- physical reserve and quotas


class ReserveStockBase(SQLModel):
    warehouse_id: str = Field(
        primary_key=True, foreign_key="warehouse.id", max_length=32, description="仓库 / warehouse"
    )
    material_code: str = Field(
        primary_key=True, foreign_key="material.code", max_length=64, description="物料 / material"
    )
    quantity: int = Field(sa_type=BigInteger, description="实物库存 / on hand, base units")


class ReserveStock(ReserveStockBase, table=True):
    __tablename__ = "reserve_stock"
    __table_args__ = (_non_negative("quantity"),)

    updated_at: datetime = Field(sa_type=UTCDateTime)


class ReserveStockPublic(ReserveStockBase):
    pass


class QuotaCatalogBase(SQLModel):
    year: int = Field(index=True, description="年度 / year the catalog applies to")
    version: int = Field(description="版本 / version within the year, from 1")
    status: str = Field(max_length=16, description="状态 / draft, confirmed or superseded")
    created_at: datetime = Field(sa_type=UTCDateTime, description="创建时间 / created at")
    created_by: str = Field(max_length=100, description="创建人 / created by")
    confirmed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="确认时间 / confirmed at"
    )
    confirmed_by: str | None = Field(
        default=None, max_length=200, description="确认人 / confirmed by"
    )


class QuotaCatalog(QuotaCatalogBase, table=True):
    __tablename__ = "quota_catalog"
    __table_args__ = (UniqueConstraint("year", "version"), _in("status", QuotaCatalogStatus))

    id: int | None = Field(default=None, primary_key=True)


class QuotaCatalogPublic(QuotaCatalogBase):
    id: int
    lines: int = Field(description="定额行数 / quota lines in this version")


class QuotaBase(SQLModel):
    warehouse_id: str = Field(
        primary_key=True, foreign_key="warehouse.id", max_length=32, description="仓库 / warehouse"
    )
    material_code: str = Field(
        primary_key=True, foreign_key="material.code", max_length=64, description="物料 / material"
    )
    quantity: int = Field(sa_type=BigInteger, description="储备定额 / quota, base units")


class Quota(QuotaBase, table=True):
    __table_args__ = (_non_negative("quantity"),)

    catalog_id: int = Field(primary_key=True, foreign_key="quota_catalog.id", ondelete="CASCADE")


class QuotaPublic(QuotaBase):
    catalog_id: int


class QuotaChange(SQLModel):
    """One line a quota catalog version changes against the year's confirmed version."""

    warehouse_id: str
    material_code: str
    material_name: str
    unit: str
    before: int | None = Field(description="现行定额 / quota in the confirmed version (none: new)")
    after: int | None = Field(description="本版定额 / quota in this version (none: removed)")
    difference: int = Field(description="变化 / after − before (a missing side counts as 0)")


class ReservePosition(SQLModel):
    """Reserve on hand against this year's confirmed quota, per warehouse and material."""

    warehouse_id: str
    material_code: str
    material_name: str
    unit: str
    on_hand: int = Field(description="实物库存 / on hand")
    quota: int = Field(description="储备定额 / quota (0 when not in the confirmed catalog)")
    shortfall: int = Field(description="低于定额数量 / quota − on hand, at least 0")
    shortfall_value: Decimal = Field(description="补库金额(元) / shortfall at standard price")


# ---------------------------------------------------------------- framework agreements


class AgreementLineBase(SQLModel):
    agreement_no: str = Field(max_length=64, index=True, description="协议编号 / agreement number")
    line_no: int = Field(description="行号 / line within the agreement")
    tender: str = Field(default="", max_length=200, description="招标批次 / provincial tender")
    supplier: str = Field(max_length=200, index=True, description="供应商 / supplier")
    material_code: str = Field(
        foreign_key="material.code", max_length=64, index=True, description="物料 / material"
    )
    unit_price: Decimal = Field(sa_type=Money, description="协议单价(元/基本单位) / unit price")
    estimated_quantity: int = Field(sa_type=BigInteger, description="预估数量 / estimated quantity")
    band_low_pct: int = Field(default=80, description="执行下限(%) / execution band, lower")
    band_high_pct: int = Field(default=120, description="执行上限(%) / execution band, upper")
    ordered_quantity: int = Field(
        default=0, sa_type=BigInteger, description="已下单数量 / ordered so far"
    )
    valid_from: date = Field(description="有效期起 / valid from")
    valid_to: date = Field(description="有效期止 / valid to (inclusive)")
    lead_days: int = Field(description="供货周期(天) / supplier lead time, calendar days")
    delivery_warehouse_id: str = Field(
        foreign_key="warehouse.id", max_length=32, description="交货地点 / delivery warehouse"
    )


class AgreementLine(AgreementLineBase, table=True):
    __tablename__ = "agreement_line"
    __table_args__ = (
        UniqueConstraint("agreement_no", "line_no"),
        _non_negative("unit_price"),
        _non_negative("estimated_quantity"),
        _non_negative("ordered_quantity"),
        _non_negative("lead_days"),
        CheckConstraint("band_low_pct <= band_high_pct", name="band_ordered"),
        CheckConstraint("valid_from <= valid_to", name="validity_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def upper_quantity(line: AgreementLineBase) -> int:
    """Return the most the agreement may deliver: estimate × upper band (whole units, down)."""
    return line.estimated_quantity * line.band_high_pct // 100


def remaining_quantity(line: AgreementLineBase, today: date) -> int:
    """Return what the line can still serve on `today`: 0 outside validity or past its band."""
    if not line.valid_from <= today <= line.valid_to:
        return 0
    return max(0, upper_quantity(line) - line.ordered_quantity)


class AgreementLinePublic(AgreementLineBase):
    id: int
    upper_quantity: int = Field(description="执行上限数量 / estimate × upper band")
    remaining_quantity: int = Field(
        description="剩余可用数量 / what it can still serve today (0 when expired or exhausted)"
    )
    serving: bool = Field(description="当前可用 / valid today and below its upper band")


# ---------------------------------------------------------------- vendor consignment


class ConsignmentBase(SQLModel):
    supplier: str = Field(max_length=200, index=True, description="供应商 / supplier (the owner)")
    warehouse_id: str = Field(foreign_key="warehouse.id", max_length=32, description="存放仓库")
    material_code: str = Field(
        foreign_key="material.code", max_length=64, index=True, description="物料 / material"
    )
    quantity: int = Field(sa_type=BigInteger, description="寄存数量 / quantity held, base units")
    issue_price: Decimal = Field(sa_type=Money, description="领用结算单价 / price settled on issue")


class Consignment(ConsignmentBase, table=True):
    __table_args__ = (
        UniqueConstraint("supplier", "warehouse_id", "material_code"),
        _non_negative("quantity"),
        _non_negative("issue_price"),
    )

    id: int | None = Field(default=None, primary_key=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ConsignmentPublic(ConsignmentBase):
    id: int


# ---------------------------------------------------------------- imports


class ImportRecordBase(SQLModel):
    kind: str = Field(max_length=16, index=True, description="导入类别 / what was imported")
    file_name: str = Field(max_length=255, description="文件名 / file name")
    imported_by: str = Field(max_length=100, description="导入人 / who imported it")
    imported_at: datetime = Field(sa_type=UTCDateTime, description="导入时间 / when")
    status: str = Field(
        max_length=16,
        index=True,
        description="accepted 已导入(全部写入) / rejected 被拒绝(未写入任何数据) / accepted: "
        "every row written; rejected: nothing written",
    )
    rows: int = Field(default=0, description="数据行数 / data rows read")
    inserted: int = Field(default=0, description="新增 / rows inserted")
    updated: int = Field(default=0, description="更新 / rows updated")
    unchanged: int = Field(default=0, description="未变 / rows already as in the file")
    problems: int = Field(default=0, description="问题数 / problems found (rejected files)")
    first_problems: str = Field(
        default="",
        max_length=FIRST_PROBLEMS_LENGTH,
        description="前几个问题(每行一个) / the first problems of a rejected file, one per line",
    )
    note: str = Field(default="", max_length=500, description="说明 / e.g. which quota version")


class ImportRecord(ImportRecordBase, table=True):
    """An import attempted: accepted (what it changed) or rejected (its problems), kept either
    way as the audit of who tried to load what, when."""

    __tablename__ = "import_record"
    __table_args__ = (_in("kind", ImportKind), _in("status", ImportStatus))

    id: int | None = Field(default=None, primary_key=True)


class ImportRecordPublic(ImportRecordBase):
    id: int


class ImportReport(ImportRecordPublic):
    """What an accepted import did, and which columns of the file it ignored."""

    ignored_columns: list[str] = Field(default=[], description="未识别的列 / columns not used")


# ---------------------------------------------------------------- summary


class WarehouseValue(SQLModel):
    """What a warehouse holds, at standard price (reserve) and at issue price (consignment)."""

    warehouse_id: str
    name: str
    level: str
    reserve_lines: int = Field(description="实物库存行数 / materials held in reserve")
    reserve_value: Decimal = Field(description="实物储备金额(元) / reserve at standard price")
    consignment_value: Decimal = Field(
        description="寄存金额(元,供应商所有) / vendor-owned consignment at issue price"
    )


class AgreementAlert(SQLModel):
    """An agreement line close to the end of its band or validity, or already serving nothing."""

    line: AgreementLinePublic
    reasons: list[str] = Field(description="提示 / why it needs attention")
    validity_ending: bool = Field(
        description="已过期、未生效或 30 天内到期 / validity over or ending"
    )
    band_ending: bool = Field(description="已达或接近执行上限 / at or near the upper band")


class CatalogSummary(SQLModel):
    """The state of the supply catalogs on one day."""

    today: date
    counts: dict[str, int] = Field(description="各目录行数 / rows per catalog")
    quota_catalog: QuotaCatalogPublic | None = Field(
        description="本年度已确认的定额目录 / the confirmed quota catalog in force"
    )
    pending_drafts: list[QuotaCatalogPublic] = Field(description="待确认的草稿 / drafts to confirm")
    warehouses: list[WarehouseValue]
    below_quota: list[ReservePosition] = Field(description="低于定额 / reserve below quota")
    agreements_near_end: list[AgreementAlert]
    unreachable_locations: list[str] = Field(
        description="没有运输天数的仓库地点 / warehouse locations with no transport rows"
    )


TABLES: dict[CatalogKind, type[SQLModel]] = {
    CatalogKind.MATERIALS: Material,
    CatalogKind.WAREHOUSES: Warehouse,
    CatalogKind.TRANSPORT: Transport,
    CatalogKind.RESERVE: ReserveStock,
    CatalogKind.QUOTAS: Quota,
    CatalogKind.AGREEMENTS: AgreementLine,
    CatalogKind.CONSIGNMENT: Consignment,
}


def text_limit(kind: CatalogKind, field: str) -> int | None:
    """Return the length of the database column a file column is stored in, if it has one."""
    table = TABLES[kind].__table__  # type: ignore[attr-defined]
    column = table.columns.get(field)
    return getattr(column.type, "length", None) if column is not None else None
