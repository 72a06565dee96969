"""What the API and the command line show of holds and their history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from supply.core.units import MAX_QUANTITY


class HoldPublic(BaseModel):
    """Stock held for one demand line."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: str
    line_no: int
    demand_line_id: int
    stock_kind: str = Field(description="reserve 实物储备 or consignment 供应商寄存")
    warehouse_id: str
    material_code: str
    consignment_id: int | None
    quantity: int
    status: str = Field(description="held, issued or released")
    plan_run_id: int | None = Field(description="批准的周计划 / the approved weekly run")
    request_id: int | None = Field(description="紧急需求 / the urgent request")
    expires_on: date | None = Field(description="到期日 / released if not issued by")
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    closed_by: str | None


class HoldEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event: str = Field(description="held, issued, released or expired")
    quantity: int
    at: datetime
    by: str
    note: str


class HoldDetail(HoldPublic):
    """A hold with its history (who did what, when)."""

    events: list[HoldEventPublic]
    settlement_amount: Decimal | None = Field(
        description="寄存结算金额 / owed to the vendor once consignment is issued"
    )


class IssueBody(BaseModel):
    quantity: int | None = Field(
        default=None,
        gt=0,
        le=MAX_QUANTITY,
        description="出库数量,默认全部 / quantity (default: all)",
    )


class ReleaseBody(BaseModel):
    reason: str = Field(default="", max_length=200, description="释放原因 / why")
