"""Holds: reserve or consignment stock set aside for one demand line, so no one else takes it.

A hold is `held` until the goods are issued (`issued`) or it is given back (`released`). Stock
available to anyone else is on-hand minus every `held` quantity.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime, check_in


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
    expires_on: date | None = Field(default=None, description="到期日 / released if not issued by")
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=100)
