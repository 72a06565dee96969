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
    holds = where_in(where_in(holds, Hold.demand_line_id, ids), Hold.material_code, materials)
    planned = where_in(
        where_in(planned, PlanLine.demand_line_id, ids), PlanLine.material_code, materials
    )
    promised = where_in(
        where_in(promised, Promise.demand_line_id, ids), Promise.material_code, materials
    )
    parts: dict[int, dict[str, int]] = defaultdict(lambda: {"issued": 0, "held": 0, "planned": 0})
    for line_id, status, quantity in session.exec(holds.group_by(Hold.demand_line_id, Hold.status)):
        parts[line_id]["issued" if status == HoldStatus.ISSUED else "held"] += int(quantity)
    for line_id, quantity in session.exec(planned.group_by(PlanLine.demand_line_id)):
        parts[int(line_id)]["planned"] += int(quantity)
    for line_id, quantity in session.exec(promised.group_by(Promise.demand_line_id)):
        parts[int(line_id)]["planned"] += int(quantity)
    return {line_id: Commitment(**q) for line_id, q in parts.items()}


def held_or_issued(session: Session, line_ids: Collection[int]) -> dict[int, Commitment]:
    """The lines, among `line_ids`, that have stock held or issued for them, with their
    commitments: such a line cannot be cancelled until its holds are released."""
    found = commitments(session, line_ids)
    return {i: c for i, c in found.items() if c.held or c.issued}


def status_for(line: DemandLine, commitment: Commitment) -> DemandStatus:
    """The least advanced state any unit of the line is in."""
    if line.status == DemandStatus.CANCELLED:
        return DemandStatus.CANCELLED
    return status_of(line.quantity, commitment)


def status_of(quantity: int, commitment: Commitment) -> DemandStatus:
    """The status of a live line of `quantity`: the least advanced state any unit is in."""
    if commitment.issued >= quantity:
        return DemandStatus.ISSUED
    if commitment.issued + commitment.held >= quantity:
        return DemandStatus.HELD
    if commitment.covered >= quantity:
        return DemandStatus.PLANNED
    return DemandStatus.OPEN


def refresh_statuses(session: Session, line_ids: Iterable[int]) -> None:
    """Recompute and store the status and covered quantity of the given lines (flushes; the
    use case commits). Every change to what covers a line ends here."""
    ids = sorted(set(line_ids))
    if not ids:
        return
    # The lines are locked first (PostgreSQL; SQLite's writers are serialised already), so two
    # transactions changing what covers one line take turns, and the sums read below see what
    # the other committed: the last writer never stores a sum that misses the other's change.
    lines = session.exec(
        select(DemandLine)
        .where(col(DemandLine.id).in_(ids))
        .order_by(col(DemandLine.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = commitments(session, ids)
    for line in lines:
        commitment = found.get(line.id or 0, Commitment())
        status = status_for(line, commitment)
        if line.status != status or line.covered != commitment.covered:
            line.status = status
            line.covered = commitment.covered
            session.add(line)
    session.flush()
