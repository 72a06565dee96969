"""Weekly plan runs (the Monday-noon batch), their plan lines, the province's matching result,
and what the API takes and gives of them (a run asked for, a run made or approved, a plan line,
an accepted province import)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, text
from sqlmodel import Field, SQLModel

from supply.core.dates import IsoMoment
from supply.core.db import UTCDateTime, check_in
from supply.core.money import Money, Total
from supply.packages.models import BudgetWarning, FilingPublic


class RunStatus(StrEnum):
    """A run is a draft until approved; a re-run supersedes the batch's previous run."""

    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class LineKind(StrEnum):
    """Where a plan line's quantity comes from, or `unmet`."""

    RESERVE = "reserve"
    CONSIGNMENT = "consignment"
    AGREEMENT = "agreement"
    EMERGENCY = "emergency"
    UNMET = "unmet"


class PlanRunBase(SQLModel):
    batch_id: str = Field(max_length=10, index=True, description="批次 / ISO week, e.g. 2026-W49")
    cutoff: datetime = Field(sa_type=UTCDateTime, description="截止时间 / the batch's cutoff")
    plan_date: date = Field(description="计划日期 / the day stock is counted ready")
    province_match_on: date = Field(description="省公司匹配日 / province matching returns")
    status: str = Field(default=RunStatus.DRAFT, max_length=16)
    solve_status: str = Field(max_length=16, description="optimal or feasible")
    run_at: datetime = Field(sa_type=UTCDateTime)
    run_by: str = Field(max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=100)
    run_dir: str = Field(
        max_length=500, description="运行目录 / folder with instance, plan, exports"
    )
    demand_lines: int = Field(description="参与匹配的需求行 / demand lines in the run")
    replenishment_lines: int = Field(description="补库需求行 / replenishment requirements")
    unmet_weighted: Decimal = Field(sa_type=Total, description="加权缺口 / weighted unmet units")
    lateness_weighted: Decimal = Field(
        sa_type=Total, description="加权延迟(数量×天) / weighted late unit-days"
    )
    cost: Decimal = Field(
        sa_type=Total,
        description="目标成本 = 支出 + 低于定额罚金(罚金不实际支付; 支出见 kpis.spend) / the "
        "objective's cost: spend plus the below-quota penalty no one pays (spend: kpis.spend)",
    )


class PlanRun(PlanRunBase, table=True):
    __tablename__ = "plan_run"
    __table_args__ = (
        check_in("status", RunStatus),
        # At most one live (not superseded) run per batch, even under concurrent runs.
        Index(
            "uq_plan_run_live_batch",
            "batch_id",
            unique=True,
            sqlite_where=text("status != 'superseded'"),
            postgresql_where=text("status != 'superseded'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    supersedes_id: int | None = Field(default=None, foreign_key="plan_run.id")
    kpis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PlanRunPublic(PlanRunBase):
    id: int
    supersedes_id: int | None
    kpis: dict[str, Any]


class PlanLine(SQLModel, table=True):
    """One allocation of the plan (or a line's unmet rest), with its reason if late or unmet."""

    __tablename__ = "plan_line"
    __table_args__ = (
        check_in("kind", LineKind),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(demand_line_id IS NULL) != (replenish_warehouse_id IS NULL)", name="one_demand"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="plan_run.id", index=True, ondelete="CASCADE")
    demand_line_id: int | None = Field(default=None, foreign_key="demand_line.id", index=True)
    replenish_warehouse_id: str | None = Field(default=None, foreign_key="warehouse.id")
    project_id: str | None = Field(default=None, max_length=32, index=True)
    material_code: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    source_id: str = Field(default="", max_length=100, description="instance source id")
    warehouse_id: str | None = Field(default=None, max_length=32, description="出库/交货仓库")
    consignment_id: int | None = Field(default=None)
    agreement_line_id: int | None = Field(default=None)
    quantity: int = Field(sa_type=BigInteger)
    unit_cost: Decimal = Field(default=Decimal(0), sa_type=Money)
    arrival: date | None = Field(default=None)
    need_by: date
    late_days: int = Field(default=0)
    reason: str = Field(default="", max_length=2000)
    demand_key: str = Field(
        default="",
        max_length=100,
        description="需求在匹配实例中的编号 / the demand's id in the instance",
        sa_column_kwargs={"server_default": text("''")},
    )
    cause: str = Field(
        default="",
        max_length=32,
        description="延迟或未满足原因类别 / why late or unmet (a cause code)",
        sa_column_kwargs={"server_default": text("''")},
    )
    emergency_cause: str = Field(
        default="",
        max_length=32,
        description="紧急采购原因 / why emergency procurement (a cause code)",
        sa_column_kwargs={"server_default": text("''")},
    )
    reason_zh: str = Field(
        default="",
        max_length=2000,
        description="原因(中文) / the reason in Chinese",
        sa_column_kwargs={"server_default": text("''")},
    )


class ProvinceMatch(SQLModel, table=True):
    """A row of the province's central matching: which agreement line and supplier got it."""

    __tablename__ = "province_match"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="plan_run.id", index=True)
    material_code: str = Field(max_length=64)
    delivery_warehouse_id: str = Field(max_length=32)
    agreement_line_id: int = Field(foreign_key="agreement_line.id")
    supplier: str = Field(max_length=200)
    quantity: int = Field(sa_type=BigInteger)
    expected_arrival: date
    imported_at: datetime = Field(sa_type=UTCDateTime)
    imported_by: str = Field(max_length=100)


class RunApproval(PlanRunPublic):
    """An approved run, with the budget warnings its approval raised and the filings opened."""

    budget_warnings: list[BudgetWarning] = Field(
        default_factory=list, description="预算预警 / packages the approval takes over budget"
    )
    filings: list[FilingPublic] = Field(
        default_factory=list, description="需备案 / filings opened or updated by the approval"
    )


class RunRequest(SQLModel):
    at: IsoMoment | None = Field(
        default=None,
        description="计划时刻(带时区) / the moment whose batch is planned; default now",
    )
    rerun: bool = Field(default=False, description="取代本批次草稿 / supersede the batch's draft")


class RunCreated(SQLModel):
    run: PlanRunPublic
    exports: list[str] = Field(description="可下载的报表 / export names to download")


class PlanLinePublic(SQLModel):
    """One allocation of a plan, or the unmet rest of a line, with its reason."""

    id: int
    demand_line_id: int | None = Field(description="需求行 / demand line (none for replenishment)")
    replenish_warehouse_id: str | None = Field(description="补库仓库 / replenished warehouse")
    project_id: str | None
    material_code: str
    kind: str = Field(description="reserve, consignment, agreement, emergency, or unmet")
    source_id: str
    warehouse_id: str | None = Field(
        description="出库或交货仓库 / warehouse issued from or delivered to"
    )
    agreement_line_id: int | None
    consignment_id: int | None
    quantity: int
    unit_cost: Decimal
    arrival: date | None
    need_by: date
    late_days: int
    demand_key: str = Field(description="需求在匹配实例中的编号 / the demand's id in the instance")
    reason: str = Field(description="原因(英文) / why late or unmet, in English")
    reason_zh: str = Field(description="原因 / why late or unmet, in Chinese")
    cause: str = Field(
        description="原因类别 / why late or unmet: used_up, kept_for_quota, none_in_time, "
        "not_eligible, no_source, no_agreement, over_limit"
    )
    emergency_cause: str = Field(
        description="紧急采购原因 / why emergency procurement: listed, not_listed, "
        "kept_for_quota, stock_late, agreement_late, unused, agreement_exhausted, not_eligible, "
        "stock_exhausted"
    )


class LineMovePublic(SQLModel):
    """A plan line the province's matching re-dated."""

    plan_line_id: int
    project_id: str | None = Field(description="项目 / project (none for replenishment)")
    material_code: str
    warehouse_id: str | None = Field(description="交货仓库 / delivery warehouse")
    need_by: date = Field(description="需到货日期 / need-by")
    arrival_before: date = Field(description="原预计到货 / arrival the plan expected")
    arrival_after: date = Field(description="匹配后预计到货 / arrival the matching gives")
    late_days_before: int
    late_days_after: int


class MatchImportPublic(SQLModel):
    rows: int = Field(description="导入行数 / rows imported")
    agreement_lines: int = Field(description="下单的协议行 / agreement lines ordered")
    plan_lines: int = Field(description="改期的计划行 / plan lines re-dated")
    moves: list[LineMovePublic] = Field(
        default_factory=list, description="改期明细 / each re-dated line, before and after"
    )
