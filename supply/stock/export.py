"""The lists of 库存与定额 as Excel workbooks, every row the filters select (not only the page
shown), through the one writer (`supply.core.sheets`): numbers as numbers, money to the fen,
dates as dates, and every text as text — a supplier named `=1+1` stays text."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from catalogs.models import QUOTA_CATALOG_STATUS_ZH, QuotaCatalogStatus
from catalogs.reserve import list_quota_catalogs, quota_changes
from supply.core.clock import SHANGHAI
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.stock.models import (
    BAND_ZH,
    AgreementFilter,
    ConsignmentFilter,
    PositionFilter,
)
from supply.stock.queries import (
    agreement_execution,
    consignment_by_supplier,
    every_row,
    stock_positions,
)

YES_NO = {True: "是", False: "否"}

POSITION_COLUMNS = (
    Column("仓库 / warehouse"),
    Column("物料编码 / material"),
    Column("物料名称 / name"),
    Column("单位 / unit"),
    Column("实物库存 / on hand", "int"),
    Column("已保留 / held", "int"),
    Column("可用 / available", "int"),
    Column("储备定额 / quota", "int"),
    Column("低于定额数量 / shortfall", "int"),
    Column("补库金额(元) / shortfall value", "money", total=True),
    Column("低于定额 / below quota"),
)


def export_positions(*, session: Session, today: date, where: PositionFilter) -> bytes:
    """Reserve against quota, as the page lists it, as an .xlsx workbook."""
    positions = every_row(
        lambda offset, limit: stock_positions(
            session=session, today=today, where=where, offset=offset, limit=limit
        )
    )
    rows = [
        (
            p.warehouse_id,
            p.material_code,
            p.material_name,
            p.unit,
            p.on_hand,
            p.held,
            p.available,
            p.quota,
            p.shortfall,
            p.shortfall_value,
            YES_NO[p.below_quota],
        )
        for p in positions
    ]
    return write_xlsx([Sheet("库存对照定额", POSITION_COLUMNS, rows, totals=True)])


AGREEMENT_COLUMNS = (
    Column("协议编号 / agreement"),
    Column("行号 / line", "int"),
    Column("招标批次 / tender"),
    Column("供应商 / supplier"),
    Column("物料编码 / material"),
    Column("物料名称 / name"),
    Column("单位 / unit"),
    Column("协议单价(元) / unit price", "price"),
    Column("预估数量 / estimate", "int"),
    Column("已下单 / ordered", "int"),
    Column("已承诺 / promised", "int"),
    Column("已下单执行率(%) / ordered %", "number"),
    Column("含承诺执行率(%) / with promised %", "number"),
    Column("执行区间 / band"),
    Column("执行下限(%) / band low", "int"),
    Column("执行上限(%) / band high", "int"),
    Column("剩余可用 / remaining", "int"),
    Column("有效期起 / valid from", "date"),
    Column("有效期止 / valid to", "date"),
    Column("距到期天数 / days left", "int"),
    Column("即将到期 / expiring"),
)


def export_agreements(*, session: Session, today: date, where: AgreementFilter) -> bytes:
    """Agreement lines with their execution band, as the page lists them, as .xlsx."""
    lines = every_row(
        lambda offset, limit: agreement_execution(
            session=session, today=today, where=where, offset=offset, limit=limit
        )
    )
    rows = [
        (
            a.agreement_no,
            a.line_no,
            a.tender,
            a.supplier,
            a.material_code,
            a.material_name,
            a.unit,
            a.unit_price,
            a.estimated_quantity,
            a.ordered_quantity,
            a.promised,
            a.executed_pct,
            a.committed_pct,
            BAND_ZH[a.band],
            a.band_low_pct,
            a.band_high_pct,
            a.remaining_quantity,
            a.valid_from,
            a.valid_to,
            a.days_left,
            YES_NO[a.expiring],
        )
        for a in lines
    ]
    return write_xlsx([Sheet("协议库存执行", AGREEMENT_COLUMNS, rows)])


CONSIGNMENT_COLUMNS = (
    Column("供应商 / supplier"),
    Column("仓库 / warehouse"),
    Column("物料编码 / material"),
    Column("物料名称 / name"),
    Column("单位 / unit"),
    Column("寄存数量 / quantity", "int"),
    Column("已保留 / held", "int"),
    Column("可用 / available", "int"),
    Column("领用单价(元) / issue price", "price"),
    Column("寄存金额(元) / value", "money", total=True),
)


def export_consignment(*, session: Session, where: ConsignmentFilter) -> bytes:
    """Consignment by supplier, each supplier's rows in the page's order, as .xlsx."""
    suppliers = every_row(
        lambda offset, limit: consignment_by_supplier(
            session=session, where=where, offset=offset, limit=limit
        )
    )
    rows = [
        (
            s.supplier,
            h.warehouse_id,
            h.material_code,
            h.material_name,
            h.unit,
            h.quantity,
            h.held,
            h.available,
            h.issue_price,
            h.value,
        )
        for s in suppliers
        for h in s.items
    ]
    return write_xlsx([Sheet("寄售库存", CONSIGNMENT_COLUMNS, rows, totals=True)])


def _moment(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


CATALOG_COLUMNS = (
    Column("编号 / id", "int"),
    Column("年度 / year", "int"),
    Column("版本 / version", "int"),
    Column("状态 / status"),
    Column("定额行数 / lines", "int"),
    Column("创建人 / created by"),
    Column("创建时间(北京时间) / created at"),
    Column("确认人 / confirmed by"),
    Column("确认时间(北京时间) / confirmed at"),
)
CHANGE_COLUMNS = (
    Column("版本 / version", "int"),
    Column("仓库 / warehouse"),
    Column("物料编码 / material"),
    Column("物料名称 / name"),
    Column("单位 / unit"),
    Column("现行定额 / confirmed", "int"),
    Column("本版定额 / this version", "int"),
    Column("变化 / change", "int"),
)


def export_quota_catalogs(*, session: Session, year: int) -> bytes:
    """The year's quota catalog versions and, for each draft, its changes against the
    confirmed version, as .xlsx (two sheets)."""
    catalogs = list_quota_catalogs(session=session, year=year)
    versions = [
        (
            c.id,
            c.year,
            c.version,
            QUOTA_CATALOG_STATUS_ZH.get(QuotaCatalogStatus(c.status), c.status),
            c.lines,
            c.created_by,
            _moment(c.created_at),
            c.confirmed_by or "",
            _moment(c.confirmed_at),
        )
        for c in catalogs
    ]
    changes = [
        (
            c.version,
            q.warehouse_id,
            q.material_code,
            q.material_name,
            q.unit,
            q.before,
            q.after,
            q.difference,
        )
        for c in catalogs
        if c.status == QuotaCatalogStatus.DRAFT
        for q in quota_changes(session=session, catalog_id=c.id)
    ]
    return write_xlsx(
        [
            Sheet(f"{year} 年定额目录", CATALOG_COLUMNS, versions),
            Sheet("草稿变更", CHANGE_COLUMNS, changes),
        ]
    )
