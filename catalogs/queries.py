"""Reading the catalogs: materials, warehouses, transport days, framework agreements, consignment.

Plain functions with keyword-only arguments; the caller passes the session (and the date, where
what an agreement line can still serve depends on it). Reads never write. The reserve (stock on
hand, quota catalogs and their confirmation) is in `catalogs.reserve`, the one-page summary in
`catalogs.summary`, imports and exports in `catalogs.importing`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, func, or_
from sqlmodel import Session, col, select

from catalogs.models import (
    AgreementAlert,
    AgreementLine,
    AgreementLinePublic,
    Consignment,
    ConsignmentPublic,
    Material,
    MaterialPublic,
    Transport,
    TransportPublic,
    Warehouse,
    WarehousePublic,
    remaining_quantity,
    upper_quantity,
)
from supply.core.errors import NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, paginate, sort_order

NEAR_END_DAYS = 30
NEAR_END_SHARE = Decimal("0.10")


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` holds `text`, ignoring case (`%` and `_` in `text` match themselves)."""
    return func.lower(column).contains(text.lower(), autoescape=True)


# ---------------------------------------------------------------- materials


def get_material(*, session: Session, code: str) -> Material | None:
    """Return the material with `code`, or None."""
    return session.get(Material, code)


def get_material_by_code_or_raise(*, session: Session, code: str) -> Material:
    """Return the material with `code`, or raise NotFound."""
    material = get_material(session=session, code=code)
    if material is None:
        raise NotFound(
            f"物料 {code} 不在物料主数据中 / material {code} is not in the material master",
            loc=("code",),
        )
    return material


def list_materials(
    *,
    session: Session,
    q: str | None = None,
    category: str | None = None,
    voltage_class: str | None = None,
    reserve_catalog: bool | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[MaterialPublic]:
    """List materials, filtered by text in code or names, category, voltage class, reserve flag."""
    statement = select(Material)
    if q:
        statement = statement.where(
            or_(
                contains(Material.code, q),
                contains(Material.name_zh, q),
                contains(Material.name_en, q),
            )
        )
    if category:
        statement = statement.where(Material.category == category)
    if voltage_class:
        statement = statement.where(Material.voltage_class == voltage_class)
    if reserve_catalog is not None:
        statement = statement.where(Material.reserve_catalog == reserve_catalog)
    return paginate(
        session,
        statement,
        order_by=[Material.code],
        offset=offset,
        limit=limit,
        convert=MaterialPublic.model_validate,
    )


# ---------------------------------------------------------------- warehouses and transport


def get_warehouse_or_raise(*, session: Session, warehouse_id: str) -> Warehouse:
    """Return the warehouse `warehouse_id`, or raise NotFound."""
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(
            f"仓库 {warehouse_id} 不存在 / warehouse {warehouse_id} does not exist", loc=("id",)
        )
    return warehouse


def list_warehouses(
    *,
    session: Session,
    level: str | None = None,
    location: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[WarehousePublic]:
    """List warehouses, optionally of one level or at one location."""
    statement = select(Warehouse)
    if level:
        statement = statement.where(Warehouse.level == level)
    if location:
        statement = statement.where(Warehouse.location == location)
    return paginate(
        session,
        statement,
        order_by=[Warehouse.id],
        offset=offset,
        limit=limit,
        convert=WarehousePublic.model_validate,
    )


def list_transport(
    *,
    session: Session,
    from_location: str | None = None,
    to_location: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[TransportPublic]:
    """List transport days between locations, optionally from or to one location."""
    statement = select(Transport)
    if from_location:
        statement = statement.where(Transport.from_location == from_location)
    if to_location:
        statement = statement.where(Transport.to_location == to_location)
    return paginate(
        session,
        statement,
        order_by=[Transport.from_location, Transport.to_location],
        offset=offset,
        limit=limit,
        convert=TransportPublic.model_validate,
    )


def transport_days(*, session: Session, from_location: str, to_location: str) -> int:
    """Return the transport days from one location to another (0 for the same place)."""
    if from_location == to_location:
        return 0
    row = session.get(Transport, (from_location, to_location))
    if row is None:
        raise NotFound(
            f"没有 {from_location} 到 {to_location} 的运输天数，请在运输天数表中补充 / "
            f"no transport days from {from_location} to {to_location}; "
            "add them to the transport table",
            loc=("from_location", "to_location"),
        )
    return row.days


# ---------------------------------------------------------------- framework agreements


def agreement_public(line: AgreementLine, *, today: date) -> AgreementLinePublic:
    """Return an agreement line with what it can still serve on `today`."""
    remaining = remaining_quantity(line, today)
    return AgreementLinePublic.model_validate(
        line,
        update={
            "upper_quantity": upper_quantity(line),
            "remaining_quantity": remaining,
            "serving": remaining > 0,
        },
    )


def get_agreement_or_raise(*, session: Session, agreement_id: int) -> AgreementLine:
    """Return the agreement line `agreement_id`, or raise NotFound."""
    line = session.get(AgreementLine, agreement_id)
    if line is None:
        raise NotFound(
            f"协议行 {agreement_id} 不存在 / agreement line {agreement_id} does not exist",
            loc=("id",),
        )
    return line


# What agreement lines may be sorted by (`sort_order`): a key, or `-key` for descending.
AGREEMENT_SORTS = ("agreement", "supplier", "material", "price", "valid_to", "executed")


def _agreement_order(sort: str | None) -> list[Any]:
    estimate = func.nullif(col(AgreementLine.estimated_quantity), 0)
    columns = {
        "agreement": col(AgreementLine.agreement_no),
        "supplier": col(AgreementLine.supplier),
        "material": col(AgreementLine.material_code),
        "price": col(AgreementLine.unit_price),
        "valid_to": col(AgreementLine.valid_to),
        "executed": cast(col(AgreementLine.ordered_quantity), Float) / estimate,
    }
    default = [col(AgreementLine.material_code), col(AgreementLine.unit_price)]
    order = sort_order(sort, columns, default=default, tiebreak=col(AgreementLine.agreement_no))
    return [*order, col(AgreementLine.line_no)]


def list_agreements(
    *,
    session: Session,
    today: date,
    supplier: str | None = None,
    material_code: str | None = None,
    tender: str | None = None,
    agreement_no: str | None = None,
    serving: bool | None = None,
    q: str | None = None,
    expiring_within: int | None = None,
    sort: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[AgreementLinePublic]:
    """List agreement lines with what remains on `today`; `serving` keeps the usable ones, `q`
    those whose material's code or name holds the text, `expiring_within` those still valid
    whose validity ends within that many days; by material and price, or by `sort` (a key of
    AGREEMENT_SORTS, `-key` descending)."""
    statement = select(AgreementLine)
    if supplier:
        statement = statement.where(contains(AgreementLine.supplier, supplier))
    if material_code:
        statement = statement.where(AgreementLine.material_code == material_code)
    if q:
        named = select(Material.code).where(
            or_(contains(Material.code, q), contains(Material.name_zh, q))
        )
        statement = statement.where(col(AgreementLine.material_code).in_(named))
    if tender:
        statement = statement.where(contains(AgreementLine.tender, tender))
    if agreement_no:
        statement = statement.where(AgreementLine.agreement_no == agreement_no)
    if expiring_within is not None:
        statement = statement.where(
            col(AgreementLine.valid_from) <= today,
            col(AgreementLine.valid_to) >= today,
            col(AgreementLine.valid_to) <= today + timedelta(days=expiring_within),
        )
    if serving is not None:
        # remaining > 0 ⇔ ⌊estimate × high / 100⌋ > ordered ⇔ estimate × high ≥ 100 × (ordered + 1)
        usable = (
            (col(AgreementLine.valid_from) <= today)
            & (col(AgreementLine.valid_to) >= today)
            & (
                col(AgreementLine.estimated_quantity) * col(AgreementLine.band_high_pct)
                >= 100 * (col(AgreementLine.ordered_quantity) + 1)
            )
        )
        statement = statement.where(usable if serving else ~usable)
    return paginate(
        session,
        statement,
        order_by=_agreement_order(sort),
        offset=offset,
        limit=limit,
        convert=lambda line: agreement_public(line, today=today),
    )


def agreement_alert(line: AgreementLine, *, today: date) -> AgreementAlert | None:
    """Say why an agreement line needs attention on `today` (expired, used up, nearly), or None."""
    validity: list[str] = []
    band: list[str] = []
    remaining = remaining_quantity(line, today)
    if today > line.valid_to:
        validity.append(f"已过有效期 {line.valid_to} / expired on {line.valid_to}")
    elif today < line.valid_from:
        validity.append(f"{line.valid_from} 起生效 / valid only from {line.valid_from}")
    elif line.valid_to - today <= timedelta(days=NEAR_END_DAYS):
        validity.append(f"{line.valid_to} 到期 / validity ends {line.valid_to}")
    if line.ordered_quantity >= upper_quantity(line):
        band.append("已达执行上限 / at the upper end of its band")
    elif remaining and remaining <= line.estimated_quantity * NEAR_END_SHARE:
        band.append(f"仅剩 {remaining} / only {remaining} left before the upper band")
    if not validity and not band:
        return None
    return AgreementAlert(
        line=agreement_public(line, today=today),
        reasons=validity + band,
        validity_ending=bool(validity),
        band_ending=bool(band),
    )


# ---------------------------------------------------------------- vendor consignment


def list_consignment(
    *,
    session: Session,
    supplier: str | None = None,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ConsignmentPublic]:
    """List vendor consignment stock (the vendor's until issued)."""
    statement = select(Consignment)
    if supplier:
        statement = statement.where(contains(Consignment.supplier, supplier))
    if warehouse_id:
        statement = statement.where(Consignment.warehouse_id == warehouse_id)
    if material_code:
        statement = statement.where(Consignment.material_code == material_code)
    return paginate(
        session,
        statement,
        order_by=[Consignment.material_code, Consignment.warehouse_id, Consignment.supplier],
        offset=offset,
        limit=limit,
        convert=ConsignmentPublic.model_validate,
    )
