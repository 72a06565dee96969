"""项目包与备案: each package's budget against what its projects committed and still need (a chart
and a table: sorted, filtered, paged, as Excel), the draft application for supplementary funds
per package, and the filings (先实施、后备案) due and overdue with their file action — the same
service calls as /api/v1/packages, /api/v1/funding-application and /api/v1/filings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from api.deps import MAX_ID, CalendarDep, ClockDep, SessionDep, TodayDep
from api.downloads import xlsx_download
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.calendar import WorkCalendar
from supply.core.clock import local_today
from supply.core.errors import InvalidInput, NotFound
from supply.core.money import fen
from supply.core.paging import Page
from supply.packages import filings
from supply.packages.export import export_filings, export_packages, funding_application
from supply.packages.models import FILING_STATUS_ZH, FilingPublic, FilingStatus, PackageSummary
from supply.packages.service import (
    SORTABLE,
    PackageFilter,
    list_kinds,
    list_packages_with_figures,
)

router = APIRouter(prefix="/packages", route_class=PageRoute, include_in_schema=False)
PER_PAGE = 20
FILINGS_PER_PAGE = 20
MAX_OFFSET = 10**7
YEAR = re.compile(r"^\d{4}$")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # as the API's `year`
FRAGMENTS = {"packages": "packages/_packages.html", "filings": "packages/_filings.html"}
EXPORT_NAME = "项目包预算执行.xlsx"
OPEN = "open"  # the filings' default view: unfiled, due or overdue
FILING_VIEWS = {
    OPEN: "待办（待备案与已逾期）",
    **{str(s): FILING_STATUS_ZH[s] for s in FilingStatus},
    "all": "全部",
}
Text = Annotated[str | None, Query(max_length=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
# The chart's series: each figure of a package, in the table's order.
SERIES = (
    ("budget", "预算"),
    ("committed", "已占用"),
    ("pending", "待发生"),
    ("remaining", "剩余预算"),
    ("forecast", "预计总额"),
    ("overrun", "预计超支"),
)


@dataclass
class PackagesView:
    """The page's filters as its forms send them, what they select, and what is wrong."""

    form: dict[str, str]
    where: PackageFilter = field(default_factory=PackageFilter)
    filings: str = OPEN
    errors: dict[str, str] = field(default_factory=dict)

    def filing_filters(self) -> dict[str, Any]:
        """The filings' filters as `filings.list_filings` takes them."""
        return {
            "open_only": self.filings == OPEN,
            "status": FilingStatus(self.filings) if self.filings in set(FilingStatus) else None,
            "sort": self.form["filings_sort"] or None,
        }


def packages_view(
    year: str, q: str, kind: str, over: str, sort: str, filings_view: str, filings_sort: str = ""
) -> PackagesView:
    """Read the filters: a year that is not one, or a filings view that does not exist, is
    named under its field and not applied; an unknown sort is dropped."""
    form = {
        "year": year.strip()[:10],
        "q": q.strip()[:100],
        "kind": kind.strip()[:64],
        "over": "1" if over in ("1", "true", "on") else "",
        "sort": sort if sort.removeprefix("-") in SORTABLE else "",
        "filings": filings_view.strip()[:20],
        "filings_sort": filings_sort
        if filings_sort.removeprefix("-") in filings.FILING_SORTS
        else "",
    }
    errors: dict[str, str] = {}
    chosen_year = None
    if form["year"]:
        if YEAR.match(form["year"]) and FIRST_YEAR <= int(form["year"]) <= LAST_YEAR:
            chosen_year = int(form["year"])
        else:
            errors["year"] = (
                f"年度写作四位数字（{FIRST_YEAR}–{LAST_YEAR}），如 2026 / a year such as 2026"
            )
    view = form["filings"] or OPEN
    if view not in FILING_VIEWS:
        errors["filings"] = f"没有备案状态 {form['filings']} / no such filing status"
        view = OPEN
    where = PackageFilter(
        year=chosen_year,
        q=form["q"] or None,
        kind=form["kind"] or None,
        over_only=bool(form["over"]),
        sort=form["sort"] or None,
    )
    return PackagesView(form=form, where=where, filings=view, errors=errors)


def _view(
    year: Text = None,
    q: Text = None,
    kind: Text = None,
    over: Text = None,
    sort: Text = None,
    filings: Text = None,
    filings_sort: Text = None,
) -> PackagesView:
    return packages_view(
        year or "", q or "", kind or "", over or "", sort or "", filings or "", filings_sort or ""
    )


View = Annotated[PackagesView, Depends(_view)]


def chart_data(items: list[PackageSummary]) -> dict[str, Any]:
    """The bars of the packages shown: one category per package, a series per figure (元, to
    the fen)."""
    return {
        "title": "项目包预算执行（万元）",
        "categories": [p.id for p in items],
        "series": [
            {"key": key, "name": name, "data": [float(fen(getattr(p, key))) for p in items]}
            for key, name in SERIES
        ],
    }


def _filings_page(
    session: Session, today: date, view: PackagesView, offset: int
) -> Page[FilingPublic]:
    return filings.list_filings(
        session=session, today=today, offset=offset, limit=FILINGS_PER_PAGE,
        **view.filing_filters(),
    )  # fmt: skip


def packages_context(
    session: Session,
    *,
    actor: Actor,
    today: date,
    calendar: WorkCalendar,
    view: PackagesView,
    offset: int = 0,
    filings_offset: int = 0,
    errors: dict[str, str] | None = None,
    sent: dict[str, str] | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """Everything the page shows: the packages with their figures, and the filings."""
    page = list_packages_with_figures(
        session=session, where=view.where, offset=offset, limit=PER_PAGE
    )
    can_read_filings = actor.can(Permission.FILINGS_READ)
    filed = _filings_page(session, today, view, filings_offset) if can_read_filings else None
    left = {
        f.id: filings.working_days_left(f.due_on, today=today, calendar=calendar)
        for f in (filed.items if filed else [])
    }
    return {
        "view": view,
        "params": view.form,
        "page": page,
        "chart": chart_data(page.items),
        "kinds": list_kinds(session=session),
        "filings": filed,
        "days_left": left,
        "filing_views": list(FILING_VIEWS.items()),
        "can_read_filings": can_read_filings,
        "can_file": actor.can(Permission.FILINGS_WRITE),
        "filed_status": FilingStatus.FILED.value,
        "status_names": {str(k): v for k, v in FILING_STATUS_ZH.items()},
        "today": today,
        "errors": errors or {},
        "sent": sent or {},
        "notice": notice,
    }


@router.get("", dependencies=[page_require("packages.read")])
def packages_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    calendar: CalendarDep,
    actor: PageActor,
    view: View,
    offset: Offset = 0,
    filings_offset: Offset = 0,
    done: Annotated[str | None, Query(max_length=10)] = None,
    filing: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The packages and the filings; htmx asks for one part (`#packages`, `#filings`); after
    备案 (`?done=filed&filing=…`) a notice saying what was filed."""
    notice = ""
    if done == "filed" and filing is not None and actor.can(Permission.FILINGS_READ):
        notice = _filed_notice(session, filing, today)
    context = packages_context(
        session, actor=actor, today=today, calendar=calendar, view=view, offset=offset,
        filings_offset=filings_offset, notice=notice,
    )  # fmt: skip
    return render(request, "packages/index.html", context, fragments=FRAGMENTS)


def _filed_notice(session: Session, filing_id: int, today: date) -> str:
    """What was filed, if filing `filing_id` is filed ('' for one that is not, or none)."""
    try:
        filing = filings.get_filing_or_raise(session=session, filing_id=filing_id)
    except NotFound:
        return ""
    found = filings.filing_public(session, filing, today=today)
    if found.status != FilingStatus.FILED:
        return ""
    return (
        f"备案 {found.id} 已登记：{found.project_name}（{found.project_id}），文号 "
        f"{found.reference}。"
    )


@router.get("/export", dependencies=[page_require("packages.read")])
def packages_export(session: SessionDep, view: View) -> Response:
    """The filtered packages with their figures as Excel, in the page's order."""
    return xlsx_download(export_packages(session=session, where=view.where), EXPORT_NAME)


@router.get("/filings/export", dependencies=[page_require("filings.read")])
def filings_export(session: SessionDep, today: TodayDep, view: View) -> Response:
    """The filings the page's filter selects, in its order, as Excel."""
    found = filings.all_filings(session=session, today=today, **view.filing_filters())
    return xlsx_download(export_filings(found), f"备案_{today:%Y%m%d}.xlsx")


@router.get("/{package_id}/funding-application", dependencies=[page_require("packages.read")])
def package_funding_application(session: SessionDep, today: TodayDep, package_id: str) -> Response:
    """追加资金申请: the draft for one package, as GET /api/v1/funding-application?package_id=…"""
    package_id = package_id[:32]
    content, _ = funding_application(session=session, today=today, package_ids=[package_id])
    return xlsx_download(content, f"追加资金申请_{package_id}_{today:%Y%m%d}.xlsx")


@router.post("/filings/{filing_id}/file", dependencies=[page_require("filings.write")])
async def file_filing(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    actor: PageActor,
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """备案: record the province's reference, as POST /api/v1/filings/{id}/file; then back to
    the page (303), or the page again with the problem under the field (422)."""
    reference = str((await request.form()).get("reference", ""))
    now = clock.now()
    try:
        filings.file_filing(
            session=session, filing_id=filing_id, reference=reference,
            by=actor.login, now=now,
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        context = packages_context(
            session, actor=actor, today=local_today(now), calendar=calendar,
            view=packages_view("", "", "", "", "", ""),
            errors={f"reference-{filing_id}": exc.message},
            sent={f"reference-{filing_id}": reference[:300]},
        )  # fmt: skip
        return render(request, "packages/index.html", context, status=422)
    return RedirectResponse(f"/packages?done=filed&filing={filing_id}", status_code=303)
