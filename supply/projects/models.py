"""Customer-connection projects: what must be built, where, and by when (R3).

A project's deadline and materials need-by date are derived from its type and approval date (or,
for 35/110 kV, the customer's completion date) by `supply.policy`; they are stored for queries
but never typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from catalogs.models import VoltageClass
from supply.core.dates import DATE_PATTERN, IsoDate
from supply.core.db import UTCDateTime, check_in
from supply.core.text import Code32, Location, Name, Text200
from supply.demand.models import DemandLinePublic
from supply.policy import COMPLETION_TYPES, ProjectType


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

PRIORITY_ZH: Mapping[Priority, str] = {
    Priority.NORMAL: "一般",
    Priority.CITY_KEY: "市级重点",
    Priority.PROVINCIAL_KEY: "省级重点",
}

# The voltage classes a project of each type may be recorded at; the first is the default.
# A transformer area (台区) is a 10 kV transformer with its 0.4 kV network: either is accepted.
TYPE_VOLTAGES: Mapping[ProjectType, tuple[VoltageClass, ...]] = {
    ProjectType.lv_extension: (VoltageClass.LV,),
    ProjectType.area_capacity_increase: (VoltageClass.MV, VoltageClass.LV),
    ProjectType.area_new: (VoltageClass.MV, VoltageClass.LV),
    ProjectType.mv_10kv: (VoltageClass.MV,),
    ProjectType.mv_10kv_civil: (VoltageClass.MV,),
    ProjectType.hv_35kv: (VoltageClass.HV35,),
    ProjectType.hv_110kv: (VoltageClass.HV110,),
}


class ProjectStatus(StrEnum):
    """A project is active until it is completed or cancelled."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


PROJECT_STATUS_ZH: Mapping[ProjectStatus, str] = {
    ProjectStatus.ACTIVE: "在建",
    ProjectStatus.COMPLETED: "已完工",
    ProjectStatus.CANCELLED: "已取消",
}


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
    unit: str | None = Field(
        default=None, max_length=32, index=True, description="建设单位 / unit that builds it"
    )
    manager: str | None = Field(
        default=None, max_length=32, index=True, description="项目经理 / project manager (login)"
    )


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
    updated_at: datetime


class ProjectDetail(ProjectPublic):
    """A project with its demand lines, in line order."""

    lines: list[DemandLinePublic] = Field(description="需求明细 / the project's demand lines")


def _by_type(*, creating: bool) -> list[dict[str, Any]]:
    """The type rules as JSON-schema branches: the voltage classes each type allows, and the
    completion date only 35/110 kV projects have (required when creating one)."""
    groups: dict[tuple[tuple[VoltageClass, ...], bool], list[str]] = {}
    for kind, voltages in TYPE_VOLTAGES.items():
        groups.setdefault((voltages, kind in COMPLETION_TYPES), []).append(kind.value)
    date_schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    branches = []
    for (voltages, by_completion), kinds in groups.items():
        branch: dict[str, Any] = {
            "required": ["project_type"],
            "properties": {
                "project_type": {"enum": kinds},
                "voltage_class": {"enum": [*(v.value for v in voltages), None]},
                "completion_date": date_schema if by_completion else {"type": "null"},
            },
        }
        if by_completion and creating:
            branch["required"] = ["project_type", "completion_date"]
        branches.append(branch)
    return branches


def _create_rules(schema: dict[str, Any]) -> None:
    schema["oneOf"] = _by_type(creating=True)


def _update_rules(schema: dict[str, Any]) -> None:
    # A change that keeps the type is checked against the stored project (409 if they clash).
    schema["anyOf"] = [{"not": {"required": ["project_type"]}}, *_by_type(creating=False)]


class ProjectCreate(SQLModel):
    """A new project: what is built, where, approved when. Deadline and need-by are derived.

    The type decides the voltage classes allowed (default: the first) and whether the customer's
    completion date is given (35/110 kV only, then required, after the approval date).
    """

    model_config = {"json_schema_extra": _create_rules}

    id: Code32 = Field(description="项目编号 / project id")
    name: Name = Field(description="项目名称 / name")
    customer: Text200 = Field(default="", description="客户 / customer")
    project_type: ProjectType = Field(description="工程类型 / type (the deadline table)")
    voltage_class: VoltageClass | None = Field(
        default=None, description="电压等级,默认按工程类型 / voltage class (default: by type)"
    )
    location: Location = Field(description="所在地点 / location id, e.g. huancui")
    approved_on: IsoDate = Field(description="行政审批日期 / administrative approval date")
    completion_date: IsoDate | None = Field(
        default=None,
        description="客户要求完工日期,仅35/110千伏 / customer completion date (35/110 kV only)",
    )
    package_id: Code32 | None = Field(default=None, description="项目包 / project package")
    priority: Priority = Field(default=Priority.NORMAL, description="重点工程 / priority")


class ProjectUpdate(SQLModel):
    """Changes to a project; fields left out stay as they are. Dates are derived again.

    Only `voltage_class` (back to the type's default), `completion_date` and `package_id` may be
    null; the other fields are left out to keep them.
    """

    model_config = {"json_schema_extra": _update_rules}

    name: Name | SkipJsonSchema[None] = Field(default=None, description="项目名称 / name")
    customer: Text200 | SkipJsonSchema[None] = Field(default=None, description="客户 / customer")
    project_type: ProjectType | SkipJsonSchema[None] = Field(
        default=None, description="工程类型 / type"
    )
    voltage_class: VoltageClass | None = Field(
        default=None, description="电压等级(null: 按工程类型) / voltage (null: by type)"
    )
    location: Location | SkipJsonSchema[None] = Field(
        default=None, description="所在地点 / location id"
    )
    approved_on: IsoDate | SkipJsonSchema[None] = Field(
        default=None, description="行政审批日期 / approval date"
    )
    completion_date: IsoDate | None = Field(
        default=None, description="客户要求完工日期(null 清除) / completion date (null clears)"
    )
    package_id: Code32 | None = Field(
        default=None, description="项目包(null 清除) / project package (null clears)"
    )
    priority: Priority | SkipJsonSchema[None] = Field(
        default=None, description="重点工程 / priority"
    )


class TypeSummary(SQLModel):
    """Active projects of one type: how many, their lines, and their tightest dates."""

    project_type: str
    projects: int
    key_projects: int = Field(description="市级及省级重点工程 / city or provincial key projects")
    lines: int = Field(description="未取消的需求行 / lines not cancelled")
    lines_after: int = Field(description="截止时点及之后提报 / lines submitted at or after cutoff")
    earliest_need_by: date
    latest_deadline: date
