"""Filings (先实施、后备案, R7): a project implemented over its package's budget is filed with the
province within 2 working days of its review.

A filing is created by the budget check (`record_filings`, from the warnings of
`supply.packages.budget.budget_check`) and closed by `file_filing` with the province's reference.
Its status is never stored: it is `filed` once filed, else `overdue` when its due date has passed
on the day asked about, else `due` — so it moves with the clock by itself.

One open filing per package and project (a partial unique index keeps it so under concurrent
checks): a later over-budget check of the same project updates the open filing's amount, keeping
its review and due dates. Once filed, a new filing is opened only when the project's share of
the overrun grows beyond what was filed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from supply.calendar import CalendarError, WorkCalendar
from supply.core.audit import record
from supply.core.clock import local_today
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.paging import DEFAULT_LIMIT, Page, every, paginate, sort_order
from supply.packages.models import BudgetWarning, Filing, FilingPublic, FilingStatus, Package
from supply.policy import DeadlinePolicy, filing_due
from supply.projects.models import Project


def filing_status(filing: Filing, *, today: date) -> FilingStatus:
    """The filing's status on `today`: filed, overdue (due date passed, unfiled) or due."""
    if filing.filed_at is not None:
        return FilingStatus.FILED
    return FilingStatus.OVERDUE if filing.due_on < today else FilingStatus.DUE


def working_days_left(due_on: date, *, today: date, calendar: WorkCalendar) -> int | None:
    """Working days from `today` to the due date: 0 on the due day, 2 two working days before
    it, negative once past it (-1 the first working day after); None where the calendar has no
    arrangement for the years between."""
    try:
        return calendar.working_days_between(today, due_on)
    except CalendarError:
        return None


def week_end(today: date) -> date:
    """The Sunday that ends `today`'s week (weeks run Monday to Sunday)."""
    return today + timedelta(days=6 - today.weekday())


def record_filings(
    *,
    session: Session,
    warnings: Iterable[BudgetWarning],
    review_date: date,
    now: datetime,
    by: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> list[Filing]:
    """Open a filing for each project a warning names, or update its open one (flush only).

    Due = review date + the policy's filing working days (2). A project already filed for at
    least its current share gets no new filing. Returns the filings opened or updated.
    """
    touched: list[Filing] = []
    for warning in warnings:
        for cause in warning.projects:
            if cause.overrun <= 0:
                continue
            filing = _open_filing(session, warning.package_id, cause.project_id)
            if filing is not None:
                if filing.overrun != cause.overrun:
                    filing.overrun = cause.overrun
                    filing.updated_at = now
                    session.add(filing)
                touched.append(filing)
                continue
            filed = _last_filed(session, warning.package_id, cause.project_id)
            if filed is not None and filed.overrun >= cause.overrun:
                continue
            filing = Filing(
                package_id=warning.package_id,
                project_id=cause.project_id,
                overrun=cause.overrun,
                review_on=review_date,
                due_on=filing_due(review_date, calendar=calendar, policy=policy),
                created_at=now,
                created_by=by,
                updated_at=now,
            )
            session.add(filing)
            touched.append(filing)
    session.flush()
    for filing in touched:
        record(
            session, actor=by, action="filing.open", object_type="filing",
            object_id=filing.id or "",
            after={"package_id": filing.package_id, "project_id": filing.project_id,
                   "overrun": filing.overrun, "due_on": filing.due_on},
            at=now,
        )  # fmt: skip
    return touched


def _open_filing(session: Session, package_id: str, project_id: str) -> Filing | None:
    return session.exec(
        select(Filing).where(
            Filing.package_id == package_id,
            Filing.project_id == project_id,
            col(Filing.filed_at).is_(None),
        )
    ).first()


def _last_filed(session: Session, package_id: str, project_id: str) -> Filing | None:
    return session.exec(
        select(Filing)
        .where(
            Filing.package_id == package_id,
            Filing.project_id == project_id,
            col(Filing.filed_at).is_not(None),
        )
        .order_by(col(Filing.filed_at).desc(), col(Filing.id).desc())
    ).first()


def get_filing_or_raise(*, session: Session, filing_id: int) -> Filing:
    """Return filing `filing_id`, or raise NotFound."""
    filing = session.get(Filing, filing_id)
    if filing is None:
        raise NotFound(
            f"备案记录 {filing_id} 不存在 / filing {filing_id} does not exist; "
            "list them with `gridsupply filings`",
            loc=("filing_id",),
        )
    return filing


def file_filing(
    *, session: Session, filing_id: int, reference: str, by: str, now: datetime
) -> Filing:
    """Mark a filing as filed with the province's reference number (one use case: commits)."""
    text = reference.strip()
    if not text or len(text) > 200 or any(ord(c) < 32 for c in text):
        raise InvalidInput(
            "请填写省公司备案文号(一行，最多 200 字) / give the province's reference number "
            "(one line, at most 200 characters)",
            loc=("reference",),
        )
    filing = get_filing_or_raise(session=session, filing_id=filing_id)
    if filing.filed_at is not None:
        raise Conflict(
            f"备案记录 {filing_id} 已于 {local_today(filing.filed_at)} 由 {filing.filed_by} 备案"
            f"(文号 {filing.reference}) / filing {filing_id} was already filed by "
            f"{filing.filed_by} (reference {filing.reference})",
            loc=("filing_id",),
        )
    filing.filed_at = now
    filing.filed_by = by
    filing.reference = text
    filing.updated_at = now
    session.add(filing)
    record(
        session, actor=by, action="filing.file", object_type="filing", object_id=filing_id,
        before={"filed_at": None}, after={"filed_at": now, "reference": text}, at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(filing)
    return filing


def filing_public(session: Session, filing: Filing, *, today: date) -> FilingPublic:
    """The filing as read on `today`, with its package's and project's names."""
    package = session.get(Package, filing.package_id)
    project = session.get(Project, filing.project_id)
    return _public(
        filing, package.name if package else "", project.name if project else "", today=today
    )


def _public(filing: Filing, package_name: str, project_name: str, *, today: date) -> FilingPublic:
    return FilingPublic(
        **filing.model_dump(),
        package_name=package_name,
        project_name=project_name,
        status=filing_status(filing, today=today),
    )


def list_filings(
    *,
    session: Session,
    today: date,
    status: FilingStatus | None = None,
    due_this_week: bool = False,
    overdue: bool = False,
    open_only: bool = False,
    package_id: str | None = None,
    project_id: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    sort: str | None = None,
) -> Page[FilingPublic]:
    """List filings, earliest due first (or by `sort`, a key of FILING_SORTS, `-key`
    descending), as they stand on `today`.

    `due_this_week`: unfiled and due from today to Sunday; `overdue`: unfiled and past due; both
    together: either; `open_only`: unfiled (due or overdue). `status` keeps one status;
    `package_id`/`project_id` narrow further.
    """
    unfiled = col(Filing.filed_at).is_(None)
    statement = select(Filing, Package.name, Project.name).join(
        Package, col(Package.id) == Filing.package_id
    )
    statement = statement.join(Project, col(Project.id) == Filing.project_id)
    wanted: list[ColumnElement[bool]] = []
    if due_this_week:
        wanted.append(
            unfiled & (col(Filing.due_on) >= today) & (col(Filing.due_on) <= week_end(today))
        )
    if overdue:
        wanted.append(unfiled & (col(Filing.due_on) < today))
    if wanted:
        statement = statement.where(or_(*wanted))
    if open_only:
        statement = statement.where(unfiled)
    if status == FilingStatus.FILED:
        statement = statement.where(col(Filing.filed_at).is_not(None))
    elif status == FilingStatus.OVERDUE:
        statement = statement.where(unfiled, col(Filing.due_on) < today)
    elif status == FilingStatus.DUE:
        statement = statement.where(unfiled, col(Filing.due_on) >= today)
    if package_id:
        statement = statement.where(Filing.package_id == package_id)
    if project_id:
        statement = statement.where(Filing.project_id == project_id)
    return paginate(
        session,
        statement,
        order_by=sort_order(
            sort, FILING_SORTS, default=[col(Filing.due_on)], tiebreak=col(Filing.id)
        ),
        offset=offset,
        limit=limit,
        convert=lambda row: _public(*row, today=today),
    )


FILING_SORTS: dict[str, Any] = {
    "id": col(Filing.id),
    "package": col(Filing.package_id),
    "project": col(Filing.project_id),
    "overrun": col(Filing.overrun),
    "review_on": col(Filing.review_on),
    "due_on": col(Filing.due_on),
    "filed_at": col(Filing.filed_at),
}


EXPORT_LIMIT = 50_000  # filings in one download


def all_filings(*, session: Session, today: date, **filters: Any) -> list[FilingPublic]:
    """Every filing `list_filings(**filters)` selects, in its order (at most EXPORT_LIMIT)."""
    return every(
        lambda offset, limit: list_filings(
            session=session, today=today, offset=offset, limit=limit, **filters
        ),
        cap=EXPORT_LIMIT,
    )
