"""Project packages (项目包): the budgets customer-connection projects are paid from, their
figures and budget warnings (`supply.packages.budget`), and the filings (备案) of projects
implemented over budget (R7)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime, check_non_negative
from supply.core.money import MAX_AMOUNT, Amount, Money, Total
from supply.core.text import Code32, Name, Text64


class PackageBase(SQLModel):
    id: str = Field(primary_key=True, max_length=32, description="项目包编号 / package id")
    name: str = Field(max_length=200, description="项目包名称 / name")
    year: int = Field(index=True, description="年度 / budget year")
    kind: str = Field(default="", max_length=64, description="类别 / kind (e.g. 业扩配套)")
    budget: Decimal = Field(sa_type=Money, description="预算(元) / budget, CNY")


class Package(PackageBase, table=True):
    __table_args__ = (check_non_negative("budget"),)

    updated_at: datetime = Field(sa_type=UTCDateTime)


class PackagePublic(PackageBase):
    updated_at: datetime


class PackageSummary(PackagePublic):
    """A package with its budget figures (see `supply.packages.budget`)."""

    committed: Decimal = Field(description="已占用(元) / committed, CNY")
    pending: Decimal = Field(description="待发生(元) / pending, CNY")
    remaining: Decimal = Field(description="剩余预算(元) / budget − committed, CNY")
    forecast: Decimal = Field(description="预计总额(元) / committed + pending, CNY")
    overrun: Decimal = Field(description="预计超支(元) / max(0, forecast − budget), CNY")
    projects: int = Field(default=0, description="项目数 / the package's projects")


class PackageCreate(SQLModel):
    """A new project package and its budget."""

    id: Code32 = Field(description="项目包编号 / package id")
    name: Name = Field(description="项目包名称 / name")
    year: int = Field(ge=2000, le=2100, description="年度 / budget year")
    kind: Text64 = Field(default="", description="类别 / kind (e.g. 业扩配套)")
    budget: Amount = Field(
        description=f"预算(元,至多 {MAX_AMOUNT:,}): 整数或小数字符串 / budget, CNY, below "
        f"{MAX_AMOUNT:,}: a whole number or a decimal string"
    )


class ProjectFigures(SQLModel):
    """One project's share of its package: committed, pending, and their sum."""

    project_id: str = Field(description="项目编号 / project id")
    project_name: str = Field(description="项目名称 / project name")
    status: str = Field(description="项目状态 / project status")
    committed: Decimal = Field(description="已占用(元) / committed, CNY")
    pending: Decimal = Field(description="待发生(元) / pending, CNY")
    forecast: Decimal = Field(description="预计总额(元) / committed + pending, CNY")


class PackageFigures(SQLModel):
    """A package's budget against what its projects have committed and still need."""

    package_id: str = Field(description="项目包编号 / package id")
    name: str = Field(description="项目包名称 / name")
    year: int = Field(description="年度 / budget year")
    kind: str = Field(description="类别 / kind")
    budget: Decimal = Field(description="预算(元) / budget, CNY")
    committed: Decimal = Field(description="已占用(元) / committed, CNY")
    pending: Decimal = Field(description="待发生(元) / pending, CNY")
    remaining: Decimal = Field(description="剩余预算(元) / budget − committed, CNY")
    forecast: Decimal = Field(description="预计总额(元) / committed + pending, CNY")
    overrun: Decimal = Field(description="预计超支(元) / max(0, forecast − budget), CNY")
    projects: list[ProjectFigures] = Field(
        default_factory=list, description="各项目 / the package's projects"
    )


class ProjectOverrun(SQLModel):
    """A project behind a package's overrun: what it adds, and how much of the overrun is its."""

    project_id: str = Field(description="项目编号 / project id")
    project_name: str = Field(description="项目名称 / project name")
    addition: Decimal = Field(description="本次新增占用(元) / cost committed now, CNY")
    forecast: Decimal = Field(description="项目预计总额(元) / the project's forecast after, CNY")
    overrun: Decimal = Field(
        description="其造成的超支(元) / the part of the overrun it causes, CNY"
    )


class BudgetWarning(SQLModel):
    """A package that would be over budget once the addition is committed (a warning, not a no)."""

    package_id: str = Field(description="项目包编号 / package id")
    package_name: str = Field(description="项目包名称 / package name")
    budget: Decimal = Field(description="预算(元) / budget, CNY")
    forecast_before: Decimal = Field(description="新增前预计总额(元) / forecast before, CNY")
    forecast_after: Decimal = Field(description="新增后预计总额(元) / forecast after, CNY")
    overrun: Decimal = Field(description="预计超支(元) / forecast after − budget, CNY")
    projects: list[ProjectOverrun] = Field(description="造成超支的项目 / projects causing it")
    message: str = Field(description="提示 / the warning in words")


class FilingStatus(StrEnum):
    """A filing is due until filed; past its due date unfiled, it is overdue (from the clock)."""

    DUE = "due"
    FILED = "filed"
    OVERDUE = "overdue"


FILING_STATUS_ZH: Mapping[FilingStatus, str] = {
    FilingStatus.DUE: "待备案",
    FilingStatus.FILED: "已备案",
    FilingStatus.OVERDUE: "已逾期",
}


class Filing(SQLModel, table=True):
    """A 先实施、后备案 filing: a project implemented over its package's budget, reported to the
    province within 2 working days of the review (R7).

    Whether it is overdue is never stored: it follows from `due_on`, `filed_at` and the day asked
    about (`filing_status`). At most one open (unfiled) filing per package and project.
    """

    __table_args__ = (
        check_non_negative("overrun"),
        Index(
            "uq_filing_open_project",
            "package_id",
            "project_id",
            unique=True,
            sqlite_where=text("filed_at IS NULL"),
            postgresql_where=text("filed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    package_id: str = Field(foreign_key="package.id", max_length=32, index=True)
    project_id: str = Field(foreign_key="project.id", max_length=32, index=True)
    overrun: Decimal = Field(sa_type=Total, description="超支金额(元) / overrun, CNY")
    review_on: date = Field(description="评审日期 / the review (可研/初设评审) date")
    due_on: date = Field(index=True, description="备案截止日 / due: review + 2 working days")
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    filed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    filed_by: str | None = Field(default=None, max_length=100)
    reference: str | None = Field(
        default=None, max_length=200, description="省公司备案文号 / the province's reference"
    )


class FilingPublic(SQLModel):
    """A filing as read: its status on the day asked about, and the names behind its ids."""

    id: int
    package_id: str = Field(description="项目包 / package")
    package_name: str
    project_id: str = Field(description="项目 / project")
    project_name: str
    overrun: Decimal = Field(description="超支金额(元) / overrun, CNY")
    review_on: date = Field(description="评审日期 / review date")
    due_on: date = Field(description="备案截止日 / due date (review + 2 working days)")
    status: FilingStatus = Field(description="due 待备案, filed 已备案, overdue 已逾期")
    filed_at: datetime | None = Field(description="备案时间 / when it was filed")
    filed_by: str | None = Field(description="备案人 / who filed it")
    reference: str | None = Field(description="省公司备案文号 / the province's reference")
    created_at: datetime
    updated_at: datetime


class FilingFile(SQLModel):
    """Mark a filing as filed with the province: the reference number it gave."""

    reference: Name = Field(description="省公司备案文号 / the province's reference number")
