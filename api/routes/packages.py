"""Project packages (项目包): the budgets projects are paid from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api.deps import ClockDep, PageDep, SessionDep, require
from supply.core.paging import Page
from supply.packages import service
from supply.packages.models import PackageCreate, PackagePublic

router = APIRouter(prefix="/packages", tags=["packages"])

PackageId = Annotated[str, Path(max_length=32, description="项目包编号 / package id")]


@router.get("", response_model=Page[PackagePublic], dependencies=[require("packages.read")])
def list_packages(
    session: SessionDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 / budget year")] = None,
) -> Page[PackagePublic]:
    """项目包列表，新年度在前 / List project packages, newest year first."""
    return service.list_packages(session=session, year=year, offset=page.offset, limit=page.limit)


@router.get("/{package_id}", response_model=PackagePublic, dependencies=[require("packages.read")])
def get_package(session: SessionDep, package_id: PackageId) -> PackagePublic:
    """查看项目包 / Get one project package."""
    return PackagePublic.model_validate(
        service.get_package_or_raise(session=session, package_id=package_id)
    )


@router.post(
    "",
    response_model=PackagePublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("packages.write")],
    responses={409: {"description": "项目包编号已存在 / the package id is taken"}},
)
def create_package(session: SessionDep, clock: ClockDep, body: PackageCreate) -> PackagePublic:
    """新建项目包及其预算 / Create a project package with its budget."""
    return PackagePublic.model_validate(
        service.create_package(session=session, package=body, now=clock.now())
    )
