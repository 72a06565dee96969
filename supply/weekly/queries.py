"""Reads of saved weekly runs that the run, its approval, the province import and the API share:
a batch's live run, and the history of runs. Plain queries, no workflow: a read here never writes.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from supply.core.errors import NotFound
from supply.weekly.models import PlanRun, PlanRunPublic, RunStatus


def live_run(session: Session, batch_id: str) -> PlanRun | None:
    """The batch's run that is not superseded (draft or approved), if any."""
    return session.exec(
        select(PlanRun).where(PlanRun.batch_id == batch_id, PlanRun.status != RunStatus.SUPERSEDED)
    ).first()


def get_run_or_raise(*, session: Session, batch_id: str) -> PlanRun:
    """The batch's live run, or NotFound saying how to make one."""
    run = live_run(session, batch_id)
    if run is None:
        raise NotFound(
            f"批次 {batch_id} 还没有计划 / batch {batch_id} has no plan run: "
            "run `gridsupply plan run --at …` for a moment in that batch",
            loc=("batch_id",),
        )
    return run


def list_runs(*, session: Session, batch_id: str | None = None) -> list[PlanRunPublic]:
    """Every run, newest first (superseded ones included: the history is kept)."""
    statement = select(PlanRun).order_by(col(PlanRun.run_at).desc(), col(PlanRun.id).desc())
    if batch_id:
        statement = statement.where(PlanRun.batch_id == batch_id)
    return [PlanRunPublic.model_validate(run) for run in session.exec(statement)]
