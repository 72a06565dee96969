"""Project packages (项目包): the budgets customer-connection projects are paid from (R7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime, check_non_negative
from supply.core.money import Money
from supply.core.text import Code32, Name, Text200


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


class PackageCreate(SQLModel):
    """A new project package and its budget."""

    id: Code32 = Field(description="项目包编号 / package id")
    name: Name = Field(description="项目包名称 / name")
    year: int = Field(ge=2000, le=2100, description="年度 / budget year")
    kind: Text200 = Field(default="", max_length=64, description="类别 / kind (e.g. 业扩配套)")
    budget: Decimal = Field(ge=0, lt=10**12, decimal_places=6, description="预算(元) / budget, CNY")
