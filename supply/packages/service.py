"""Project packages (项目包): create, read, list (with their budget figures, `budget.py`).

Plain functions with keyword-only arguments; the caller passes the session and the moment.
`create_package` is one use case and commits once; `upsert_packages` only flushes (the project
workbook import writes packages, projects and lines in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from supply.core.audit import record
from supply.core.errors import Conflict, NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, paginate
from supply.packages.budget import package_figures
from supply.packages.models import Package, PackageCreate, PackagePublic, PackageSummary


def get_package(*, session: Session, package_id: str) -> Package | None:
    """Return the package `package_id`, or None."""
    return session.get(Package, package_id)


def get_package_or_raise(*, session: Session, package_id: str) -> Package:
    """Return the package `package_id`, or raise NotFound."""
    package = get_package(session=session, package_id=package_id)
    if package is None:
        raise NotFound(
            f"项目包 {package_id} 不存在 / project package {package_id} does not exist",
            loc=("package_id",),
        )
    return package


def list_packages(
    *, session: Session, year: int | None = None, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> Page[PackagePublic]:
    """List project packages, newest year first, optionally of one year."""
    statement = select(Package)
    if year is not None:
        statement = statement.where(Package.year == year)
    return paginate(
        session,
        statement,
        order_by=[col(Package.year).desc(), col(Package.id)],
        offset=offset,
        limit=limit,
        convert=PackagePublic.model_validate,
    )


def list_packages_with_figures(
    *, session: Session, year: int | None = None, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> Page[PackageSummary]:
    """List project packages as `list_packages` does, each with its budget figures."""
    page = list_packages(session=session, year=year, offset=offset, limit=limit)
    figures = {
        f.package_id: f
        for f in package_figures(session=session, package_ids=[p.id for p in page.items])
    }
    items = [
        PackageSummary(
            **p.model_dump(),
            **figures[p.id].model_dump(
                include={"committed", "pending", "remaining", "forecast", "overrun"}
            ),
        )
        for p in page.items
    ]
    return Page(items=items, total=page.total, offset=offset, limit=limit)


def create_package(
    *, session: Session, package: PackageCreate, now: datetime, user: str
) -> Package:
    """Create a project package with its budget (audited); an id already in use is a Conflict."""
    if get_package(session=session, package_id=package.id) is not None:
        raise Conflict(
            f"项目包 {package.id} 已存在 / project package {package.id} already exists",
            loc=("id",),
        )
    created = Package(**package.model_dump(), updated_at=now)
    session.add(created)
    record(
        session, actor=user, action="package.create", object_type="package",
        object_id=package.id, after=package.model_dump(), at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(created)
    return created


def upsert_packages(
    *, session: Session, rows: Iterable[dict[str, Any]], now: datetime
) -> tuple[int, int, int]:
    """Insert new packages and update changed ones by id (flush only); count each kind."""
    inserted = updated = unchanged = 0
    for values in rows:
        existing = session.get(Package, values["id"])
        if existing is None:
            session.add(Package(**values, updated_at=now))
            inserted += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
        if not changed:
            unchanged += 1
            continue
        for name, value in changed.items():
            setattr(existing, name, value)
        existing.updated_at = now
        session.add(existing)
        updated += 1
    session.flush()
    return inserted, updated, unchanged
