"""How much of each demand line already has a source, and the line status that follows.

A line's quantity is covered by stock held for it (reserve or consignment holds, `held` or
`issued`) and by agreement or emergency supply planned for it in approved weekly runs or
promised to it by an urgent request. What is left is *outstanding*: the weekly run plans it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from supply.core.db import where_in
from supply.demand.models import DemandLine, DemandStatus
from supply.holds.models import Hold, HoldStatus, Promise, PromiseStatus
from supply.weekly.models import LineKind, PlanLine, PlanRun, RunStatus


@dataclass(frozen=True)
class Commitment:
    """Quantities of one line by how far along they are."""

    issued: int = 0
    held: int = 0
    planned: int = 0  # agreement or emergency supply in approved plans or promises

    @property
    def covered(self) -> int:
        return self.issued + self.held + self.planned


def commitments(
    session: Session,
    line_ids: Iterable[int] | None = None,
    *,
    materials: Collection[str] | None = None,
) -> dict[int, Commitment]:
    """Return the commitment of each line (all lines with any when `line_ids` is None), of
    lines of some materials only with `materials`."""
    ids = None if line_ids is None else list(line_ids)
    holds = select(Hold.demand_line_id, Hold.status, func.sum(Hold.quantity)).where(
        col(Hold.status).in_([HoldStatus.HELD, HoldStatus.ISSUED])
    )
    planned = (
        select(PlanLine.demand_line_id, func.sum(PlanLine.quantity))
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(
            PlanRun.status == RunStatus.APPROVED,
            col(PlanLine.kind).in_([LineKind.AGREEMENT, LineKind.EMERGENCY]),
            col(PlanLine.demand_line_id).is_not(None),
        )
    )
    promised = select(Promise.demand_line_id, func.sum(Promise.quantity)).where(
        col(Promise.status).in_([PromiseStatus.PROMISED, PromiseStatus.FULFILLED])
    )
    if ids is not None:
        holds = holds.where(col(Hold.demand_line_id).in_(ids))
        planned = planned.where(col(PlanLine.demand_line_id).in_(ids))
        promised = promised.where(col(Promise.demand_line_id).in_(ids))
    holds = where_in(holds, Hold.material_code, materials)
    planned = where_in(planned, PlanLine.material_code, materials)
    promised = where_in(promised, Promise.material_code, materials)
    parts: dict[int, dict[str, int]] = defaultdict(lambda: {"issued": 0, "held": 0, "planned": 0})
    for line_id, status, quantity in session.exec(holds.group_by(Hold.demand_line_id, Hold.status)):
        parts[line_id]["issued" if status == HoldStatus.ISSUED else "held"] += int(quantity)
    for line_id, quantity in session.exec(planned.group_by(PlanLine.demand_line_id)):
        parts[int(line_id)]["planned"] += int(quantity)
    for line_id, quantity in session.exec(promised.group_by(Promise.demand_line_id)):
        parts[int(line_id)]["planned"] += int(quantity)
    return {line_id: Commitment(**q) for line_id, q in parts.items()}


def status_for(line: DemandLine, commitment: Commitment) -> DemandStatus:
    """The least advanced state any unit of the line is in."""
    if line.status == DemandStatus.CANCELLED:
        return DemandStatus.CANCELLED
    if commitment.issued >= line.quantity:
        return DemandStatus.ISSUED
    if commitment.issued + commitment.held >= line.quantity:
        return DemandStatus.HELD
    if commitment.covered >= line.quantity:
        return DemandStatus.PLANNED
    return DemandStatus.OPEN


def refresh_statuses(session: Session, line_ids: Iterable[int]) -> None:
    """Recompute and store the status of the given lines (flushes; the use case commits)."""
    ids = sorted(set(line_ids))
    if not ids:
        return
    found = commitments(session, ids)
    for line in session.exec(select(DemandLine).where(col(DemandLine.id).in_(ids))):
        status = status_for(line, found.get(line.id or 0, Commitment()))
        if line.status != status:
            line.status = status
            session.add(line)
    session.flush()
