"""What the 库存与定额 page and the reserve, agreement and consignment routes show: stock against
quota with what holds take, each agreement line against its execution band, consignment by
supplier — and the filters each list is read with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Field, SQLModel

from catalogs.models import AgreementLinePublic, ConsignmentPublic, ReservePosition

EXPIRING_DAYS = 30  # an agreement line whose validity ends within this many days "expires soon"


class StockPosition(ReservePosition):
    """Reserve on hand against the confirmed quota, with what holds set aside of it."""

    held: int = Field(description="已保留 / held for demand lines, not yet issued")
    available: int = Field(description="可用 / on hand minus held")
    below_quota: bool = Field(description="低于定额 / on hand below the confirmed quota")


class Band(StrEnum):
    """Where an agreement line's ordered and promised quantity stands against its band."""

    UNDER = "under"
    WITHIN = "within"
    OVER = "over"


BAND_ZH = {Band.UNDER: "低于下限", Band.WITHIN: "区间内", Band.OVER: "超过上限"}


class AgreementExecution(AgreementLinePublic):
    """An agreement line with its execution: ordered and promised against the 80–120 % band."""

    material_name: str = Field(description="物料名称 / material name")
    unit: str = Field(description="单位 / base unit")
    promised: int = Field(
        description="已承诺未匹配 / in approved weekly plans or promised to urgent requests, "
        "not yet in the province's matching (then it is ordered)"
    )
    committed: int = Field(description="已下单+已承诺 / ordered plus promised")
    executed_pct: Decimal | None = Field(
        description="已下单执行率(%) / ordered ÷ estimate, one decimal (none: no estimate)"
    )
    committed_pct: Decimal | None = Field(
        description="含承诺执行率(%) / (ordered + promised) ÷ estimate, one decimal"
    )
    band: Band = Field(
        description="执行区间 / under: below band_low_pct of the estimate; over: above "
        "band_high_pct; within otherwise (ordered plus promised)"
    )
    days_left: int = Field(description="距有效期止天数 / days to valid_to (negative: expired)")
    expiring: bool = Field(
        description=f"即将到期 / valid today and ending within {EXPIRING_DAYS} days"
    )


class ExpiringAgreement(SQLModel):
    """An agreement whose lines' validity ends within EXPIRING_DAYS days, with how its lines
    stand against their band."""

    agreement_no: str = Field(description="协议编号 / agreement number")
    tender: str = Field(description="招标批次 / provincial tender")
    supplier: str = Field(description="供应商 / supplier")
    valid_to: date = Field(description="有效期止 / valid to (inclusive)")
    days_left: int = Field(description="距到期天数 / days to valid_to")
    lines: int = Field(description="协议行数 / its lines ending then")
    under: int = Field(description="低于执行下限的行数 / lines below their band's lower end")
    usable: int = Field(description="尚有剩余可用的行数 / lines that can still serve")


class ConsignmentHolding(ConsignmentPublic):
    """One consignment row with what holds set aside of it and its value at the issue price."""

    material_name: str = Field(description="物料名称 / material name")
    unit: str = Field(description="单位 / base unit")
    held: int = Field(description="已保留 / held for demand lines, not yet issued")
    available: int = Field(description="可用 / quantity minus held")
    value: Decimal = Field(description="寄存金额(元) / quantity × issue price, to the fen")


class SupplierConsignment(SQLModel):
    """A supplier's consignment stock (theirs until issued) across the warehouses."""

    supplier: str = Field(description="供应商 / supplier")
    lines: int = Field(description="寄存行数 / consignment rows")
    warehouses: list[str] = Field(description="存放仓库 / warehouses holding it")
    value: Decimal = Field(description="寄存金额(元) / at issue price, to the fen")
    held_value: Decimal = Field(description="已保留金额(元) / held part at issue price")
    items: list[ConsignmentHolding] = Field(description="明细 / the rows, by warehouse, material")


@dataclass(frozen=True)
class PositionFilter:
    """Which positions: one warehouse, one material code, text in the material's code or name,
    only those below quota; `sort` a key of `catalogs.reserve.POSITION_SORTS` (`-key`: down)."""

    warehouse_id: str | None = None
    material_code: str | None = None
    q: str | None = None
    below_quota_only: bool = False
    sort: str | None = None


@dataclass(frozen=True)
class AgreementFilter:
    """Which agreement lines: text in the supplier, one material code, text in the material's
    code or name, still valid and ending within `expiring_within` days, usable today or not
    (`serving`); `sort` a key of `catalogs.queries.AGREEMENT_SORTS`."""

    supplier: str | None = None
    material_code: str | None = None
    q: str | None = None
    tender: str | None = None
    agreement_no: str | None = None
    serving: bool | None = None
    expiring_within: int | None = None
    sort: str | None = None


CONSIGNMENT_SORTS = ("supplier", "lines", "value")


@dataclass(frozen=True)
class ConsignmentFilter:
    """Which consignment: text in the supplier, one warehouse, text in the material's code or
    name; `sort` a key of CONSIGNMENT_SORTS (suppliers, largest value first by default)."""

    supplier: str | None = None
    warehouse_id: str | None = None
    q: str | None = None
    sort: str | None = None
