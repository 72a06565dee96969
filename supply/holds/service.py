"""The life of a hold: held → issued (goods issue) or released (cancelled, or expired).

Every change is a `HoldEvent` with who and when. Issuing takes the quantity out of the
warehouse's on-hand stock (reserve) or out of the vendor's consignment row, where ownership
passes and a settlement line records what the vendor is owed. A hold not issued by its
`expires_on` date is released as expired, by `expire_due_holds` (called by every check-and-hold
transaction and by `gridsupply holds expire`), so a forgotten hold never blocks stock for long.

Use cases that change stock run in `write_session` and lock the rows they change, so the
invariant — for every stock row, on-hand ≥ 0 and Σ held ≤ on-hand — holds under concurrency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogs.models import Consignment, ReserveStock
from supply.auth.actor import ProjectScope
from supply.commitments import refresh_statuses
from supply.core.audit import record as audit
from supply.core.db import insert_rows, write_session
from supply.core.errors import Conflict, ConflictingInput, NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, paginate
from supply.demand.models import DemandLine
from supply.holds.models import (
    ConsignmentSettlement,
    Hold,
    HoldDetail,
    HoldEvent,
    HoldEventKind,
    HoldEventPublic,
    HoldPublic,
    HoldStatus,
    StockKind,
)
from supply.projects.scope import visible, visible_ids

SYSTEM_USER = "system"


def record(
    session: Session,
    hold: Hold,
    event: HoldEventKind,
    *,
    quantity: int,
    now: datetime,
    user: str,
    note: str = "",
) -> None:
    """Add an event to a hold's history, and its audit event (flush is the caller's)."""
    assert hold.id is not None, "flush the hold first"
    audit(
        session, actor=user, action=f"hold.{event}", object_type="hold", object_id=hold.id,
        after={"status": hold.status, "quantity": quantity, "note": note}, at=now,
    )  # fmt: skip
    session.add(
        HoldEvent(
            hold_id=hold.id,
            event=event,
            quantity=quantity,
            at=now,
            by=user[:100],
            note=note[:200],
        )
    )


@dataclass(frozen=True)
class NewHold:
    """Stock to hold for a demand line, by an urgent request or an approved weekly plan."""

    demand_line_id: int
    stock_kind: StockKind
    warehouse_id: str
    material_code: str
    quantity: int
    expires_on: date
    consignment_id: int | None = None
    request_id: int | None = None
    plan_run_id: int | None = None
    by: str | None = None  # who holds it, if not the `user` holding them all


def hold_stock(
    session: Session, holds: Sequence[NewHold], *, now: datetime, user: str
) -> list[int]:
    """Insert new holds, each with its `held` event, and return their ids in order: the one way
    stock gets held. The caller checked the stock is there, under lock, and keeps the lines'
    status and covered quantity (`refresh_statuses`, or computed for new lines); the use case
    commits."""
    users = [(h.by or user)[:100] for h in holds]
    rows = []
    for h, by in zip(holds, users, strict=True):
        row = asdict(h)
        del row["by"]
        rows.append({**row, "created_at": now, "created_by": by})
    ids = insert_rows(session, Hold, rows)
    if ids:
        session.connection().execute(
            insert(HoldEvent.__table__),  # type: ignore[attr-defined]
            [
                {"hold_id": i, "event": HoldEventKind.HELD, "quantity": h.quantity, "at": now,
                 "by": by}
                for i, h, by in zip(ids, holds, users, strict=True)
            ],
        )  # fmt: skip
    return ids


def _close(hold: Hold, status: HoldStatus, *, now: datetime, user: str) -> None:
    hold.status = status
    hold.closed_at = now
    hold.closed_by = user[:100]


def expire_due_holds(session: Session, *, today: date, now: datetime) -> list[int]:
    """Release every hold whose `expires_on` is before `today`; return their ids (flush only)."""
    due = list(
        session.exec(
            select(Hold)
            .where(Hold.status == HoldStatus.HELD, col(Hold.expires_on) < today)
            .order_by(col(Hold.id))
            .with_for_update()
        )
    )
    for hold in due:
        _close(hold, HoldStatus.RELEASED, now=now, user=SYSTEM_USER)
        session.add(hold)
        record(
            session,
            hold,
            HoldEventKind.EXPIRED,
            quantity=hold.quantity,
            now=now,
            user=SYSTEM_USER,
            note=f"未在 {hold.expires_on} 前出库 / not issued by {hold.expires_on}",
        )
    if due:
        session.flush()
        refresh_statuses(session, {hold.demand_line_id for hold in due})
    return [hold.id for hold in due if hold.id is not None]


def expire_holds(*, engine: Engine, today: date, now: datetime) -> list[int]:
    """Use case: release the holds past their date, in one transaction."""
    with write_session(engine) as session:
        released = expire_due_holds(session, today=today, now=now)
        session.commit()
    return released


def _locked_hold(session: Session, hold_id: int) -> Hold:
    hold = session.exec(select(Hold).where(Hold.id == hold_id).with_for_update()).first()
    if hold is None:
        raise NotFound(f"保留 {hold_id} 不存在 / hold {hold_id} does not exist", loc=("hold_id",))
    if hold.status != HoldStatus.HELD:
        raise Conflict(
            f"保留 {hold_id} 已{'出库' if hold.status == HoldStatus.ISSUED else '释放'} / hold "
            f"{hold_id} is already {hold.status}",
            loc=("hold_id",),
        )
    return hold


def issue_hold(
    *,
    engine: Engine,
    hold_id: int,
    quantity: int | None,
    now: datetime,
    user: str,
    today: date,
) -> HoldDetail:
    """Goods issue: take `quantity` (default all) of a hold out of stock.

    A partial issue splits the hold: the issued part is closed as `issued`, the rest stays
    held (same expiry). Reserve on-hand falls by the quantity; a consignment row falls too, and
    a settlement line records the transfer of ownership and the amount owed to the vendor.
    """
    with write_session(engine) as session:
        expire_due_holds(session, today=today, now=now)
        hold = _locked_hold(session, hold_id)
        amount = hold.quantity if quantity is None else quantity
        if not 0 < amount <= hold.quantity:
            raise ConflictingInput(
                f"出库数量须在 1 到 {hold.quantity} 之间 / the quantity to issue must be "
                f"between 1 and {hold.quantity}, got {amount}",
                loc=("quantity",),
            )
        if amount < hold.quantity:
            rest = Hold(
                **hold.model_dump(exclude={"id", "quantity", "created_at", "created_by"}),
                quantity=hold.quantity - amount,
                created_at=now,
                created_by=user[:100],
            )
            session.add(rest)
            session.flush()
            record(
                session,
                rest,
                HoldEventKind.HELD,
                quantity=rest.quantity,
                now=now,
                user=user,
                note=f"保留 {hold.id} 部分出库后的余量 / the rest of hold {hold.id} after a partial issue",
            )
            hold.quantity = amount
        _take_from_stock(session, hold, now=now, user=user)
        _close(hold, HoldStatus.ISSUED, now=now, user=user)
        session.add(hold)
        session.flush()
        record(session, hold, HoldEventKind.ISSUED, quantity=amount, now=now, user=user)
        refresh_statuses(session, [hold.demand_line_id])
        session.commit()
        return hold_detail(session=session, hold_id=hold_id)


def _take_from_stock(session: Session, hold: Hold, *, now: datetime, user: str) -> None:
    if hold.stock_kind == StockKind.RESERVE:
        stock = session.exec(
            select(ReserveStock)
            .where(
                ReserveStock.warehouse_id == hold.warehouse_id,
                ReserveStock.material_code == hold.material_code,
            )
            .with_for_update()
        ).first()
        if stock is None or stock.quantity < hold.quantity:
            raise Conflict(
                f"{hold.warehouse_id} {hold.material_code} 库存不足以出库 {hold.quantity} / "
                f"on-hand stock no longer covers the issue of {hold.quantity}: take stock first",
                loc=("hold_id",),
            )
        stock.quantity -= hold.quantity
        stock.updated_at = now
        session.add(stock)
        return
    row = session.exec(
        select(Consignment).where(Consignment.id == hold.consignment_id).with_for_update()
    ).first()
    if row is None or row.quantity < hold.quantity:
        raise Conflict(
            f"寄存 {hold.consignment_id} 不足以出库 {hold.quantity} / the consignment row no longer "
            f"covers the issue of {hold.quantity}",
            loc=("hold_id",),
        )
    row.quantity -= hold.quantity
    row.updated_at = now
    session.add(row)
    line = session.get(DemandLine, hold.demand_line_id)
    assert line is not None
    session.add(
        ConsignmentSettlement(
            hold_id=hold.id or 0,
            consignment_id=row.id or 0,
            supplier=row.supplier,
            material_code=row.material_code,
            project_id=line.project_id,
            quantity=hold.quantity,
            unit_price=row.issue_price,
            amount=row.issue_price * hold.quantity,
            issued_at=now,
            issued_by=user[:100],
        )
    )


def release_hold(
    *, engine: Engine, hold_id: int, reason: str, now: datetime, user: str, today: date
) -> HoldDetail:
    """Give a hold back (the project manager cancels it): the stock is free again."""
    with write_session(engine) as session:
        expire_due_holds(session, today=today, now=now)
        hold = _locked_hold(session, hold_id)
        release(session, hold, reason=reason, now=now, user=user)
        refresh_statuses(session, [hold.demand_line_id])
        session.commit()
        return hold_detail(session=session, hold_id=hold_id)


def release(session: Session, hold: Hold, *, reason: str, now: datetime, user: str) -> None:
    """Close a held hold as released, with its event (flush only)."""
    _close(hold, HoldStatus.RELEASED, now=now, user=user)
    session.add(hold)
    session.flush()
    record(
        session,
        hold,
        HoldEventKind.RELEASED,
        quantity=hold.quantity,
        now=now,
        user=user,
        note=reason,
    )


# --- reading ----------------------------------------------------------------------------------


def _public(hold: Hold, line: DemandLine) -> HoldPublic:
    return HoldPublic.model_validate(
        {**hold.model_dump(), "project_id": line.project_id, "line_no": line.line_no}
    )


def list_holds(
    *,
    session: Session,
    status: HoldStatus | None = None,
    project_id: str | None = None,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    request_id: int | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    scope: ProjectScope | None = None,
) -> Page[HoldPublic]:
    """Holds of the projects `scope` reaches, newest first, filtered."""
    statement = visible(
        select(Hold, DemandLine).join(DemandLine, col(DemandLine.id) == Hold.demand_line_id),
        DemandLine.project_id,
        scope,
    )
    if status is not None:
        statement = statement.where(Hold.status == status)
    if project_id is not None:
        statement = statement.where(DemandLine.project_id == project_id)
    if warehouse_id is not None:
        statement = statement.where(Hold.warehouse_id == warehouse_id)
    if material_code is not None:
        statement = statement.where(Hold.material_code == material_code)
    if request_id is not None:
        statement = statement.where(Hold.request_id == request_id)
    return paginate(
        session,
        statement,
        order_by=[col(Hold.id).desc()],
        offset=offset,
        limit=limit,
        convert=lambda row: _public(*row),
    )


def check_hold_visible(session: Session, hold_id: int, scope: ProjectScope | None) -> None:
    """NotFound, worded as for a missing hold, for a hold of a project `scope` does not reach."""
    if scope is None:
        return
    project_id = session.exec(
        select(DemandLine.project_id)
        .join(Hold, col(Hold.demand_line_id) == DemandLine.id)
        .where(Hold.id == hold_id)
    ).first()
    if project_id is not None and not visible_ids(session, [project_id], scope):
        raise NotFound(f"保留 {hold_id} 不存在 / hold {hold_id} does not exist", loc=("hold_id",))


def hold_detail(*, session: Session, hold_id: int) -> HoldDetail:
    """One hold with its history and, once issued from consignment, its settlement."""
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"保留 {hold_id} 不存在 / hold {hold_id} does not exist", loc=("hold_id",))
    line = session.get(DemandLine, hold.demand_line_id)
    assert line is not None
    events = session.exec(
        select(HoldEvent).where(HoldEvent.hold_id == hold_id).order_by(col(HoldEvent.id))
    )
    settlement = session.exec(
        select(ConsignmentSettlement).where(ConsignmentSettlement.hold_id == hold_id)
    ).first()
    return HoldDetail(
        **_public(hold, line).model_dump(),
        events=[HoldEventPublic.model_validate(e) for e in events],
        settlement_amount=settlement.amount if settlement else None,
    )
