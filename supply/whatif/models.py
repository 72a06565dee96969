"""What-if scenarios: the saved record, and what the API takes and gives of them.

A scenario's row holds what lists and comparisons need — its batch and base, its changes (JSON,
replayable), who made it and when, the KPIs of the base and of the what-if, what each change
did. Its instances and plans are files in its folder (`GRIDSUPPLY_RUNS_DIR/scenarios/<id>/`), in
the matching contract's format, as a weekly run keeps its own (docs/whatif.md says why).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime, check_in
from supply.core.text import Text200
from supply.whatif.changes import MAX_CHANGES, Change


class BaseKind(StrEnum):
    """What a what-if starts from: a run's instance, or the current state."""

    RUN = "run"
    CURRENT = "current"


class Scenario(SQLModel, table=True):
    """A saved what-if: its changes applied to a base, solved, and compared with the base."""

    __tablename__ = "scenario"
    __table_args__ = (check_in("base", BaseKind),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200, description="名称 / name")
    batch_id: str = Field(max_length=10, index=True, description="批次 / batch, e.g. 2026-W49")
    base: str = Field(max_length=16, description="基准 / run or current")
    base_run_id: int | None = Field(
        default=None, foreign_key="plan_run.id", description="基准运行 / the run it starts from"
    )
    plan_date: date = Field(description="计划日期 / the day stock is counted ready")
    changes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    effects: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    kpis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    solve_status: str = Field(max_length=16, description="optimal or feasible")
    lines_changed: int = Field(default=0, description="变化的需求行 / lines whose supply changed")
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    folder: str = Field(max_length=500, description="目录 / folder with instances and plans")


# ------------------------------------------------------------------ what the API takes


Batch = Annotated[
    str, PydanticField(pattern=r"^\d{4}-W\d{2}$", description="批次 / batch id, e.g. 2026-W49")
]


class ScenarioCreate(SQLModel):
    """A what-if to make: a batch, its base, and the changes (docs/whatif.md)."""

    name: Text200 = PydanticField(default="", description="名称 / a name to find it by")
    batch: Batch
    base: Literal["run", "current"] = PydanticField(
        default="run",
        description="基准: run = 批次计划(或指定运行)的实例; current = 当前状态 / the base: the "
        "batch's run (or `run_id`), or the current state",
    )
    run_id: Annotated[int, PydanticField(ge=1, le=2_000_000_000)] | None = PydanticField(
        default=None, description="基准运行 / a run of the batch (default: its live run)"
    )
    changes: list[Change] = PydanticField(
        min_length=1, max_length=MAX_CHANGES, description="变更 / the changes, in order"
    )


# ------------------------------------------------------------------ what the API gives


class KpiRow(SQLModel):
    """One measure, base beside what-if."""

    key: str
    label: str = PydanticField(description="指标 / the measure, in Chinese")
    label_en: str
    unit: str = PydanticField(description="count or money (CNY)")
    base: float
    scenario: float
    delta: float
    verdict: str = PydanticField(description="better, worse or same")


class EffectPublic(SQLModel):
    """What one change did."""

    number: int = PydanticField(description="第几项变更 / the change's place, from 1")
    text: str = PydanticField(description="变更 / the change in words")
    text_en: str
    sources: list[str] = PydanticField(description="改变的来源 / each source touched, and how")
    sources_en: list[str]
    added: int = PydanticField(description="新增需求行 / lines it adds")
    idle: str = PydanticField(description="未起作用的原因 / why it changed nothing")
    idle_en: str


class SidePart(SQLModel):
    """Where a line's quantity comes from on one side."""

    source_id: str
    kind: str
    quantity: int
    arrival: date | None
    late_days: int


class LineSide(SQLModel):
    """A line in the base or in the what-if."""

    outcome: str = PydanticField(description="on_time, late or unmet")
    parts: list[SidePart]
    unmet: int = PydanticField(description="未满足数量 / quantity unmet")
    arrival: date | None = PydanticField(description="最晚到货 / the last part's arrival")
    late_days: int


class LineChange(SQLModel):
    """A demand line whose source or arrival changed, with why."""

    demand: str = PydanticField(description="需求在实例中的编号 / the demand's id")
    project_id: str
    project_name: str
    material: str
    material_name: str
    quantity: int
    need_by: date
    base: LineSide | None = PydanticField(description="基准 / the base (none: a new line)")
    scenario: LineSide
    verdict: str = PydanticField(description="new, worse, better or changed")
    changes: list[int] = PydanticField(description="涉及的变更 / the changes that touch it")
    note: str = PydanticField(description="变更说明 / what the changes did to its sources")
    note_en: str
    reason: str = PydanticField(description="引擎原因 / the engine's reason (late, unmet)")
    reason_en: str
    cause: str = PydanticField(description="原因类别 / cause code")


class ScenarioSummary(SQLModel):
    """A saved what-if, in a list."""

    id: int
    name: str
    batch_id: str
    base: str
    base_run_id: int | None
    plan_date: date
    created_by: str
    created_at: datetime
    solve_status: str
    changes: int = PydanticField(description="变更项数 / how many changes")
    lines_changed: int
    on_time_lines: tuple[int, int] = PydanticField(
        description="按时行数: 基准, 假设 / base, what-if"
    )
    late_lines: tuple[int, int]
    unmet_lines: tuple[int, int]
    spend: tuple[float, float] = PydanticField(description="支出(元): 基准, 假设 / base, what-if")


class ScenarioPublic(ScenarioSummary):
    """A what-if with its changes, the KPIs side by side and the lines that changed."""

    change_list: list[dict[str, Any]] = PydanticField(
        description="变更(可重放的 JSON) / the changes, as JSON that replays"
    )
    effects: list[EffectPublic]
    kpis: list[KpiRow]
    lines: list[LineChange]
    files: list[str] = PydanticField(description="目录中的文件 / the files of its folder")


class ScenarioReplay(SQLModel):
    """A what-if solved again from its saved instance."""

    id: int
    same: bool = PydanticField(description="与保存的计划一致 / the plan is the one saved")
    differences: int = PydanticField(description="分配不同的需求行 / lines allocated otherwise")
    saved: dict[str, float] = PydanticField(description="保存的目标值 / the saved objective")
    replayed: dict[str, float]
    seconds: float = PydanticField(description="求解用时 / solve time")
