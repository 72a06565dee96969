"""The project workbook's format: three sheets, their columns in Chinese and English.

项目包 (packages), 项目 (projects) and 需求明细 (demand lines), read with the shared table machinery
(`supply.core.sheets.table`) and written with the catalogs' (`catalogs.export`); the material
columns and the voltage class are the catalogs' (`catalogs.columns`, `catalogs.cells`). Columns
marked `info` are written for the reader (the derived deadline and need-by, the status, the
material's name) and ignored on import. Pure: no database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import SQLModel

from catalogs.cells import read_voltage
from catalogs.columns import MATERIAL, MATERIAL_NAME, ROW_UNIT
from supply.core.clock import SHANGHAI
from supply.core.sheets.cells import CellError, fold, show
from supply.core.sheets.table import Cell, Column, normalise_header
from supply.demand.models import DEMAND_STATUS_ZH, DemandLine
from supply.packages.models import Package
from supply.policy import PROJECT_TYPE_ZH, ProjectType
from supply.projects.models import PRIORITY_ZH, PROJECT_STATUS_ZH, Priority, Project


class SheetKind(StrEnum):
    """The sheets of a project workbook (a CSV file holds one of them)."""

    PACKAGES = "packages"
    PROJECTS = "projects"
    LINES = "lines"


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """One sheet of the project workbook: a `supply.core.sheets.table.TableSpec` with its table."""

    kind: SheetKind
    sheet: str
    title_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    table: type[SQLModel]
    aliases: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        """Return the column with field name `key`."""
        return next(c for c in self.columns if c.key == key)

    def limit(self, key: str) -> int | None:
        """Return the length of the database column field `key` is stored in, if it has one."""
        column = self.table.__table__.columns.get(key)  # type: ignore[attr-defined]
        return getattr(column.type, "length", None) if column is not None else None

    def names(self) -> set[str]:
        """Return every sheet name that means this sheet, folded for matching."""
        return {normalise_header(n) for n in (self.sheet, self.kind.value, *self.aliases)}


def _fold(value: object) -> str:
    return normalise_header(fold(str(value))).replace("千伏", "kv")


def _choices(labels: Mapping[Any, str], extra: Mapping[str, Any]) -> dict[str, Any]:
    table = {_fold(key.value): key for key in labels} | {_fold(v): k for k, v in labels.items()}
    return table | {_fold(k): v for k, v in extra.items()}


_TYPES = _choices(
    PROJECT_TYPE_ZH,
    {
        "表前线": ProjectType.lv_extension,
        "低压分支线": ProjectType.lv_extension,
        "低压分支线延伸": ProjectType.lv_extension,
        "表前线/低压分支线": ProjectType.lv_extension,
        "台区增容": ProjectType.area_capacity_increase,
        "增容": ProjectType.area_capacity_increase,
        "新建台区工程": ProjectType.area_new,
        "10kv": ProjectType.mv_10kv,
        "10kv有土建": ProjectType.mv_10kv_civil,
        "10kv工程(有土建)": ProjectType.mv_10kv_civil,
        "35kv": ProjectType.hv_35kv,
        "110kv": ProjectType.hv_110kv,
    },
)
_PRIORITIES = _choices(
    PRIORITY_ZH,
    {
        "普通": Priority.NORMAL,
        "否": Priority.NORMAL,
        "市重点": Priority.CITY_KEY,
        "市级重点工程": Priority.CITY_KEY,
        "省重点": Priority.PROVINCIAL_KEY,
        "省级重点工程": Priority.PROVINCIAL_KEY,
    },
)


def read_project_type(value: object) -> str:
    """Read a project type: its id (lv_extension) or its Chinese name (新建台区, 10千伏工程 …)."""
    kind = _TYPES.get(_fold(value))
    if kind is None:
        names = "、".join(PROJECT_TYPE_ZH.values())
        raise CellError(
            f"工程类型 {show(value)} 无法识别，应为：{names}",
            f"unknown project type {show(value)!r}; one of: "
            + ", ".join(t.value for t in ProjectType),
        )
    return str(kind.value)


def read_priority(value: object) -> str:
    """Read a priority: 一般, 市级重点, 省级重点 (normal, city_key, provincial_key)."""
    priority = _PRIORITIES.get(_fold(value))
    if priority is None:
        raise CellError(
            f"重点工程 {show(value)} 应为 一般、市级重点 或 省级重点",
            f"priority {show(value)!r} must be normal, city_key or provincial_key",
        )
    return str(priority.value)


def write_local_time(value: datetime) -> str:
    """Write an instant as Asia/Shanghai wall-clock time, to the second."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _label(labels: Mapping[Any, str]) -> Any:
    def write(value: Any) -> Any:
        return next((label for key, label in labels.items() if key == value), value)

    return write


PROJECT_ID = Column(
    "project_id", "项目编号", "project_id", Cell.CODE, aliases=("项目代码", "工程编号")
)
PACKAGE_ID = Column("id", "项目包编号", "package_id", Cell.CODE, aliases=("项目包代码", "包号"))

PACKAGES = SheetSpec(
    SheetKind.PACKAGES,
    "项目包",
    "project packages",
    (
        PACKAGE_ID,
        Column("name", "项目包名称", "name", Cell.TEXT, aliases=("名称",)),
        Column("year", "年度", "year", Cell.INTEGER, aliases=("预算年度",)),
        Column("kind", "类别", "kind", Cell.TEXT, required=False, aliases=("项目包类别",)),
        Column("budget", "预算(元)", "budget", Cell.MONEY, aliases=("预算", "预算金额")),
    ),
    ("id",),
    Package,
    aliases=("项目包预算", "package"),
)

PROJECTS = SheetSpec(
    SheetKind.PROJECTS,
    "项目",
    "projects",
    (
        Column("id", "项目编号", "project_id", Cell.CODE, aliases=("项目代码", "工程编号", "id")),
        Column("name", "项目名称", "name", Cell.TEXT, aliases=("工程名称",)),
        Column(
            "customer", "客户名称", "customer", Cell.TEXT, required=False, aliases=("客户", "用户")
        ),
        Column(
            "project_type",
            "工程类型",
            "project_type",
            Cell.TEXT,
            aliases=("项目类型", "type"),
            reader=read_project_type,
            writer=_label(PROJECT_TYPE_ZH),
        ),
        Column(
            "voltage_class",
            "电压等级",
            "voltage_class",
            Cell.TEXT,
            required=False,
            reader=read_voltage,
        ),
        Column("location", "所在地点", "location", Cell.LOCATION, aliases=("地点", "区域")),
        Column(
            "approved_on",
            "行政审批日期",
            "approved_on",
            Cell.DATE,
            aliases=("审批日期", "行政审批", "approval_date"),
        ),
        Column(
            "completion_date",
            "客户要求完工日期",
            "completion_date",
            Cell.DATE,
            required=False,
            aliases=("完工日期", "要求完工日期"),
        ),
        Column(
            "package_id",
            "项目包编号",
            "package_id",
            Cell.CODE,
            required=False,
            aliases=("项目包", "package"),
        ),
        Column(
            "priority",
            "重点工程",
            "priority",
            Cell.TEXT,
            required=False,
            aliases=("优先级", "重点"),
            reader=read_priority,
            writer=_label(PRIORITY_ZH),
        ),
        Column(
            "status",
            "状态",
            "status",
            Cell.TEXT,
            required=False,
            info=True,
            writer=_label(PROJECT_STATUS_ZH),
        ),
        Column("deadline", "建设期限", "deadline", Cell.DATE, required=False, info=True),
        Column("need_by", "物资需到货日期", "need_by", Cell.DATE, required=False, info=True),
    ),
    ("id",),
    Project,
    aliases=("项目清单", "工程", "project"),
)

LINES = SheetSpec(
    SheetKind.LINES,
    "需求明细",
    "demand lines",
    (
        PROJECT_ID,
        Column("line_no", "行号", "line_no", Cell.INTEGER, aliases=("序号", "line")),
        MATERIAL,
        MATERIAL_NAME,
        ROW_UNIT,
        Column("quantity", "需求数量", "quantity", Cell.QUANTITY, aliases=("数量",)),
        Column(
            "need_by_override",
            "指定需到货日期",
            "need_by_override",
            Cell.DATE,
            required=False,
            aliases=("指定到货日期",),
        ),
        Column(
            "override_reason",
            "指定原因",
            "override_reason",
            Cell.TEXT,
            required=False,
            aliases=("原因",),
        ),
        Column(
            "feasibility_listed",
            "可研已列明",
            "feasibility_listed",
            Cell.BOOL,
            required=False,
            aliases=("可研列明", "可研阶段已列明"),
        ),
        Column("need_by", "需到货日期", "need_by", Cell.DATE, required=False, info=True),
        Column(
            "status",
            "状态",
            "status",
            Cell.TEXT,
            required=False,
            info=True,
            writer=_label(DEMAND_STATUS_ZH),
        ),
        Column(
            "submitted_at",
            "提报时间",
            "submitted_at",
            Cell.TEXT,
            required=False,
            info=True,
            writer=write_local_time,
        ),
    ),
    ("project_id", "line_no"),
    DemandLine,
    aliases=("需求", "需求行", "物资需求", "demand", "demand_lines"),
)

SPECS: dict[SheetKind, SheetSpec] = {s.kind: s for s in (PACKAGES, PROJECTS, LINES)}
ORDER = (SheetKind.PACKAGES, SheetKind.PROJECTS, SheetKind.LINES)


def spec_for_sheet(name: str) -> SheetSpec | None:
    """Return the sheet a workbook sheet's name means (项目, projects, 需求明细 …), or None."""
    folded = normalise_header(unicodedata.normalize("NFKC", name))
    return next((spec for spec in SPECS.values() if folded in spec.names()), None)
