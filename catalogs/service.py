"""Catalog services: reading the catalogs, the reserve position, and confirming a quota catalog.

Plain functions with keyword-only arguments; the caller passes the session and the date. Reads
never write; `confirm_quota_catalog` is one use case and commits once. Imports and exports are in
`catalogs.importing`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, SQLModel, col, select

from catalogs.models import (
    AgreementAlert,
    AgreementLine,
    AgreementLinePublic,
    CatalogSummary,
    Consignment,
    ConsignmentPublic,
    Material,
    MaterialPublic,
    Quota,
    QuotaCatalog,
    QuotaCatalogPublic,
    QuotaCatalogStatus,
    QuotaPublic,
    ReservePosition,
    ReserveStock,
    ReserveStockPublic,
    Transport,
    TransportPublic,
    Warehouse,
    WarehousePublic,
    WarehouseValue,
    remaining_quantity,
    upper_quantity,
)
from supply.core.audit import record
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.money import fen
from supply.core.paging import DEFAULT_LIMIT, Page, check_page, paginate

T = TypeVar("T", bound=SQLModel)
P = TypeVar("P")

NEAR_END_DAYS = 30
NEAR_END_SHARE = Decimal("0.10")


def _contains(column: Any, text: str) -> ColumnElement[bool]:
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
                _contains(Material.code, q),
                _contains(Material.name_zh, q),
                _contains(Material.name_en, q),
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


# ---------------------------------------------------------------- physical reserve


def list_reserve_stock(
    *,
    session: Session,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ReserveStockPublic]:
    """List reserve on hand per warehouse and material."""
    statement = select(ReserveStock)
    if warehouse_id:
        statement = statement.where(ReserveStock.warehouse_id == warehouse_id)
    if material_code:
        statement = statement.where(ReserveStock.material_code == material_code)
    return paginate(
        session,
        statement,
        order_by=[ReserveStock.warehouse_id, ReserveStock.material_code],
        offset=offset,
        limit=limit,
        convert=ReserveStockPublic.model_validate,
    )


def _catalog_public(session: Session, catalog: QuotaCatalog) -> QuotaCatalogPublic:
    lines = session.exec(select(func.count()).where(Quota.catalog_id == catalog.id)).one()
    return QuotaCatalogPublic.model_validate(catalog, update={"lines": lines})


def list_quota_catalogs(*, session: Session, year: int | None = None) -> list[QuotaCatalogPublic]:
    """List quota catalog versions, newest year and version first."""
    statement = select(QuotaCatalog)
    if year is not None:
        statement = statement.where(QuotaCatalog.year == year)
    catalogs = session.exec(
        statement.order_by(col(QuotaCatalog.year).desc(), col(QuotaCatalog.version).desc())
    ).all()
    return [_catalog_public(session, c) for c in catalogs]


def get_quota_catalog_or_raise(*, session: Session, catalog_id: int) -> QuotaCatalog:
    """Return the quota catalog version `catalog_id`, or raise NotFound."""
    catalog = session.get(QuotaCatalog, catalog_id)
    if catalog is None:
        raise NotFound(
            f"定额目录 {catalog_id} 不存在 / quota catalog {catalog_id} does not exist",
            loc=("catalog_id",),
        )
    return catalog


def get_quota_catalog_public(*, session: Session, catalog_id: int) -> QuotaCatalogPublic:
    """Return one quota catalog version with its line count, or raise NotFound."""
    return _catalog_public(
        session, get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    )


def find_quota_catalog(
    *, session: Session, year: int, version: int | None = None
) -> QuotaCatalog | None:
    """Return version `version` of `year`'s quota catalog (default: the latest), or None."""
    statement = select(QuotaCatalog).where(QuotaCatalog.year == year)
    if version is not None:
        statement = statement.where(QuotaCatalog.version == version)
    return session.exec(statement.order_by(col(QuotaCatalog.version).desc()).limit(1)).first()


def current_quota_catalog(*, session: Session, today: date) -> QuotaCatalog | None:
    """Return the confirmed quota catalog of `today`'s year: the only one planning uses."""
    return session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == today.year, QuotaCatalog.status == QuotaCatalogStatus.CONFIRMED
        )
    ).first()


def list_quotas(
    *,
    session: Session,
    catalog_id: int,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[QuotaPublic]:
    """List the quota lines of one catalog version."""
    get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    statement = select(Quota).where(Quota.catalog_id == catalog_id)
    if warehouse_id:
        statement = statement.where(Quota.warehouse_id == warehouse_id)
    if material_code:
        statement = statement.where(Quota.material_code == material_code)
    return paginate(
        session,
        statement,
        order_by=[Quota.warehouse_id, Quota.material_code],
        offset=offset,
        limit=limit,
        convert=QuotaPublic.model_validate,
    )


def confirm_quota_catalog(
    *, session: Session, catalog_id: int, confirmed_by: str, now: datetime
) -> QuotaCatalogPublic:
    """Confirm a draft quota catalog; the year's previously confirmed version is superseded."""
    confirmed_by = confirmed_by.strip()
    if not confirmed_by:
        raise InvalidInput("请填写确认人 / say who confirms the catalog", loc=("confirmed_by",))
    catalog = get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    label = (
        f"{catalog.year} 年第 {catalog.version} 版定额目录 / "
        f"quota catalog {catalog.year} v{catalog.version}"
    )
    if catalog.status != QuotaCatalogStatus.DRAFT:
        raise Conflict(
            f"{label}: 状态为 {catalog.status}，只有草稿可以确认 / only a draft can be confirmed"
        )
    if not session.exec(select(func.count()).where(Quota.catalog_id == catalog.id)).one():
        raise Conflict(f"{label}: 没有定额行，不能确认 / has no quota lines to confirm")
    for previous in session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == catalog.year, QuotaCatalog.status == QuotaCatalogStatus.CONFIRMED
        )
    ):
        previous.status = QuotaCatalogStatus.SUPERSEDED
        session.add(previous)
    catalog.status = QuotaCatalogStatus.CONFIRMED
    catalog.confirmed_by = confirmed_by
    catalog.confirmed_at = now
    session.add(catalog)
    record(
        session, actor=confirmed_by, action="quotas.confirm", object_type="quota_catalog",
        object_id=catalog.id or "", before={"status": QuotaCatalogStatus.DRAFT},
        after={"status": catalog.status, "year": catalog.year, "version": catalog.version},
        at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(catalog)
    return _catalog_public(session, catalog)


def reserve_positions(
    *,
    session: Session,
    today: date,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    below_quota_only: bool = False,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ReservePosition]:
    """Compare reserve on hand with `today`'s year's confirmed quota; largest shortfall first."""
    check_page(offset=offset, limit=limit)
    catalog = current_quota_catalog(session=session, today=today)
    on_hand: dict[tuple[str, str], int] = {
        (s.warehouse_id, s.material_code): s.quantity for s in session.exec(select(ReserveStock))
    }
    quotas: dict[tuple[str, str], int] = {}
    if catalog is not None:
        quotas = {
            (q.warehouse_id, q.material_code): q.quantity
            for q in session.exec(select(Quota).where(Quota.catalog_id == catalog.id))
        }
    materials = {m.code: m for m in session.exec(select(Material))}
    positions = []
    for key in on_hand.keys() | quotas.keys():
        warehouse, code = key
        if (warehouse_id and warehouse != warehouse_id) or (
            material_code and code != material_code
        ):
            continue
        material = materials[code]
        have, quota = on_hand.get(key, 0), quotas.get(key, 0)
        shortfall = max(0, quota - have)
        if below_quota_only and not shortfall:
            continue
        positions.append(
            ReservePosition(
                warehouse_id=warehouse,
                material_code=code,
                material_name=material.name_zh,
                unit=material.unit,
                on_hand=have,
                quota=quota,
                shortfall=shortfall,
                shortfall_value=fen(material.standard_price * shortfall),
            )
        )
    positions.sort(key=lambda p: (-p.shortfall_value, p.warehouse_id, p.material_code))
    return Page(
        items=positions[offset : offset + limit], total=len(positions), offset=offset, limit=limit
    )


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


def list_agreements(
    *,
    session: Session,
    today: date,
    supplier: str | None = None,
    material_code: str | None = None,
    tender: str | None = None,
    agreement_no: str | None = None,
    serving: bool | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[AgreementLinePublic]:
    """List agreement lines with what remains on `today`; `serving` keeps the usable ones."""
    statement = select(AgreementLine)
    if supplier:
        statement = statement.where(_contains(AgreementLine.supplier, supplier))
    if material_code:
        statement = statement.where(AgreementLine.material_code == material_code)
    if tender:
        statement = statement.where(_contains(AgreementLine.tender, tender))
    if agreement_no:
        statement = statement.where(AgreementLine.agreement_no == agreement_no)
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
        order_by=[
            AgreementLine.material_code,
            AgreementLine.unit_price,
            AgreementLine.agreement_no,
            AgreementLine.line_no,
        ],
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
        statement = statement.where(_contains(Consignment.supplier, supplier))
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


# ---------------------------------------------------------------- summary


def catalog_summary(*, session: Session, today: date, top: int = 10) -> CatalogSummary:
    """Summarise the catalogs on `today`: stock value, below quota, agreements ending."""
    counts = {
        name: session.exec(select(func.count()).select_from(model)).one()
        for name, model in (
            ("materials", Material),
            ("warehouses", Warehouse),
            ("transport", Transport),
            ("reserve", ReserveStock),
            ("quota_catalogs", QuotaCatalog),
            ("quotas", Quota),
            ("agreements", AgreementLine),
            ("consignment", Consignment),
        )
    }
    price = {m.code: m.standard_price for m in session.exec(select(Material))}
    values: list[WarehouseValue] = []
    for warehouse in session.exec(select(Warehouse).order_by(Warehouse.id)):
        stock = session.exec(
            select(ReserveStock).where(ReserveStock.warehouse_id == warehouse.id)
        ).all()
        consigned = session.exec(
            select(Consignment).where(Consignment.warehouse_id == warehouse.id)
        ).all()
        values.append(
            WarehouseValue(
                warehouse_id=warehouse.id,
                name=warehouse.name,
                level=warehouse.level,
                reserve_lines=sum(1 for s in stock if s.quantity),
                reserve_value=fen(
                    sum((price[s.material_code] * s.quantity for s in stock), Decimal(0))
                ),
                consignment_value=fen(
                    sum((c.issue_price * c.quantity for c in consigned), Decimal(0))
                ),
            )
        )
    catalog = current_quota_catalog(session=session, today=today)
    drafts = [
        _catalog_public(session, c)
        for c in session.exec(
            select(QuotaCatalog).where(QuotaCatalog.status == QuotaCatalogStatus.DRAFT)
        )
    ]
    below = reserve_positions(
        session=session, today=today, below_quota_only=True, limit=max(top, 1)
    ).items[:top]
    alerts = [
        alert
        for line in session.exec(
            select(AgreementLine).order_by(col(AgreementLine.valid_to), col(AgreementLine.id))
        )
        if (alert := agreement_alert(line, today=today)) is not None
    ]
    locations = {t.from_location for t in session.exec(select(Transport))}
    unreachable = sorted({w.location for w in session.exec(select(Warehouse))} - locations)
    return CatalogSummary(
        today=today,
        counts=counts,
        quota_catalog=_catalog_public(session, catalog) if catalog else None,
        pending_drafts=drafts,
        warehouses=values,
        below_quota=below,
        agreements_near_end=alerts,
        unreachable_locations=unreachable if counts["transport"] else [],
    )
