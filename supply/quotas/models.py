"""A quota recommendation as stored: the figures of its replay, and one line per warehouse × material.

A recommendation is kept (migration 0013) so that the 库存与定额 page and the API show it, and its
draft workbook can be downloaded again, without replaying the year on every view. The service
level is kept in per mille (950 = 95 %), exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field as PydanticField
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime
from supply.core.money import Money

# The share of short-deadline lines the quotas should keep on time: at least half, at most all,
# to the per mille (GRIDSUPPLY_QUOTA_SERVICE_LEVEL, --service-level, the API's service_level).
MIN_SERVICE_LEVEL = Decimal("0.5")
ServiceLevel = Annotated[
    Decimal,
    PydanticField(
        ge=MIN_SERVICE_LEVEL,
        le=1,
        decimal_places=3,
        description="目标服务水平：短工期需求行按时满足的比例，0.5–1 / target share of "
        "short-deadline lines on time, 0.5–1 (e.g. 0.95)",
    ),
]


class RecommendationStatus(StrEnum):
    """A recommendation is computed after it is asked for (the replay takes a while)."""

    COMPUTING = "computing"
    DONE = "done"
    FAILED = "failed"


RECOMMENDATION_STATUS_ZH: Mapping[RecommendationStatus, str] = {
    RecommendationStatus.COMPUTING: "计算中",
    RecommendationStatus.DONE: "已完成",
    RecommendationStatus.FAILED: "失败",
}


class QuotaRecommendation(SQLModel, table=True):
    """One recommendation: what it was asked for, the window it read, and its replay's figures
    (zero until it is done)."""

    __tablename__ = "quota_recommendation"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=RecommendationStatus.COMPUTING, max_length=16)
    message: str = Field(default="", max_length=500, description="失败原因 / why it failed")
    year: int = Field(index=True, description="定额目录年度 / the quota catalog year it drafts")
    service_level_permille: int = Field(description="目标服务水平(‰) / target, per mille")
    first_batch: str = Field(max_length=10, description="首个批次 / first batch of the window")
    last_batch: str = Field(max_length=10, description="末个批次 / last batch of the window")
    window_start: datetime = Field(sa_type=UTCDateTime)
    window_end: datetime = Field(sa_type=UTCDateTime)
    catalog: str = Field(max_length=40, description="对照的现行定额目录 / the catalog compared")
    history_lines: int = Field(default=0, description="读取的需求行 / lines read")
    short_lines: int = Field(default=0, description="短工期需求行 / short-deadline lines")
    on_time_current: int = Field(default=0, description="现行定额下按时 / on time, current")
    on_time_recommended: int = Field(default=0, description="推荐定额下按时 / on time, recommended")
    other_lines: int = Field(default=0, description="其余需求行(周计划) / the batches' others")
    other_on_time_current: int = 0
    other_on_time_recommended: int = 0
    stock_value_current: Decimal = Field(
        default=Decimal(0), sa_type=Money, description="平均库存金额 / average stock, current"
    )
    stock_value_recommended: Decimal = Field(
        default=Decimal(0), sa_type=Money, description="平均库存金额 / average, recommended"
    )
    quota_value_current: Decimal = Field(default=Decimal(0), sa_type=Money)
    quota_value_recommended: Decimal = Field(default=Decimal(0), sa_type=Money)
    replay_seconds: float = Field(default=0, description="重放用时(秒) / replay time, seconds")
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuotaRecommendationLine(SQLModel, table=True):
    """One warehouse × material of a recommendation."""

    __tablename__ = "quota_recommendation_line"

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(foreign_key="quota_recommendation.id", index=True)
    warehouse_id: str = Field(max_length=32)
    material_code: str = Field(max_length=64)
    current: int = Field(sa_type=BigInteger, description="现行定额 / current quota")
    recommended: int = Field(sa_type=BigInteger, description="推荐定额 / recommended quota")
    lines: int = Field(description="短工期需求行 / short-deadline lines seen")
    quantity: int = Field(sa_type=BigInteger, description="需求数量 / their quantity")
    lead_days: int = Field(description="补库周期(天) / replenishment lead time, days")
    unit_price: Decimal = Field(sa_type=Money)
    replay_lines: int = Field(description="重放的需求行 / lines replayed that call it home")
    on_time_current: int
    on_time_recommended: int
    reason: str = Field(max_length=400)


class RecommendationLinePublic(SQLModel):
    """A warehouse × material: current and recommended quota, the demand seen, the lead time,
    and the share of its lines on time in each replay (null without lines)."""

    warehouse_id: str
    material_code: str
    material_name: str
    unit: str
    current: int
    recommended: int
    lines: int
    quantity: int
    lead_days: int
    unit_price: Decimal
    on_time_current: float | None
    on_time_recommended: float | None
    reason: str


class RecommendationPublic(SQLModel):
    """A recommendation with its replay's figures: on-time rate of the short-deadline lines and
    average stock value, with the current quotas and with the recommended ones. While it is
    `computing` (or when it `failed`, with the `message`), the figures are 0 and the rates
    null."""

    id: int
    status: str = Field(description="computing 计算中 | done 已完成 | failed 失败")
    message: str = Field(description="失败原因 / why it failed")
    year: int
    service_level: float = Field(description="目标服务水平 / the target share, e.g. 0.95")
    first_batch: str
    last_batch: str
    window_start: datetime
    window_end: datetime
    catalog: str
    history_lines: int
    short_lines: int
    on_time_rate_current: float | None
    on_time_rate_recommended: float | None
    other_lines: int
    other_on_time_rate_current: float | None
    other_on_time_rate_recommended: float | None
    stock_value_current: Decimal
    stock_value_recommended: Decimal
    quota_value_current: Decimal
    quota_value_recommended: Decimal
    replay_seconds: float
    created_at: datetime
    created_by: str
    finished_at: datetime | None


class RecommendationDetail(RecommendationPublic):
    """A recommendation and its lines, warehouse by warehouse (none until it is done)."""

    lines: list[RecommendationLinePublic]


class RecommendationAsk(SQLModel):
    """What to recommend: the catalog year the draft is for, and the target service level
    (default: GRIDSUPPLY_QUOTA_SERVICE_LEVEL), rounded to the per mille."""

    year: int = Field(ge=2000, le=2100, description="定额目录年度 / the quota catalog year")
    service_level: float | None = Field(
        default=None,
        ge=float(MIN_SERVICE_LEVEL),
        le=1,
        description="目标服务水平：短工期需求行按时满足的比例，0.5–1，取到千分位 / target share of "
        "short-deadline lines on time, 0.5–1, rounded to the per mille (default: the setting, "
        "0.95)",
    )

    def level(self) -> Decimal | None:
        """The service level asked for, to the per mille, or None."""
        if self.service_level is None:
            return None
        return Decimal(repr(self.service_level)).quantize(Decimal("0.001"))
