"""What an urgent request carries and the answer it gets, and the table that keeps the answer
(`SupplyRequest`, for idempotent replays)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Text
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from supply.core.db import UTCDateTime
from supply.core.text import Code32
from supply.demand.models import DemandLineCreate
from supply.emergency import EmergencyCause
from supply.packages.models import BudgetWarning, FilingPublic
from supply.projects.models import ProjectCreate

MAX_REQUEST_LINES = 200


def _one_project(schema: dict[str, Any]) -> None:
    # Exactly one of: an existing project's id, or a new project with its lines.
    schema["oneOf"] = [
        {
            "required": ["project_id"],
            "properties": {"project_id": {"type": "string"}, "project": {"type": "null"}},
        },
        {
            "required": ["project", "lines"],
            "properties": {
                "project_id": {"type": "null"},
                "project": {"type": "object"},
                "lines": {"minItems": 1},
            },
        },
    ]


class SupplyRequestIn(BaseModel):
    """An urgent request: a project (existing, or created now) and the lines it needs.

    Give exactly one of `project_id` (an existing project) and `project` (a new one, with at least
    one line). For an existing project without `lines`, every outstanding line of the project is
    asked for.
    """

    model_config = {"json_schema_extra": _one_project}

    project_id: Code32 | None = Field(default=None, description="已有项目 / an existing project")
    project: ProjectCreate | None = Field(
        default=None, description="同时新建的项目 / a project created with the request"
    )
    lines: list[DemandLineCreate] = Field(
        default_factory=list,
        max_length=MAX_REQUEST_LINES,
        description="需求行 / the lines asked for (new lines of the project)",
    )

    @model_validator(mode="after")
    def _one_project(self) -> Self:
        if (self.project_id is None) == (self.project is None):
            raise ValueError(
                "give exactly one of project_id (an existing project) or project (a new one) / "
                "project_id 与 project 须且只须给出一个"
            )
        if self.project is not None and not self.lines:
            raise ValueError("a new project needs its lines / 新建项目须给出需求行")
        return self


SourceKind = Literal["reserve", "consignment", "agreement", "emergency"]


class AllocationAnswer(BaseModel):
    """Part of a line's quantity and where it comes from."""

    kind: SourceKind
    source_id: str = Field(description="匹配实例中的来源 / the source's id in the instance")
    state: Literal["held", "promised"] = Field(
        description="held: stock set aside now; promised: agreement or emergency supply"
    )
    quantity: int
    arrival: date = Field(description="到货日期 / arrival at the project's site")
    unit_cost: Decimal
    warehouse_id: str | None = Field(description="出库或交货仓库 / warehouse")
    supplier: str = ""
    consignment_id: int | None = None
    agreement_no: str | None = None
    agreement_line_no: int | None = None
    hold_id: int | None = None
    promise_id: int | None = None
    expires_on: date | None = Field(
        default=None, description="保留到期日 / the hold is released if not issued by then"
    )
    emergency_cause: EmergencyCause | None = Field(
        default=None,
        description="紧急采购原因 / why emergency procurement: listed (outside the catalogs, "
        "listed at feasibility), agreement_exhausted, agreement_late, not_eligible (35/110 kV, "
        "only reserve or consignment holds it), stock_exhausted",
    )
    emergency_cause_zh: str | None = Field(
        default=None, description="紧急采购原因(中文) / the cause in the planner's words"
    )


class LineAnswer(BaseModel):
    """The answer for one line: its sources, its dates, and why when it is late."""

    line_no: int
    demand_line_id: int
    material_code: str
    quantity: int = Field(description="本次请求的数量 / quantity asked for")
    outcome: Literal["held", "promised", "partly_held", "unmet"] = Field(
        description="held: all held now; promised: all from agreement/emergency; partly_held: "
        "some of each; unmet: some has no source"
    )
    need_by: date
    deadline: date
    arrival: date | None = Field(description="最晚一批到货 / when the last part arrives")
    on_time: bool = Field(description="按需到货 / everything arrives by need-by")
    late_days: int = Field(description="晚于需到货日的天数 / days after need-by")
    earliest_completion: date | None = Field(
        description="按此到货最早完工 / the earliest the build can finish with these arrivals"
    )
    meets_deadline: bool
    unmet_quantity: int = 0
    reason: str | None = Field(
        default=None, description="未按时或未满足的原因 / why it is late or unmet"
    )
    reason_zh: str | None = Field(default=None, description="原因(中文) / the reason in Chinese")
    cause: str | None = Field(
        default=None,
        description="原因类别 / why late or unmet, as a code: used_up, kept_for_quota, "
        "none_in_time, not_eligible, no_source, over_limit (a quantity or cost past the limits)",
    )
    cause_zh: str | None = Field(default=None, description="原因类别(中文) / the cause in words")
    earliest_possible: date | None = Field(
        default=None,
        description="不计他人占用的最早到货 / the earliest any eligible source could arrive",
    )
    note: str | None = None
    allocations: list[AllocationAnswer] = Field(
        description="来源明细 / where each part comes from, held or promised"
    )


class RequestAnswer(BaseModel):
    """The answer to an urgent request, as sent (and sent again for the same Idempotency-Key)."""

    request_id: int
    project_id: str
    project_created: bool
    batch_id: str = Field(description="协议库存批次 / the agreement-stock batch it falls in")
    province_match_on: date
    answered_at: datetime
    answered_by: str
    lines: list[LineAnswer]
    budget_warnings: list[BudgetWarning] = Field(
        default_factory=list,
        description="项目包预算提示(只提示,不拒绝) / packages this answer takes over budget "
        "(a warning, never a refusal)",
    )
    relied_on_reserve: int = Field(
        default=0,
        description="超预算项目改用实物储备的数量 / quantity moved onto physical reserve "
        "because the project is over its package's budget (R7)",
    )
    filings: list[FilingPublic] = Field(
        default_factory=list,
        description="因超预算需备案 / filings (备案) due for it, review + 2 working days",
    )
    replayed: bool = Field(
        default=False, description="同一幂等键的重复请求 / a repeat with the same key"
    )


class SupplyRequest(SQLModel, table=True):
    """An urgent supply request and the answer it got (kept for idempotent replays)."""

    __tablename__ = "supply_request"

    id: int | None = TableField(default=None, primary_key=True)
    project_id: str = TableField(foreign_key="project.id", max_length=32, index=True)
    idempotency_key: str | None = TableField(default=None, max_length=200, unique=True)
    fingerprint: str = TableField(max_length=64, description="SHA-256 of the request body")
    answer: str = TableField(sa_type=Text, description="the answer as sent (JSON)")
    created_at: datetime = TableField(sa_type=UTCDateTime)
    created_by: str = TableField(max_length=100)
