"""What supply is available now: the catalogs, less what holds and earlier plans already took.

- reserve: on hand minus active holds, with this year's confirmed quota;
- consignment: held quantity minus active holds;
- agreement lines: what the line can still serve on the order day, minus agreement quantities of
  approved runs the province has not matched yet (once matched they are in `ordered_quantity`);
- pending replenishment: reserve requested in approved runs that has not arrived yet.

`load_supply` reads it all in one pass; `lock=True` locks the reserve and consignment rows
(`SELECT … FOR UPDATE` where the database has it) for a check-and-hold transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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
from catalogs.service import current_quota_catalog
from supply.holds.models import Hold, HoldStatus, StockKind
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


def held_quantities(session: Session) -> tuple[dict[tuple[str, str], int], dict[int, int]]:
    """Active holds: per (warehouse, material) of reserve, and per consignment row."""
    reserve: dict[tuple[str, str], int] = defaultdict(int)
    consignment: dict[int, int] = defaultdict(int)
    rows = session.exec(
        select(
            Hold.stock_kind,
            Hold.warehouse_id,
            Hold.material_code,
            Hold.consignment_id,
            func.sum(Hold.quantity),
        )
        .where(Hold.status == HoldStatus.HELD)
        .group_by(Hold.stock_kind, Hold.warehouse_id, Hold.material_code, Hold.consignment_id)
    )
    for kind, warehouse, material, consignment_id, quantity in rows:
        if kind == StockKind.RESERVE:
            reserve[warehouse, material] += int(quantity)
        else:
            consignment[consignment_id] += int(quantity)
    return reserve, consignment


def pending_agreement_quantities(session: Session) -> dict[int, int]:
    """Agreement quantities of approved runs that the province has not matched yet."""
    matched = select(ProvinceMatch.run_id)
    rows = session.exec(
        select(PlanLine.agreement_line_id, func.sum(PlanLine.quantity))
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(
            PlanRun.status == RunStatus.APPROVED,
            col(PlanRun.id).not_in(matched),
            PlanLine.kind == LineKind.AGREEMENT,
            col(PlanLine.agreement_line_id).is_not(None),
        )
        .group_by(PlanLine.agreement_line_id)
    )
    return {int(line): int(quantity) for line, quantity in rows}


def pending_replenishment(session: Session, *, today: date) -> dict[tuple[str, str], int]:
    """Replenishment planned in approved runs that has not arrived by `today`."""
    rows = session.exec(
        select(PlanLine.replenish_warehouse_id, PlanLine.material_code, func.sum(PlanLine.quantity))
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(
            PlanRun.status == RunStatus.APPROVED,
            col(PlanLine.replenish_warehouse_id).is_not(None),
            PlanLine.kind != LineKind.UNMET,
            col(PlanLine.arrival) > today,
        )
        .group_by(PlanLine.replenish_warehouse_id, PlanLine.material_code)
    )
    return {(str(w), str(m)): int(q) for w, m, q in rows}


def load_supply(
    *, session: Session, today: date, order_day: date, central_warehouse: str, lock: bool = False
) -> SupplyState:
    """Read the supply available on `today`; agreement lines must be valid on `order_day`."""
    materials = {
        m.code: MaterialItem(
            code=m.code,
            name=m.name_zh,
            unit=m.unit,
            voltage_class=m.voltage_class,
            standard_price=m.standard_price,
            emergency_lead_days=m.emergency_lead_days,
            emergency_premium_pct=m.emergency_premium_pct,
            heavy=m.heavy,
        )
        for m in session.exec(select(Material))
    }
    stock_query = select(ReserveStock)
    consignment_query = select(Consignment).order_by(col(Consignment.id))
    if lock:  # lock the stock rows first, then count the holds on them
        stock_query = stock_query.with_for_update()
        consignment_query = consignment_query.with_for_update()
    on_hand = {(s.warehouse_id, s.material_code): s.quantity for s in session.exec(stock_query)}
    consignment_rows = list(session.exec(consignment_query))
    held_reserve, held_consignment = held_quantities(session)
    catalog = current_quota_catalog(session=session, today=today)
    quotas: dict[tuple[str, str], int] = {}
    if catalog is not None:
        quotas = {
            (q.warehouse_id, q.material_code): q.quantity
            for q in session.exec(select(Quota).where(Quota.catalog_id == catalog.id))
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
    pending = pending_agreement_quantities(session)
    agreements = []
    for line in session.exec(select(AgreementLine).order_by(col(AgreementLine.id))):
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
        materials=materials,
        warehouse_location={w.id: w.location for w in session.exec(select(Warehouse))},
        transport={
            (t.from_location, t.to_location): t.days for t in session.exec(select(Transport))
        },
        reserve=reserve,
        consignment=consignment,
        agreements=agreements,
        central_warehouse=central_warehouse,
        pending_replenishment=pending_replenishment(session, today=today),
    )
