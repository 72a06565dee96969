"""Customer-connection projects: what must be built, where, and by when (R3).

A project's deadline and materials need-by date are derived from its type and approval date (or,
for 35/110 kV, the customer's completion date) by `supply.policy`; they are stored for queries
but never typed in.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from catalogs.models import VoltageClass
from supply.core.db import UTCDateTime, check_in
from supply.policy import ProjectType


class Priority(StrEnum):
    """How much a project weighs when stock is short: key projects are served first."""

    NORMAL = "normal"
    CITY_KEY = "city_key"  # 市级重点工程
    PROVINCIAL_KEY = "provincial_key"  # 省级重点工程


# Matching weights (contract: weight >= 1). Reserve replenishment weighs 1, below every project.
PRIORITY_WEIGHT: dict[Priority, int] = {
    Priority.NORMAL: 2,
    Priority.CITY_KEY: 3,
    Priority.PROVINCIAL_KEY: 4,
}
REPLENISHMENT_WEIGHT = 1


class ProjectStatus(StrEnum):
    """A project is active until it is completed or cancelled."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProjectBase(SQLModel):
    id: str = Field(primary_key=True, max_length=32, description="项目编号 / project id")
    name: str = Field(max_length=200, description="项目名称 / name")
    customer: str = Field(default="", max_length=200, description="客户 / customer")
    project_type: str = Field(max_length=32, description="工程类型 / type (deadline table)")
    voltage_class: str = Field(max_length=8, description="电压等级 / voltage class")
    location: str = Field(max_length=32, index=True, description="所在地点 / location id")
    approved_on: date = Field(description="行政审批日期 / administrative approval date")
    completion_date: date | None = Field(
        default=None, description="客户要求完工日期(35/110千伏) / customer completion date"
    )
    package_id: str | None = Field(
        default=None,
        foreign_key="package.id",
        max_length=32,
        index=True,
        description="项目包 / project package",
    )
    priority: str = Field(default=Priority.NORMAL, max_length=16, description="优先级 / priority")


class Project(ProjectBase, table=True):
    __table_args__ = (
        check_in("project_type", ProjectType),
        check_in("voltage_class", VoltageClass),
        check_in("priority", Priority),
        check_in("status", ProjectStatus),
        CheckConstraint("need_by <= deadline", name="need_by_before_deadline"),
    )

    status: str = Field(default=ProjectStatus.ACTIVE, max_length=16)
    deadline: date = Field(description="建设期限 / build deadline (derived)")
    need_by: date = Field(description="物资需到货日期 / materials need-by (derived)")
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ProjectPublic(ProjectBase):
    status: str
    deadline: date
    need_by: date
    created_at: datetime
    created_by: str
