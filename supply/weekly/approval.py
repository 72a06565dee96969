"""Approving a weekly run: it is frozen, and the stock its plan takes is held for its lines.

In the transaction that approves it, the run is checked against what is there now (the reserve
and consignment it takes, read under lock; the demand it covers): a run that stock or demand
changed since must be re-run first. Its reserve and consignment are then held for its lines, the
budget check (R7) warns of packages the approval takes over budget, and their projects' filings
are opened, reviewed today.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from supply.availability import SupplyState, load_supply
from supply.calendar import WorkCalendar
from supply.commitments import commitments, refresh_statuses
from supply.core.audit import record
from supply.core.errors import Conflict
from supply.core.settings import Settings
from supply.demand.models import DemandLine, DemandStatus
from supply.holds.models import StockKind
from supply.holds.service import NewHold, hold_stock
from supply.packages.budget import budget_check, plan_additions
from supply.packages.filings import filing_public, record_filings
from supply.policy import DeadlinePolicy
from supply.weekly.models import LineKind, PlanLine, PlanRun, PlanRunPublic, RunApproval, RunStatus
from supply.weekly.queries import get_run_or_raise


def approve_run(
    *,
    session: Session,
    batch_id: str,
    user: str,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> RunApproval:
    """Approve and freeze the batch's run: hold its reserve and consignment for its lines.

    The budget check (R7) runs on what the approval commits: packages it takes over budget come
    back as warnings (approval goes on), and their projects' filings are opened, reviewed today.
    """
    run = get_run_or_raise(session=session, batch_id=batch_id)
    if run.status == RunStatus.APPROVED:
        raise Conflict(
            f"批次 {batch_id} 已批准 / batch {batch_id} is already approved", loc=("batch_id",)
        )
    lines = list(session.exec(select(PlanLine).where(PlanLine.run_id == run.id)))
    today = now.astimezone(policy.zone).date()
    supply = load_supply(
        session=session,
        today=today,
        order_day=run.province_match_on,
        central_warehouse=settings.default_delivery_warehouse,
        lock=True,
    )
    _check_still_valid(session, run, lines, supply)
    warnings = budget_check(session=session, additions=plan_additions(session=session, lines=lines))
    expires = calendar.add_working_days(today, settings.hold_expiry_working_days)
    hold_stock(
        session,
        [
            NewHold(
                demand_line_id=line.demand_line_id,
                stock_kind=StockKind(line.kind),
                warehouse_id=line.warehouse_id or "",
                material_code=line.material_code,
                consignment_id=line.consignment_id,
                quantity=line.quantity,
                plan_run_id=run.id,
                expires_on=expires,
            )
            for line in lines
            if line.kind in (LineKind.RESERVE, LineKind.CONSIGNMENT) and line.demand_line_id
        ],
        now=now,
        user=user,
    )
    run.status = RunStatus.APPROVED
    run.approved_at = now
    run.approved_by = user
    session.add(run)
    session.flush()
    refresh_statuses(session, [line.demand_line_id for line in lines if line.demand_line_id])
    filings = record_filings(
        session=session,
        warnings=warnings,
        review_date=today,
        now=now,
        by=user,
        calendar=calendar,
        policy=policy,
    )
    record(
        session, actor=user, action="plan.approve", object_type="plan_run",
        object_id=run.id or "", before={"status": RunStatus.DRAFT},
        after={"status": run.status, "batch_id": run.batch_id, "filings": len(filings),
               "budget_warnings": len(warnings)},
        at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(run)
    return RunApproval(
        **PlanRunPublic.model_validate(run).model_dump(),
        budget_warnings=warnings,
        filings=[filing_public(session, filing, today=today) for filing in filings],
    )


def _check_still_valid(
    session: Session, run: PlanRun, lines: list[PlanLine], supply: SupplyState
) -> None:
    """Refuse approval when stock or demand changed since the run: it must be re-run."""
    problems = []
    reserve = {(r.warehouse_id, r.material): r.available for r in supply.reserve}
    consignment = {c.id: c.available for c in supply.consignment}
    wanted_reserve: dict[tuple[str, str], int] = {}
    wanted_consignment: dict[int, int] = {}
    planned: dict[int, int] = {}
    for line in lines:
        if line.demand_line_id and line.kind != LineKind.UNMET:
            planned[line.demand_line_id] = planned.get(line.demand_line_id, 0) + line.quantity
        if line.kind == LineKind.RESERVE and line.demand_line_id:
            key = (line.warehouse_id or "", line.material_code)
            wanted_reserve[key] = wanted_reserve.get(key, 0) + line.quantity
        if line.kind == LineKind.CONSIGNMENT and line.consignment_id and line.demand_line_id:
            wanted_consignment[line.consignment_id] = (
                wanted_consignment.get(line.consignment_id, 0) + line.quantity
            )
    for (warehouse, material), quantity in sorted(wanted_reserve.items()):
        if reserve.get((warehouse, material), 0) < quantity:
            problems.append(
                f"{warehouse} {material}: 计划 {quantity}, 现可用 {reserve.get((warehouse, material), 0)}"
            )
    for consignment_id, quantity in sorted(wanted_consignment.items()):
        if consignment.get(consignment_id, 0) < quantity:
            problems.append(
                f"寄存 C:{consignment_id}: 计划 {quantity}, 现可用 {consignment.get(consignment_id, 0)}"
            )
    covered = commitments(session, planned)
    demand = {
        d.id: d
        for d in session.exec(select(DemandLine).where(col(DemandLine.id).in_(list(planned))))
    }
    for line_id, quantity in sorted(planned.items()):
        stored = demand[line_id]
        done = covered.get(line_id)
        left = (
            0
            if stored.status == DemandStatus.CANCELLED
            else stored.quantity - (done.covered if done else 0)
        )
        if left < quantity:
            problems.append(
                f"需求行 {stored.project_id}/{stored.line_no}: 计划 {quantity}, 尚缺 {left}"
            )
    if problems:
        raise Conflict(
            f"批次 {run.batch_id} 的计划运行后库存或需求已变化，请重新运行 / stock or demand changed "
            f"since the run of batch {run.batch_id}; re-run it (--rerun) before approving: "
            + "; ".join(problems[:10]),
            loc=("batch_id",),
        )
