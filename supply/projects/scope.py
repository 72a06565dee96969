"""Which projects an actor reaches: every project, or a project manager's own (their unit's, and
those assigned to them). Another's project is reported as not found — its existence is not
revealed. Lists restrict their query with `visible`; a route on one project checks it with
`check_visible` before anything else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from supply.auth.actor import ProjectScope
from supply.core.errors import NotFound
from supply.projects.models import Project


def _reach(scope: ProjectScope) -> Any:
    mine = col(Project.manager) == scope.login
    if scope.unit is None:
        return mine
    return or_(col(Project.unit) == scope.unit, mine)


def visible(statement: Any, project_id_column: Any, scope: ProjectScope | None) -> Any:
    """`statement` restricted to rows of projects `scope` reaches (unchanged for None: all)."""
    if scope is None:
        return statement
    return statement.where(project_id_column.in_(select(Project.id).where(_reach(scope))))


def visible_ids(session: Session, ids: list[str], scope: ProjectScope | None) -> set[str]:
    """Those of `ids` that exist and `scope` reaches."""
    statement = visible(select(Project.id).where(col(Project.id).in_(ids)), Project.id, scope)
    return set(session.exec(statement).all())


def check_visible(session: Session, project_id: str, scope: ProjectScope | None) -> None:
    """NotFound for a project `scope` does not reach (a missing one is left to the caller)."""
    if scope is None:
        return
    project = session.get(Project, project_id)
    if project is None:
        return
    if not (project.manager == scope.login or (scope.unit and project.unit == scope.unit)):
        raise NotFound(  # word for word what a missing project says
            f"项目 {project_id} 不存在 / project {project_id} does not exist", loc=("project_id",)
        )
