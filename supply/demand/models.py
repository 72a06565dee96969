"""Demand lines: the materials a project needs, each with its need-by date and status."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from annotated_types import Gt, Le
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import BigInteger, CheckConstraint, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from supply.core.dates import DATE_PATTERN, IsoDate
from supply.core.db import UTCDateTime, check_in
from supply.core.text import BLANK, NOT_BLANK, Code64, Text200
from supply.core.units import MAX_QUANTITY

MAX_LINE_NO = 2**31 - 1


class DemandStatus(StrEnum):
    """open → planned → held → issued, or cancelled (the least advanced part of the line)."""

    OPEN = "open"  # some quantity has no source yet
    PLANNED = "planned"  # every unit has a source in an approved plan or a promise
    HELD = "held"  # every unit is held in stock (reserve or consignment)
    ISSUED = "issued"  # every unit has left the warehouse
    CANCELLED = "cancelled"


DEMAND_STATUS_ZH: Mapping[DemandStatus, str] = {
    DemandStatus.OPEN: "待匹配",
    DemandStatus.PLANNED: "已计划",
    DemandStatus.HELD: "已预留",
    DemandStatus.ISSUED: "已出库",
    DemandStatus.CANCELLED: "已取消",
}


class DemandLineBase(SQLModel):
    project_id: str = Field(foreign_key="project.id", max_length=32, index=True)
    line_no: int = Field(description="行号 / line within the project")
    material_code: str = Field(foreign_key="material.code", max_length=64, index=True)
    quantity: int = Field(sa_type=BigInteger, description="需求数量 / quantity, base units")
    need_by_override: date | None = Field(
        default=None, description="指定需到货日期 / need-by set by hand (with a reason)"
    )
    override_reason: str = Field(default="", max_length=200, description="指定原因 / why")
    feasibility_listed: bool = Field(
        default=False,
        description="可研阶段已列明(目录外物资) / listed at the feasibility stage (R1.4)",
    )


class DemandLine(DemandLineBase, table=True):
    __tablename__ = "demand_line"
    __table_args__ = (
        UniqueConstraint("project_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        check_in("status", DemandStatus),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=DemandStatus.OPEN, max_length=16, index=True)
    covered: int = Field(
        default=0,
        sa_type=BigInteger,
        sa_column_kwargs={"server_default": text("0")},
        description="已落实数量 / quantity with a source (held, issued, planned or promised); "
        "kept with the status (supply.commitments.refresh_statuses)",
    )
    submitted_at: datetime = Field(sa_type=UTCDateTime, description="提报时间 / submitted at")
    submitted_by: str = Field(max_length=100)


class DemandLinePublic(DemandLineBase):
    id: int
    status: str
    need_by: date = Field(description="需到货日期 / need-by (override, else the project's)")
    submitted_at: datetime
    submitted_by: str


_OVERRIDE = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
_WITH_REASON = {
    "required": ["need_by_override", "override_reason"],
    "properties": {"need_by_override": _OVERRIDE, "override_reason": {"pattern": NOT_BLANK}},
}


def _create_rules(schema: dict[str, Any]) -> None:
    # A need-by set by hand comes with its reason, and a reason only with one.
    schema["oneOf"] = [
        _WITH_REASON,
        {
            "properties": {
                "need_by_override": {"type": "null"},
                "override_reason": {"pattern": BLANK},
            }
        },
    ]


def _update_rules(schema: dict[str, Any]) -> None:
    # Given together, the same rule; given alone, checked with the stored line (409 if they clash).
    both = ["need_by_override", "override_reason"]
    schema["anyOf"] = [
        {"not": {"required": both}},
        _WITH_REASON,
        {
            "required": both,
            "properties": {
                "need_by_override": {"type": "null"},
                "override_reason": {"anyOf": [{"type": "null"}, {"pattern": BLANK}]},
            },
        },
    ]


class DemandLineCreate(SQLModel):
    """A line to add to a project: material and quantity in base units (米, 千克, 台 …).

    A need-by date set by hand (`need_by_override`) needs a reason, and a reason needs one.
    """

    model_config = {"json_schema_extra": _create_rules}

    line_no: int | None = Field(
        default=None,
        ge=1,
        le=MAX_LINE_NO,
        description="行号,默认接续 / line number (default: next)",
    )
    material_code: Code64 = Field(description="物料编码 / material code")
    quantity: int = Field(
        gt=0,
        le=MAX_QUANTITY,
        description=f"需求数量(基本单位,至多 {MAX_QUANTITY:,}) / base units, at most {MAX_QUANTITY:,}",
    )
    need_by_override: IsoDate | None = Field(
        default=None, description="指定需到货日期(须说明原因) / need-by set by hand, with a reason"
    )
    override_reason: Text200 = Field(default="", description="指定原因 / why")
    feasibility_listed: bool = Field(
        default=False, description="可研阶段已列明(目录外物资) / listed at the feasibility stage"
    )


class DemandLineUpdate(SQLModel):
    """Changes to an open line; fields left out stay. A null need-by override clears it."""

    model_config = {"json_schema_extra": _update_rules}

    material_code: Code64 | SkipJsonSchema[None] = Field(
        default=None, description="物料编码 / material code"
    )
    quantity: Annotated[int, Gt(0), Le(MAX_QUANTITY)] | SkipJsonSchema[None] = Field(
        default=None, description="需求数量(基本单位) / base units"
    )
    need_by_override: IsoDate | None = Field(
        default=None, description="指定需到货日期(null 清除) / need-by by hand (null clears)"
    )
    override_reason: Text200 | None = Field(default=None, description="指定原因 / why")
    feasibility_listed: bool | SkipJsonSchema[None] = Field(
        default=None, description="可研阶段已列明 / listed at the feasibility stage"
    )
