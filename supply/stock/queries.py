"""The reads of 库存与定额: reserve against quota with its holds, agreement lines against their
execution band, consignment by supplier. Plain functions with keyword-only arguments over the
catalogs' own queries (`catalogs.reserve`, `catalogs.queries`), adding what the holds and the
promises of `supply` know. Reads never write."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from sqlmodel import Session, col, func, or_, select

from catalogs.models import AgreementLinePublic, Consignment, Material
from catalogs.queries import contains, list_agreements
from catalogs.reserve import reserve_positions
from supply.availability import held_quantities, pending_agreement_quantities
from supply.core.money import fen
from supply.core.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, paginate, sort_order
from supply.stock.models import (
    CONSIGNMENT_SORTS,
    EXPIRING_DAYS,
    AgreementExecution,
    AgreementFilter,
    Band,
    ConsignmentFilter,
    ConsignmentHolding,
    ExpiringAgreement,
    PositionFilter,
    StockPosition,
    SupplierConsignment,
)

T = TypeVar("T")
EXPORT_LIMIT = 100_000  # rows in one Excel export
ONE_PLACE = Decimal("0.1")


def every_row(read: Callable[[int, int], Page[T]], cap: int = EXPORT_LIMIT) -> list[T]:
    """Every item of a paged read (`read(offset, limit)`), page after page, at most `cap`."""
    found: list[T] = []
    while len(found) < cap:
        page = read(len(found), min(MAX_LIMIT, cap - len(found)))
        found.extend(page.items)
        if not page.items or len(found) >= page.total:
            break
    return found


def _materials(session: Session, codes: Collection[str]) -> dict[str, Material]:
    if not codes:
        return {}
    rows = session.exec(select(Material).where(col(Material.code).in_(sorted(set(codes)))))
    return {m.code: m for m in rows}


# ---------------------------------------------------------------- reserve against quota


def stock_positions(
    *,
    session: Session,
    today: date,
    where: PositionFilter | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[StockPosition]:
    """Reserve on hand per warehouse and material against `today`'s year's confirmed quota
    (`catalogs.reserve.reserve_positions`), with what active holds set aside of it."""
    where = where or PositionFilter()
    page = reserve_positions(
        session=session, today=today, warehouse_id=where.warehouse_id,
        material_code=where.material_code, q=where.q, below_quota_only=where.below_quota_only,
        sort=where.sort, offset=offset, limit=limit,
    )  # fmt: skip
    held, _ = held_quantities(session, {p.material_code for p in page.items})
    items = []
    for position in page.items:
        taken = held.get((position.warehouse_id, position.material_code), 0)
        items.append(
            StockPosition(
                **position.model_dump(),
                held=taken,
                available=max(0, position.on_hand - taken),
                below_quota=position.shortfall > 0,
            )
        )
    return Page[StockPosition](items=items, total=page.total, offset=page.offset, limit=limit)


# ---------------------------------------------------------------- agreement execution


def percent_of(part: int, whole: int) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal, half up (None when `whole` is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def band_of(committed: int, *, estimate: int, low_pct: int, high_pct: int) -> Band:
    """Where `committed` stands against the band [estimate × low %, estimate × high %]."""
    if committed * 100 < estimate * low_pct:
        return Band.UNDER
    if committed * 100 > estimate * high_pct:
        return Band.OVER
    return Band.WITHIN


def execution(
    line: AgreementLinePublic, *, promised: int, today: date, material: Material
) -> AgreementExecution:
    """An agreement line's execution on `today`: ordered and promised against its band, and
    how many days its validity has left."""
    committed = line.ordered_quantity + promised
    days_left = (line.valid_to - today).days
    return AgreementExecution(
        **line.model_dump(),
        material_name=material.name_zh,
        unit=material.unit,
        promised=promised,
        committed=committed,
        executed_pct=percent_of(line.ordered_quantity, line.estimated_quantity),
        committed_pct=percent_of(committed, line.estimated_quantity),
        band=band_of(
            committed,
            estimate=line.estimated_quantity,
            low_pct=line.band_low_pct,
            high_pct=line.band_high_pct,
        ),
        days_left=days_left,
        expiring=line.valid_from <= today and 0 <= days_left <= EXPIRING_DAYS,
    )


def agreement_execution(
    *,
    session: Session,
    today: date,
    where: AgreementFilter | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[AgreementExecution]:
    """Agreement lines (`catalogs.queries.list_agreements`) with their execution on `today`:
    ordered, promised (approved plans and urgent promises the province has not matched yet),
    the percentages of the estimate, the band, the days their validity has left."""
    where = where or AgreementFilter()
    page = list_agreements(
        session=session, today=today, supplier=where.supplier, material_code=where.material_code,
        q=where.q, tender=where.tender, agreement_no=where.agreement_no, serving=where.serving,
        expiring_within=where.expiring_within, sort=where.sort, offset=offset, limit=limit,
    )  # fmt: skip
    codes = {line.material_code for line in page.items}
    pending = pending_agreement_quantities(session, codes) if codes else {}
    materials = _materials(session, codes)
    items = [
        execution(
            line,
            promised=pending.get(line.id, 0),
            today=today,
            material=materials[line.material_code],
        )
        for line in page.items
    ]
    return Page[AgreementExecution](items=items, total=page.total, offset=offset, limit=limit)


def expiring_agreements(*, session: Session, today: date) -> list[ExpiringAgreement]:
    """The agreements whose lines, valid today, end within EXPIRING_DAYS days, the soonest
    first: per agreement and end date, how many lines end, how many are below their band's
    lower end, how many can still serve."""
    lines = every_row(
        lambda offset, limit: agreement_execution(
            session=session,
            today=today,
            where=AgreementFilter(expiring_within=EXPIRING_DAYS, sort="valid_to"),
            offset=offset,
            limit=limit,
        )
    )
    groups: dict[tuple[date, str], list[AgreementExecution]] = defaultdict(list)
    for line in lines:
        groups[line.valid_to, line.agreement_no].append(line)
    return [
        ExpiringAgreement(
            agreement_no=number,
            tender=group[0].tender,
            supplier=group[0].supplier,
            valid_to=valid_to,
            days_left=group[0].days_left,
            lines=len(group),
            under=sum(1 for a in group if a.band == Band.UNDER),
            usable=sum(1 for a in group if a.remaining_quantity > 0),
        )
        for (valid_to, number), group in sorted(groups.items())
    ]


# ---------------------------------------------------------------- consignment by supplier


def _consignment_rows(where: ConsignmentFilter) -> Any:
    statement = select(Consignment)
    if where.supplier:
        statement = statement.where(contains(Consignment.supplier, where.supplier))
    if where.warehouse_id:
        statement = statement.where(Consignment.warehouse_id == where.warehouse_id)
    if where.q:
        named = select(Material.code).where(
            or_(contains(Material.code, where.q), contains(Material.name_zh, where.q))
        )
        statement = statement.where(col(Consignment.material_code).in_(named))
    return statement


def consignment_by_supplier(
    *,
    session: Session,
    where: ConsignmentFilter | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[SupplierConsignment]:
    """Vendor consignment (the vendor's until issued) grouped by supplier: their rows with
    what holds set aside, and the value at the issue price; a page of suppliers, the largest
    value first or by `sort` (a key of CONSIGNMENT_SORTS, `-key` descending)."""
    where = where or ConsignmentFilter()
    rows = _consignment_rows(where).subquery("rows")
    value = func.sum(rows.c.issue_price * rows.c.quantity)
    lines = func.count()
    grouped = select(rows.c.supplier).group_by(rows.c.supplier)
    columns = dict(zip(CONSIGNMENT_SORTS, (rows.c.supplier, lines, value), strict=True))
    order = sort_order(where.sort, columns, default=[value.desc()], tiebreak=rows.c.supplier)
    suppliers = paginate(
        session, grouped, order_by=order, offset=offset, limit=limit, convert=lambda r: str(r)
    )
    if not suppliers.items:
        return Page[SupplierConsignment](
            items=[], total=suppliers.total, offset=offset, limit=limit
        )
    found = session.exec(
        _consignment_rows(where)
        .where(col(Consignment.supplier).in_(suppliers.items))
        .order_by(col(Consignment.warehouse_id), col(Consignment.material_code))
    ).all()
    _, held = held_quantities(session, {c.material_code for c in found})
    materials = _materials(session, {c.material_code for c in found})
    by_supplier: dict[str, list[ConsignmentHolding]] = defaultdict(list)
    for row in found:
        taken = held.get(row.id or 0, 0)
        material = materials[row.material_code]
        by_supplier[row.supplier].append(
            ConsignmentHolding(
                **row.model_dump(exclude={"updated_at"}),
                material_name=material.name_zh,
                unit=material.unit,
                held=taken,
                available=max(0, row.quantity - taken),
                value=fen(row.issue_price * row.quantity),
            )
        )
    items = []
    for supplier in suppliers.items:
        holdings = by_supplier[supplier]
        items.append(
            SupplierConsignment(
                supplier=supplier,
                lines=len(holdings),
                warehouses=sorted({h.warehouse_id for h in holdings}),
                value=sum((h.value for h in holdings), Decimal(0)),
                held_value=sum((fen(h.issue_price * h.held) for h in holdings), Decimal(0)),
                items=holdings,
            )
        )
    return Page[SupplierConsignment](items=items, total=suppliers.total, offset=offset, limit=limit)
