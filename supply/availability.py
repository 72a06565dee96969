"""What supply is available now: the catalogs, less what holds and earlier plans already took.

- reserve: on hand minus active holds, with this year's confirmed quota;
- consignment: held quantity minus active holds;
- agreement lines: what the line can still serve on the order day, minus agreement quantities of
  approved runs and of urgent-request promises that the province has not matched yet (once
  matched they are in `ordered_quantity`);
- pending replenishment: reserve requested in approved runs that has not arrived yet.

`load_supply` reads it all in one pass (or only some materials); `lock=True` locks the reserve,
consignment and agreement rows it reads (`SELECT … FOR UPDATE`, in a fixed order, where the
database has it; SQLite serialises writers at BEGIN IMMEDIATE instead) for a check-and-hold
transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from catalogs.models import (
    AgreementLine,
    Consignment,
    Material,
    Quota,
    ReserveStock,
    Transport,
    Warehouse,
    remaining_quantity,
)
from catalogs.reserve import current_quota_catalog
from supply.core.db import where_in
from supply.holds.models import (
    Hold,
    HoldStatus,
    Promise,
    PromiseKind,
    PromiseStatus,
    StockKind,
)
from supply.weekly.models import LineKind, PlanLine, PlanRun, ProvinceMatch, RunStatus


@dataclass(frozen=True)
class MaterialItem:
    code: str
    name: str
    unit: str
    voltage_class: str
    standard_price: Decimal
    emergency_lead_days: int
    emergency_premium_pct: int
    heavy: bool
    reserve_catalog: bool = False  # marked as a reserve catalog material

    @property
    def emergency_price(self) -> Decimal:
        """Unit price of emergency procurement: the standard price plus the premium."""
        return self.standard_price * (100 + self.emergency_premium_pct) / 100


@dataclass(frozen=True)
class ReserveItem:
    warehouse_id: str
    material: str
    available: int  # on hand minus active holds
    on_hand: int
    quota: int


@dataclass(frozen=True)
class ConsignmentItem:
    id: int
    supplier: str
    warehouse_id: str
    material: str
    available: int
    unit_cost: Decimal


@dataclass(frozen=True)
class AgreementItem:
    id: int
    agreement_no: str
    line_no: int
    supplier: str
    material: str
    available: int
    unit_price: Decimal
    lead_days: int
    delivery_warehouse_id: str


@dataclass
class SupplyState:
    """Everything the matching needs to know about supply, as plain data."""

    materials: dict[str, MaterialItem]
    warehouse_location: dict[str, str]
    transport: dict[tuple[str, str], int]
    reserve: list[ReserveItem]
    consignment: list[ConsignmentItem]
    agreements: list[AgreementItem]
    central_warehouse: str
    pending_replenishment: dict[tuple[str, str], int] = field(default_factory=dict)
    # Materials on an agreement line valid on the order day, with quantity left or not.
    agreement_materials: frozenset[str] = frozenset()


def held_quantities(
    session: Session, materials: Collection[str] | None = None
) -> tuple[dict[tuple[str, str], int], dict[int, int]]:
    """Active holds: per (warehouse, material) of reserve, and per consignment row."""
    reserve: dict[tuple[str, str], int] = defaultdict(int)
    consignment: dict[int, int] = defaultdict(int)
    query = where_in(
        select(  # type: ignore[call-overload]  # five columns: past sqlmodel's typed overloads
            Hold.stock_kind,
            Hold.warehouse_id,
            Hold.material_code,
            Hold.consignment_id,
            func.sum(Hold.quantity),
        )
        .where(Hold.status == HoldStatus.HELD)
        .group_by(Hold.stock_kind, Hold.warehouse_id, Hold.material_code, Hold.consignment_id),
        Hold.material_code,
        materials,
    )
    for kind, warehouse, material, consignment_id, quantity in session.exec(query):
        if kind == StockKind.RESERVE:
            reserve[warehouse, material] += int(quantity)
        else:
            consignment[consignment_id] += int(quantity)
    return reserve, consignment


def pending_agreement_quantities(
    session: Session, materials: Collection[str] | None = None
) -> dict[int, int]:
    """Agreement quantities of approved runs and promises that the province has not matched yet."""
    matched = select(ProvinceMatch.run_id)
    matched_batches = select(PlanRun.batch_id).where(col(PlanRun.id).in_(matched))
    pending: dict[int, int] = defaultdict(int)
    promised = session.exec(
        where_in(
            select(Promise.agreement_line_id, func.sum(Promise.quantity))
            .where(
                Promise.status == PromiseStatus.PROMISED,
                Promise.kind == PromiseKind.AGREEMENT,
                col(Promise.batch_id).not_in(matched_batches),
            )
            .group_by(col(Promise.agreement_line_id)),
            Promise.material_code,
            materials,
        )
    )
    for line, quantity in promised:
        pending[int(line)] += int(quantity)
    rows = session.exec(
        where_in(
            select(PlanLine.agreement_line_id, func.sum(PlanLine.quantity))
            .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
            .where(
                PlanRun.status == RunStatus.APPROVED,
                col(PlanRun.id).not_in(matched),
                PlanLine.kind == LineKind.AGREEMENT,
                col(PlanLine.agreement_line_id).is_not(None),
            )
            .group_by(col(PlanLine.agreement_line_id)),
            PlanLine.material_code,
            materials,
        )
    )
    for line, quantity in rows:
        pending[int(line)] += int(quantity)
    return dict(pending)


def pending_replenishment(
    session: Session, *, today: date, materials: Collection[str] | None = None
) -> dict[tuple[str, str], int]:
    """Replenishment planned in approved runs that has not arrived by `today`."""
    rows = session.exec(
        where_in(
            select(
                PlanLine.replenish_warehouse_id, PlanLine.material_code, func.sum(PlanLine.quantity)
            )
            .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
            .where(
                PlanRun.status == RunStatus.APPROVED,
                col(PlanLine.replenish_warehouse_id).is_not(None),
                PlanLine.kind != LineKind.UNMET,
                col(PlanLine.arrival) > today,
            )
            .group_by(PlanLine.replenish_warehouse_id, PlanLine.material_code),
            PlanLine.material_code,
            materials,
        )
    )
    return {(str(w), str(m)): int(q) for w, m, q in rows}


def catalogued_materials(
    *, session: Session, today: date, among: Collection[str] | None = None
) -> frozenset[str]:
    """Return the materials (of those `among`, or all) some catalog serves on `today`.

    In the reserve quota catalog (marked so, or with a quota in this year's confirmed version),
    on an agreement line with quantity left today, or held in consignment.
    """
    codes = set(
        session.exec(
            where_in(
                select(Material.code).where(col(Material.reserve_catalog)), Material.code, among
            )
        )
    )
    catalog = current_quota_catalog(session=session, today=today)
    if catalog is not None:
        codes.update(
            session.exec(
                where_in(
                    select(Quota.material_code).where(Quota.catalog_id == catalog.id),
                    Quota.material_code,
                    among,
                )
            )
        )
    for line in session.exec(
        where_in(
            select(AgreementLine).where(
                col(AgreementLine.valid_from) <= today, col(AgreementLine.valid_to) >= today
            ),
            AgreementLine.material_code,
            among,
        )
    ):
        if remaining_quantity(line, today) > 0:
            codes.add(line.material_code)
    codes.update(
        session.exec(
            where_in(
                select(Consignment.material_code).where(col(Consignment.quantity) > 0),
                Consignment.material_code,
                among,
            )
        )
    )
    return frozenset(codes)


def material_item(m: Material) -> MaterialItem:
    """What planning needs of a material of the master."""
    return MaterialItem(
        code=m.code,
        name=m.name_zh,
        unit=m.unit,
        voltage_class=m.voltage_class,
        standard_price=m.standard_price,
        emergency_lead_days=m.emergency_lead_days,
        emergency_premium_pct=m.emergency_premium_pct,
        heavy=m.heavy,
        reserve_catalog=m.reserve_catalog,
    )


def load_supply(
    *,
    session: Session,
    today: date,
    order_day: date,
    central_warehouse: str,
    lock: bool = False,
    materials: Collection[str] | None = None,
) -> SupplyState:
    """Read the supply available on `today`; agreement lines must be valid on `order_day`.

    With `materials`, only the stock, consignment and agreement lines of those materials.
    """
    known = {
        m.code: material_item(m)
        for m in session.exec(where_in(select(Material), Material.code, materials))
    }
    stock_rows, consignment_rows, agreement_rows = _stock_rows(session, materials, lock=lock)
    on_hand = {(s.warehouse_id, s.material_code): s.quantity for s in stock_rows}
    held_reserve, held_consignment = held_quantities(session, materials)
    catalog = current_quota_catalog(session=session, today=today)
    quotas: dict[tuple[str, str], int] = {}
    if catalog is not None:
        quotas = {
            (q.warehouse_id, q.material_code): q.quantity
            for q in session.exec(
                where_in(
                    select(Quota).where(Quota.catalog_id == catalog.id),
                    Quota.material_code,
                    materials,
                )
            )
        }
    reserve = [
        ReserveItem(
            warehouse_id=w,
            material=m,
            on_hand=on_hand.get((w, m), 0),
            available=max(0, on_hand.get((w, m), 0) - held_reserve.get((w, m), 0)),
            quota=quotas.get((w, m), 0),
        )
        for w, m in sorted(on_hand.keys() | quotas.keys())
    ]
    consignment = [
        ConsignmentItem(
            id=c.id or 0,
            supplier=c.supplier,
            warehouse_id=c.warehouse_id,
            material=c.material_code,
            available=max(0, c.quantity - held_consignment.get(c.id or 0, 0)),
            unit_cost=c.issue_price,
        )
        for c in consignment_rows
    ]
    pending = pending_agreement_quantities(session, materials)
    agreements = []
    for line in agreement_rows:
        left = remaining_quantity(line, order_day) - pending.get(line.id or 0, 0)
        if left > 0:
            agreements.append(
                AgreementItem(
                    id=line.id or 0,
                    agreement_no=line.agreement_no,
                    line_no=line.line_no,
                    supplier=line.supplier,
                    material=line.material_code,
                    available=left,
                    unit_price=line.unit_price,
                    lead_days=line.lead_days,
                    delivery_warehouse_id=line.delivery_warehouse_id,
                )
            )
    return SupplyState(
        materials=known,
        warehouse_location={w.id: w.location for w in session.exec(select(Warehouse))},
        transport={
            (t.from_location, t.to_location): t.days for t in session.exec(select(Transport))
        },
        reserve=reserve,
        consignment=consignment,
        agreements=agreements,
        central_warehouse=central_warehouse,
        pending_replenishment=pending_replenishment(session, today=today, materials=materials),
        agreement_materials=frozenset(
            line.material_code
            for line in agreement_rows
            if line.valid_from <= order_day <= line.valid_to
        ),
    )


def _stock_rows(
    session: Session, materials: Collection[str] | None, *, lock: bool
) -> tuple[list[Any], list[Any], list[Any]]:
    """The reserve, consignment and agreement rows (of some materials), locked when asked —
    always in this order and sorted, so that two check-and-hold transactions never deadlock.
    Plain rows (attributes named as the columns), not ORM objects: read on every request."""

    def rows(model: Any, *order: Any) -> list[Any]:
        table = model.__table__
        query = where_in(select(*table.c).order_by(*order), table.c.material_code, materials)
        return list(session.exec(query.with_for_update() if lock else query))

    return (
        rows(ReserveStock, col(ReserveStock.warehouse_id), col(ReserveStock.material_code)),
        rows(Consignment, col(Consignment.id)),
        rows(AgreementLine, col(AgreementLine.id)),
    )


def free_under_lock(
    *, session: Session, materials: Collection[str], order_day: date
) -> dict[tuple[str, object], int]:
    """Lock the reserve, consignment and agreement rows of `materials` (as `load_supply` does)
    and say what each still has free: keyed ("reserve", (warehouse, material)),
    ("consignment", id) and ("agreement", line id). The lean re-check of a check-and-hold."""
    stock, consignment, agreements = _stock_rows(session, materials, lock=True)
    held_reserve, held_consignment = held_quantities(session, materials)
    pending = pending_agreement_quantities(session, materials)
    free: dict[tuple[str, object], int] = {}
    for s in stock:
        key = (s.warehouse_id, s.material_code)
        free["reserve", key] = s.quantity - held_reserve.get(key, 0)
    for c in consignment:
        free["consignment", c.id] = c.quantity - held_consignment.get(c.id or 0, 0)
    for line in agreements:
        free["agreement", line.id] = remaining_quantity(line, order_day) - pending.get(
            line.id or 0, 0
        )
    return free
