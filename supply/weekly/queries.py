"""Reads of saved weekly runs that the run, its approval, the province import and the API share:
a batch's live run, and the history of runs. Plain queries, no workflow: a read here never writes.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from supply.auth.actor import ProjectScope
from supply.core.errors import NotFound
from supply.core.paging import Page, paginate
from supply.projects.scope import visible
from supply.weekly.models import (
    LineKind,
    PlanLine,
    PlanLinePublic,
    PlanRun,
    PlanRunPublic,
    RunStatus,
)


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


def list_plan_lines(
    *,
    session: Session,
    batch_id: str,
    offset: int,
    limit: int,
    kind: LineKind | None = None,
    project_id: str | None = None,
    late_only: bool = False,
    scope: ProjectScope | None = None,
) -> Page[PlanLinePublic]:
    """A page of the batch's live plan lines (allocations and unmet rests, with reasons) in the
    order they were saved, filtered by source kind, project and lateness; a project manager's
    `scope` keeps to the projects they reach."""
    run = get_run_or_raise(session=session, batch_id=batch_id)
    statement = select(PlanLine).where(PlanLine.run_id == run.id)
    if kind:
        statement = statement.where(PlanLine.kind == kind)
    if project_id:
        statement = statement.where(PlanLine.project_id == project_id)
    if late_only:
        statement = statement.where(col(PlanLine.late_days) > 0)
    statement = visible(statement, PlanLine.project_id, scope)
    return paginate(
        session, statement, order_by=[col(PlanLine.id)], offset=offset, limit=limit,
        convert=PlanLinePublic.model_validate,
    )  # fmt: skip


def export_file(*, session: Session, batch_id: str, name: str) -> Path:
    """The file of one of the batch's exports (`EXPORTS`) that its live run wrote; NotFound for
    an unknown export, a batch without a run, or a file no longer there."""
    # Imported here: the exports module reads the run's inputs, which read this module.
    from supply.weekly.export import EXPORTS

    if name not in EXPORTS:
        raise NotFound(
            f"没有报表 {name} / no export {name!r}; one of: {', '.join(EXPORTS)}", loc=("name",)
        )
    run = get_run_or_raise(session=session, batch_id=batch_id)
    path = Path(run.run_dir) / f"{batch_id}_{EXPORTS[name]}.xlsx"
    if not path.is_file():
        raise NotFound(
            f"报表文件不在了 / the export file is gone: {path}; re-run the batch", loc=("name",)
        )
    return path
