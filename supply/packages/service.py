"""Project packages (项目包): create, read, list (with their budget figures, `budget.py`).

Plain functions with keyword-only arguments; the caller passes the session and the moment.
`create_package` is one use case and commits once; `upsert_packages` only flushes (the project
workbook import writes packages, projects and lines in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from supply.core.audit import record
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, check_page, paginate, sort_order
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


@dataclass(frozen=True)
class PackageFilter:
    """Which packages a list shows, and in what order.

    `q` matches a part of the id or the name; `over_only` keeps the packages whose forecast
    exceeds their budget; `sort` is a key of `SORTABLE` (`-key` descending), None for the newest
    year first, then by id.
    """

    year: int | None = None
    q: str | None = None
    kind: str | None = None
    over_only: bool = False
    sort: str | None = None


# Sorted in the database: the package's own columns; in Python: its figures (computed).
COLUMN_SORTS: dict[str, Any] = {
    "id": col(Package.id),
    "name": col(Package.name),
    "year": col(Package.year),
    "kind": col(Package.kind),
    "budget": col(Package.budget),
}
FIGURE_SORTS = ("committed", "pending", "remaining", "forecast", "overrun")
SORTABLE = (*COLUMN_SORTS, *FIGURE_SORTS)
NEWEST_FIRST = (col(Package.year).desc(),)


def _filtered(where: PackageFilter) -> Any:
    statement = select(Package)
    if where.year is not None:
        statement = statement.where(Package.year == where.year)
    if where.q:
        statement = statement.where(
            col(Package.id).contains(where.q, autoescape=True)
            | col(Package.name).contains(where.q, autoescape=True)
        )
    if where.kind:
        statement = statement.where(Package.kind == where.kind)
    return statement


def _order(sort: str | None) -> tuple[list[Any], str | None]:
    """The ORDER BY of the database's part, and the figure to sort by afterwards (if any)."""
    key = (sort or "").removeprefix("-")
    if key in FIGURE_SORTS:
        return [*NEWEST_FIRST, col(Package.id)], key
    if key and key not in COLUMN_SORTS:
        raise InvalidInput(
            f"不能按 {key} 排序，可选：{'、'.join(SORTABLE)} / cannot sort by {key!r}; "
            f"one of: {', '.join(SORTABLE)}",
            loc=("sort",),
        )
    return sort_order(sort, COLUMN_SORTS, default=NEWEST_FIRST, tiebreak=col(Package.id)), None


def _summaries(session: Session, packages: Sequence[Package]) -> list[PackageSummary]:
    """The packages with their budget figures, in the order given."""
    figures = {
        f.package_id: f
        for f in package_figures(session=session, package_ids=[p.id for p in packages])
    }
    return [
        PackageSummary(
            **PackagePublic.model_validate(p).model_dump(),
            **figures[p.id].model_dump(include=set(FIGURE_SORTS)),
            projects=len(figures[p.id].projects),
        )
        for p in packages
    ]


def package_summaries(*, session: Session, where: PackageFilter) -> list[PackageSummary]:
    """Every package `where` selects with its budget figures, in its order (for a download, a
    chart of all, or a sort by a figure)."""
    order, figure = _order(where.sort)
    packages = session.exec(_filtered(where).order_by(*order)).all()
    found = _summaries(session, packages)
    if where.over_only:
        found = [s for s in found if s.overrun > 0]
    if figure is not None:  # a stable sort: equal figures keep the newest-year-first order
        found.sort(key=lambda s: getattr(s, figure), reverse=(where.sort or "").startswith("-"))
    return found


def list_packages_with_figures(
    *,
    session: Session,
    year: int | None = None,
    where: PackageFilter | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[PackageSummary]:
    """List project packages (newest year first, or as `where.sort` says), each with its budget
    figures; `year` narrows `where` to one year. Only the page's packages are costed, unless
    the list is sorted or narrowed by a figure."""
    where = where or PackageFilter()
    if year is not None:
        where = replace(where, year=year)
    check_page(offset=offset, limit=limit)
    order, figure = _order(where.sort)
    if figure is not None or where.over_only:
        every = package_summaries(session=session, where=where)
        items = every[offset : offset + limit]
        return Page(items=items, total=len(every), offset=offset, limit=limit)
    page = paginate(
        session, _filtered(where), order_by=order, offset=offset, limit=limit, convert=lambda p: p
    )
    return Page(items=_summaries(session, page.items), total=page.total, offset=offset, limit=limit)


def list_kinds(*, session: Session) -> list[str]:
    """The kinds packages have (业扩配套, 重点工程, …), in order, none blank."""
    rows = session.exec(select(Package.kind).distinct().order_by(col(Package.kind))).all()
    return [kind for kind in rows if kind]


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
