"""Reads of saved weekly runs that the run, its approval, the province import and the API share:
a batch's live run, and the history of runs. Plain queries, no workflow: a read here never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from supply.auth.actor import ProjectScope
from supply.core.errors import NotFound
from supply.core.paging import Page, paginate, sort_order
from supply.projects.scope import visible
from supply.weekly.models import (
    LineKind,
    PlanLine,
    PlanLinePublic,
    PlanRun,
    PlanRunPublic,
    ProvinceMatch,
    RunStatus,
)

EXPORT_LIMIT = 200_000  # plan lines in one download (a province week is about 20,000)


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


@dataclass(frozen=True)
class LineQuery:
    """Which of a batch's plan lines, in what order: by source kind, project and lateness; a
    project manager's `scope` keeps to the projects they reach; `sort` is a key of LINE_SORTS
    (`-key` descending), None for the order they were saved."""

    kind: LineKind | None = None
    project_id: str | None = None
    late_only: bool = False
    scope: ProjectScope | None = None
    sort: str | None = None


LINE_SORTS: dict[str, Any] = {
    "project": col(PlanLine.project_id),
    "material": col(PlanLine.material_code),
    "kind": col(PlanLine.kind),
    "warehouse": col(PlanLine.warehouse_id),
    "quantity": col(PlanLine.quantity),
    "unit_cost": col(PlanLine.unit_cost),
    "arrival": col(PlanLine.arrival),
    "need_by": col(PlanLine.need_by),
    "late_days": col(PlanLine.late_days),
}


def _lines(run: PlanRun, query: LineQuery) -> Any:
    statement = select(PlanLine).where(PlanLine.run_id == run.id)
    if query.kind:
        statement = statement.where(PlanLine.kind == query.kind)
    if query.project_id:
        statement = statement.where(PlanLine.project_id == query.project_id)
    if query.late_only:
        statement = statement.where(col(PlanLine.late_days) > 0)
    return visible(statement, PlanLine.project_id, query.scope)


def _line_order(query: LineQuery) -> list[Any]:
    return sort_order(query.sort, LINE_SORTS, default=[], tiebreak=col(PlanLine.id))


def list_plan_lines(
    *, session: Session, batch_id: str, offset: int, limit: int, query: LineQuery | None = None
) -> Page[PlanLinePublic]:
    """A page of the batch's live plan lines (allocations and unmet rests, with reasons)."""
    run = get_run_or_raise(session=session, batch_id=batch_id)
    query = query or LineQuery()
    return paginate(
        session, _lines(run, query), order_by=_line_order(query), offset=offset, limit=limit,
        convert=PlanLinePublic.model_validate,
    )  # fmt: skip


def plan_lines(*, session: Session, batch_id: str, query: LineQuery) -> list[PlanLinePublic]:
    """All the batch's live plan lines the query selects, in its order (for a download)."""
    run = get_run_or_raise(session=session, batch_id=batch_id)
    rows = session.exec(_lines(run, query).order_by(*_line_order(query)).limit(EXPORT_LIMIT))
    return [PlanLinePublic.model_validate(line) for line in rows]


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


def province_matches(session: Session, run_id: int) -> list[ProvinceMatch]:
    """The province's matching imported for a run, in the order of its file (none before)."""
    statement = select(ProvinceMatch).where(ProvinceMatch.run_id == run_id)
    return list(session.exec(statement.order_by(col(ProvinceMatch.id))))
