"""Filings (先实施、后备案, R7): projects implemented over their package's budget, each filed with the
province within 2 working days of its review; what is due this week, what is overdue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_ID, ClockDep, PageDep, SessionDep, TodayDep, UserDep, require
from supply.core.clock import local_today
from supply.core.paging import Page
from supply.packages import filings
from supply.packages.models import FilingFile, FilingPublic, FilingStatus

router = APIRouter(prefix="/filings", tags=["filings"])

FilingId = Annotated[int, Path(ge=1, le=MAX_ID, description="备案记录编号 / filing id")]


@router.get("", response_model=Page[FilingPublic], dependencies=[require("filings.read")])
def list_filings(
    session: SessionDep,
    today: TodayDep,
    page: PageDep,
    due_this_week: Annotated[
        bool, Query(description="本周到期未备案 / unfiled, due from today to Sunday")
    ] = False,
    overdue: Annotated[bool, Query(description="已逾期未备案 / unfiled and past due")] = False,
    status: Annotated[
        FilingStatus | None, Query(description="状态 / status: due, filed or overdue")
    ] = None,
    package_id: Annotated[
        str | None, Query(max_length=32, description="项目包 / package id")
    ] = None,
    project_id: Annotated[str | None, Query(max_length=32, description="项目 / project id")] = None,
) -> Page[FilingPublic]:
    """备案记录(本周到期、已逾期) / List filings: what is due this week, what is overdue.

    Earliest due first; with due_this_week and overdue together, either. The status is as of
    today (due 待备案, overdue 已逾期, filed 已备案).
    """
    return filings.list_filings(
        session=session,
        today=today,
        status=status,
        due_this_week=due_this_week,
        overdue=overdue,
        package_id=package_id,
        project_id=project_id,
        offset=page.offset,
        limit=page.limit,
    )


@router.get(
    "/{filing_id}",
    response_model=FilingPublic,
    dependencies=[require("filings.read")],
    responses={404: {"description": "备案记录不存在 / no such filing"}},
)
def get_filing(session: SessionDep, today: TodayDep, filing_id: FilingId) -> FilingPublic:
    """查看备案记录 / Get one filing, its status as of today."""
    filing = filings.get_filing_or_raise(session=session, filing_id=filing_id)
    return filings.filing_public(session, filing, today=today)


@router.post(
    "/{filing_id}/file",
    response_model=FilingPublic,
    dependencies=[require("filings.write")],
    responses={
        404: {"description": "备案记录不存在 / no such filing"},
        409: {"description": "已备案 / already filed"},
    },
)
def file_filing(
    session: SessionDep, clock: ClockDep, user: UserDep, filing_id: FilingId, body: FilingFile
) -> FilingPublic:
    """登记已备案(省公司备案文号) / Mark a filing as filed with the province's reference.

    The signed-in user is recorded as who filed it; filing twice is a conflict.
    """
    now = clock.now()
    filing = filings.file_filing(
        session=session, filing_id=filing_id, reference=body.reference, by=user, now=now
    )
    return filings.filing_public(session, filing, today=local_today(now))
