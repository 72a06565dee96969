"""Project packages (项目包): the budgets projects are paid from, their figures (committed, pending,
remaining, forecast, overrun) and the draft application for supplementary funds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import ClockDep, PageDep, SessionDep, TodayDep, UserDep, require
from supply.core.paging import Page
from supply.packages import service
from supply.packages.budget import package_figures
from supply.packages.export import funding_application
from supply.packages.models import PackageCreate, PackageFigures, PackagePublic, PackageSummary

router = APIRouter(tags=["packages"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PackageId = Annotated[str, Path(max_length=32, description="项目包编号 / package id")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="年度 / budget year")]
SORT_PATTERN = rf"^-?({'|'.join(service.SORTABLE)})$"


@router.get(
    "/packages", response_model=Page[PackageSummary], dependencies=[require("packages.read")]
)
def list_packages(
    session: SessionDep,
    page: PageDep,
    year: Year = None,
    sort: Annotated[
        str | None,
        Query(
            pattern=SORT_PATTERN,
            description=f"排序 / sort by one of {', '.join(service.SORTABLE)} (`-` before it: "
            "descending); default newest year first, then by id",
        ),
    ] = None,
) -> Page[PackageSummary]:
    """项目包列表及预算执行 / List project packages with their budget figures.

    Newest year first (or by `sort`); each package with committed (已占用), pending (待发生),
    remaining (剩余), forecast (预计总额) and overrun (预计超支), in CNY as exact decimal strings,
    and its number of projects.
    """
    return service.list_packages_with_figures(
        session=session, where=service.PackageFilter(year=year, sort=sort), offset=page.offset,
        limit=page.limit,
    )  # fmt: skip


@router.get(
    "/packages/{package_id}", response_model=PackagePublic, dependencies=[require("packages.read")]
)
def get_package(session: SessionDep, package_id: PackageId) -> PackagePublic:
    """查看项目包 / Get one project package."""
    return PackagePublic.model_validate(
        service.get_package_or_raise(session=session, package_id=package_id)
    )


@router.get(
    "/packages/{package_id}/figures",
    response_model=PackageFigures,
    dependencies=[require("packages.read")],
    responses={404: {"description": "项目包不存在 / no such package"}},
)
def get_figures(session: SessionDep, package_id: PackageId) -> PackageFigures:
    """项目包预算执行及各项目明细 / A package's budget figures, project by project."""
    service.get_package_or_raise(session=session, package_id=package_id)
    [figures] = package_figures(session=session, package_ids=[package_id])
    return figures


@router.post(
    "/packages",
    response_model=PackagePublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("packages.write")],
    responses={409: {"description": "项目包编号已存在 / the package id is taken"}},
)
def create_package(
    session: SessionDep, clock: ClockDep, user: UserDep, body: PackageCreate
) -> PackagePublic:
    """新建项目包及其预算 / Create a project package with its budget."""
    return PackagePublic.model_validate(
        service.create_package(session=session, package=body, now=clock.now(), user=user)
    )


@router.get(
    "/funding-application",
    response_class=Response,
    dependencies=[require("packages.read")],
    responses={
        200: {"content": {XLSX: {}}, "description": "补充资金申请草稿 / the draft (Excel)"},
        404: {"description": "项目包不存在 / a package asked for does not exist"},
    },
)
def download_funding_application(
    session: SessionDep,
    today: TodayDep,
    year: Year = None,
    package_id: Annotated[
        list[str] | None,
        Query(description="只含这些项目包 / only these packages (repeatable)"),
    ] = None,
) -> Response:
    """下载补充资金申请草稿 / Download the draft application for supplementary funds.

    Excel with Chinese headers: every package whose forecast exceeds its budget (预计超支的项目包),
    with its figures and the projects behind it.
    """
    content, _ = funding_application(
        session=session, today=today, year=year, package_ids=package_id
    )
    name = f"funding-application-{today:%Y%m%d}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
