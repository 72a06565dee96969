"""The catalogs on one page: counts, stock and consignment value by warehouse, what needs care.

`catalog_summary` gathers the quota catalog in force and the drafts waiting for confirmation, the
largest shortfalls against it, agreement lines near the end of their band or validity, and the
locations no transport days lead from. A read: it never writes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalogs.models import (
    AgreementLine,
    CatalogSummary,
    Consignment,
    Material,
    Quota,
    QuotaCatalog,
    QuotaCatalogStatus,
    ReserveStock,
    Transport,
    Warehouse,
    WarehouseValue,
)
from catalogs.queries import agreement_alert
from catalogs.reserve import catalog_public, current_quota_catalog, reserve_positions
from supply.core.money import fen


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
        catalog_public(session, c)
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
        quota_catalog=catalog_public(session, catalog) if catalog else None,
        pending_drafts=drafts,
        warehouses=values,
        below_quota=below,
        agreements_near_end=alerts,
        unreachable_locations=unreachable if counts["transport"] else [],
    )
