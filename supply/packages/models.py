"""Project packages (项目包): the budgets customer-connection projects are paid from (R7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime, check_non_negative
from supply.core.money import Money


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
    pass
