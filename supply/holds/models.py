"""Holds: reserve or consignment stock set aside for one demand line, so no one else takes it.

A hold is `held` until the goods are issued (`issued`) or it is given back (`released`). Stock
available to anyone else is on-hand minus every `held` quantity.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, text
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime, check_in
from supply.core.money import Money, Total
from supply.core.units import MAX_QUANTITY


class HoldStatus(StrEnum):
    HELD = "held"
    ISSUED = "issued"
    RELEASED = "released"


class StockKind(StrEnum):
    RESERVE = "reserve"
    CONSIGNMENT = "consignment"


class Hold(SQLModel, table=True):
    """Stock held for a demand line (from an approved weekly plan or an urgent request)."""

    __table_args__ = (
        check_in("status", HoldStatus),
        check_in("stock_kind", StockKind),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(stock_kind = 'consignment') = (consignment_id IS NOT NULL)", name="consignment_ref"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    demand_line_id: int = Field(foreign_key="demand_line.id", index=True)
    stock_kind: str = Field(max_length=16)
    warehouse_id: str = Field(foreign_key="warehouse.id", max_length=32)
    material_code: str = Field(foreign_key="material.code", max_length=64)
    consignment_id: int | None = Field(default=None, foreign_key="consignment.id")
    quantity: int = Field(sa_type=BigInteger)
    status: str = Field(default=HoldStatus.HELD, max_length=16, index=True)
    plan_run_id: int | None = Field(default=None, foreign_key="plan_run.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="supply_request.id", index=True)
    expires_on: date | None = Field(default=None, description="到期日 / released if not issued by")
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=100)


class HoldEventKind(StrEnum):
    HELD = "held"
    ISSUED = "issued"
    RELEASED = "released"
    EXPIRED = "expired"


class HoldEvent(SQLModel, table=True):
    """One change in a hold's life, with who made it and when (the audit trail)."""

    __tablename__ = "hold_event"
    __table_args__ = (check_in("event", HoldEventKind),)

    id: int | None = Field(default=None, primary_key=True)
    hold_id: int = Field(foreign_key="hold.id", index=True)
    event: str = Field(max_length=16)
    quantity: int = Field(sa_type=BigInteger)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str = Field(max_length=100)
    note: str = Field(default="", max_length=200)


class PromiseKind(StrEnum):
    AGREEMENT = "agreement"
    EMERGENCY = "emergency"


class PromiseStatus(StrEnum):
    PROMISED = "promised"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class Promise(SQLModel, table=True):
    """Supply promised to a demand line from an agreement line or emergency procurement."""

    __table_args__ = (
        check_in("kind", PromiseKind),
        check_in("status", PromiseStatus),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(kind = 'agreement') = (agreement_line_id IS NOT NULL)", name="agreement_ref"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="supply_request.id", index=True)
    demand_line_id: int = Field(foreign_key="demand_line.id", index=True)
    kind: str = Field(max_length=16)
    material_code: str = Field(foreign_key="material.code", max_length=64)
    agreement_line_id: int | None = Field(default=None, foreign_key="agreement_line.id", index=True)
    quantity: int = Field(sa_type=BigInteger)
    unit_cost: Decimal = Field(sa_type=Money)
    arrival: date
    batch_id: str = Field(max_length=16, description="批次 / the batch it goes to the province in")
    status: str = Field(default=PromiseStatus.PROMISED, max_length=16, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=100)
    emergency_cause: str = Field(
        default="",
        max_length=32,
        description="紧急采购原因 / why emergency procurement (supply.emergency)",
        sa_column_kwargs={"server_default": text("''")},
    )


class ConsignmentSettlement(SQLModel, table=True):
    """Consignment stock issued: ownership passes from the vendor, and the vendor is owed."""

    __tablename__ = "consignment_settlement"

    id: int | None = Field(default=None, primary_key=True)
    hold_id: int = Field(foreign_key="hold.id", index=True)
    consignment_id: int = Field(foreign_key="consignment.id", index=True)
    supplier: str = Field(max_length=200)
    material_code: str = Field(foreign_key="material.code", max_length=64)
    project_id: str = Field(foreign_key="project.id", max_length=32)
    quantity: int = Field(sa_type=BigInteger)
    unit_price: Decimal = Field(sa_type=Money)
    amount: Decimal = Field(sa_type=Total)  # quantity × price: past 10¹² after a repricing
    issued_at: datetime = Field(sa_type=UTCDateTime)
    issued_by: str = Field(max_length=100)


# What the API and the command line show of holds and their history.


class HoldPublic(SQLModel):
    """Stock held for one demand line."""

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


class HoldEventPublic(SQLModel):
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


class IssueBody(SQLModel):
    quantity: int | None = Field(
        default=None,
        gt=0,
        le=MAX_QUANTITY,
        description="出库数量,默认全部 / quantity (default: all)",
    )


class ReleaseBody(SQLModel):
    reason: str = Field(default="", max_length=200, description="释放原因 / why")
