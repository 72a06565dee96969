"""The changes a what-if applies, and reading them: a JSON list or a workbook sheet 变更.

Each change is one of the kinds below, a pydantic model discriminated by `kind` (the JSON shape
documented in docs/whatif.md). A change file is read whole or refused whole: every bad item or
row is named (`RowProblem`: sheet 变更 / changes, the row — in a JSON list, the Nth change — and
the field or column), as the catalog and project imports do. Pure: no database.

| kind | 类型 | what it does to the base instance |
|---|---|---|
| `supplier_delay` | 供应商延迟 | the supplier's agreement lines (of one material, if given) are ready `days` later |
| `agreement_expired` | 协议行失效 | the agreement line is gone |
| `agreement_exhausted` | 协议行用完 | the agreement line has only `left` (default 0) to give |
| `stock_change` | 库存增减 | reserve of a material at a warehouse grows (or shrinks) by `quantity` |
| `quota_change` | 定额调整 | the reserve quota of a material at a warehouse becomes `quota` |
| `warehouse_closed` | 仓库关闭 | its reserve and consignment are gone; agreement lines deliver to the central warehouse |
| `transport_days` | 运输天数 | a trip from a warehouse (or place) to a place takes `days` |
| `extra_projects` | 新增项目 | projects arrive (the projects import format: supply.whatif.projects) |
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from supply.core.dates import IsoDate
from supply.core.errors import ImportRejected, RowProblem
from supply.core.text import Code32, Code64, Location, Name, Text200
from supply.core.units import MAX_QUANTITY
from supply.policy import ProjectType

SHEET_ZH, SHEET_EN = "变更", "changes"
MAX_CHANGES = 500
MAX_DAYS = 365
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
# An agreement line as the province names it: agreement number / line number.
AgreementRef = Annotated[
    str,
    Field(
        min_length=3,
        max_length=100,
        pattern=r"^\S+/[1-9][0-9]{0,5}$",
        description="协议编号/行号 / agreement number and line, e.g. SDXY-A-2026-002/1",
    ),
]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SupplierDelay(_Change):
    """供应商延迟: every agreement line of the supplier (of one material, if given) is ready
    `days` later than in the base."""

    kind: Literal["supplier_delay"]
    supplier: Name = Field(description="供应商 / the supplier, as the agreement names it")
    days: Days = Field(description="延迟天数 / days late")
    material: Code64 | None = Field(default=None, description="只影响此物料 / only this material")


class AgreementExpired(_Change):
    """协议行失效: the agreement line gives nothing (it expired, or was withdrawn)."""

    kind: Literal["agreement_expired"]
    agreement: AgreementRef


class AgreementExhausted(_Change):
    """协议行用完: the agreement line has only `left` to give (0: nothing)."""

    kind: Literal["agreement_exhausted"]
    agreement: AgreementRef
    left: Quantity = Field(default=0, description="剩余可供数量 / what it can still give")


class StockChange(_Change):
    """库存增减: physical reserve of a material at a warehouse grows (or, negative, shrinks)."""

    kind: Literal["stock_change"]
    warehouse: Code32
    material: Code64
    quantity: Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)] = Field(
        description="增减数量(基本单位, 负数为减少) / base units added, negative removed"
    )


class QuotaChange(_Change):
    """定额调整: the reserve quota of a material at a warehouse becomes `quota`."""

    kind: Literal["quota_change"]
    warehouse: Code32
    material: Code64
    quota: Quantity = Field(description="新定额(基本单位) / the new quota, base units")


class WarehouseClosed(_Change):
    """仓库关闭: its reserve and consignment are gone; agreement lines delivering there deliver
    to the central warehouse instead."""

    kind: Literal["warehouse_closed"]
    warehouse: Code32


class TransportDays(_Change):
    """运输天数: a trip from a warehouse (or a place) to a place takes `days`."""

    kind: Literal["transport_days"]
    from_: Code32 = Field(alias="from", description="起点: 仓库编码或地点 / warehouse or place")
    to: Code32 = Field(description="终点: 地点或仓库编码 / place or warehouse")
    days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = Field(description="运输天数 / days")


class LineSpec(BaseModel):
    """A demand line of an extra project, in base units (the projects workbook's 需求明细 row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_no: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="行号 / line number (default: its place in the list)"
    )
    material_code: Code64
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    need_by_override: IsoDate | None = None
    override_reason: Text200 = ""
    feasibility_listed: bool = False


class ProjectSpec(BaseModel):
    """An extra project (the projects workbook's 项目 row) with its lines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Code32
    name: Name
    project_type: ProjectType
    location: Location
    approved_on: IsoDate
    voltage_class: Literal["0.4kV", "10kV", "35kV", "110kV"] | None = None
    completion_date: IsoDate | None = None
    package_id: Code32 | None = None
    priority: Literal["normal", "city_key", "provincial_key"] = "normal"
    customer: Text200 = ""
    lines: list[LineSpec] = Field(min_length=1, max_length=1000)


class ExtraProjects(_Change):
    """新增项目: projects that are not in the base arrive with their lines."""

    kind: Literal["extra_projects"]
    projects: list[ProjectSpec] = Field(min_length=1, max_length=1000)
    file: Text200 = Field(default="", description="来源文件 / the workbook they came from")


Change = Annotated[
    SupplierDelay
    | AgreementExpired
    | AgreementExhausted
    | StockChange
    | QuotaChange
    | WarehouseClosed
    | TransportDays
    | ExtraProjects,
    Field(discriminator="kind"),
]
CHANGES = TypeAdapter(list[Change])
ONE: TypeAdapter[Any] = TypeAdapter(Change)

KIND_ZH: Mapping[str, str] = {
    "supplier_delay": "供应商延迟",
    "agreement_expired": "协议行失效",
    "agreement_exhausted": "协议行用完",
    "stock_change": "库存增减",
    "quota_change": "定额调整",
    "warehouse_closed": "仓库关闭",
    "transport_days": "运输天数",
    "extra_projects": "新增项目",
}


@dataclass(frozen=True, slots=True)
class Located:
    """A change and where it was read: its row (a workbook's row, or N for a JSON list's Nth
    change) and, for a workbook, the columns its fields came from."""

    change: Any  # one of the Change models
    row: int
    sheet: bool = False  # read from a workbook (problems name its columns)


def describe(change: Any) -> tuple[str, str]:
    """A change in words (中文, English)."""
    match change:
        case SupplierDelay(supplier=who, days=days, material=material):
            only_zh = f"（仅 {material}）" if material else ""
            only_en = f" (only {material})" if material else ""
            return (
                f"供应商 {who} 交货延迟 {days} 天{only_zh}",
                f"supplier {who} delivers {days} days late{only_en}",
            )
        case AgreementExpired(agreement=line):
            return f"协议行 {line} 失效", f"agreement line {line} expires"
        case AgreementExhausted(agreement=line, left=left):
            return (
                f"协议行 {line} 用完（剩余 {left}）",
                f"agreement line {line} is exhausted ({left} left)",
            )
        case StockChange(warehouse=wh, material=material, quantity=q):
            verb_zh, verb_en = ("增加", "gains") if q > 0 else ("减少", "loses")
            return (
                f"{wh} 的 {material} 实物储备{verb_zh} {abs(q)}",
                f"reserve of {material} at {wh} {verb_en} {abs(q)}",
            )
        case QuotaChange(warehouse=wh, material=material, quota=quota):
            return (
                f"{wh} 的 {material} 储备定额改为 {quota}",
                f"the quota of {material} at {wh} becomes {quota}",
            )
        case WarehouseClosed(warehouse=wh):
            return f"仓库 {wh} 关闭", f"warehouse {wh} is closed"
        case TransportDays(from_=a, to=b, days=days):
            return f"{a} → {b} 运输 {days} 天", f"a trip {a} → {b} takes {days} days"
        case ExtraProjects(projects=projects):
            lines = sum(len(p.lines) for p in projects)
            return (
                f"新增 {len(projects)} 个项目、{lines} 行需求",
                f"{len(projects)} extra projects with {lines} lines",
            )
    raise TypeError(f"not a change: {change!r}")


# ------------------------------------------------------------------ JSON


def read_json_changes(text: str | bytes) -> tuple[list[Located], list[RowProblem]]:
    """Read a JSON change file: a list of changes (or {"changes": [...]}); the valid changes
    and a problem for each bad item and field (a file that is no such list is refused)."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRejected(
            f"变更文件不是有效的 JSON / the change file is not valid JSON: {exc}",
            [RowProblem(None, "", "", "不是有效的 JSON", f"not valid JSON: {exc}")],
        ) from None
    if isinstance(data, dict) and "changes" in data:
        data = data["changes"]
    return parse_changes(data)


def located_changes(data: object) -> list[Located]:
    """Validate a list of change objects, all or none: every bad item and field is named (row N
    is the Nth change)."""
    changes, problems = parse_changes(data)
    if problems:
        raise _rejected(problems)
    return changes


def parse_changes(data: object) -> tuple[list[Located], list[RowProblem]]:
    """The valid changes of a list, and a problem for each bad item and field (row N is the
    Nth change); a value that is no list of changes is refused whole."""
    if not isinstance(data, list) or not data:
        raise _rejected(
            [
                RowProblem(
                    None,
                    "",
                    "",
                    '应为非空的变更列表 [{"kind": …}, …]',
                    'must be a non-empty list of changes [{"kind": …}, …]',
                )
            ]
        )
    if len(data) > MAX_CHANGES:
        raise _rejected(
            [
                RowProblem(
                    None,
                    "",
                    "",
                    f"变更超过 {MAX_CHANGES} 项",
                    f"more than {MAX_CHANGES} changes",
                )
            ]
        )
    changes, problems = [], []
    for number, item in enumerate(data, start=1):
        try:
            changes.append(Located(ONE.validate_python(item), number))
        except ValidationError as exc:
            problems += validation_problems(exc, number=number)
    return changes, problems


def validation_problems(exc: ValidationError, *, number: int | None = None) -> list[RowProblem]:
    """Pydantic's errors as problems: the Nth change (`number`, or the list's index) and the
    field."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        if loc and isinstance(loc[0], int):
            number = loc[0] + 1
            loc.pop(0)
        if loc and isinstance(loc[0], str) and loc[0] in KIND_ZH:  # the union's tag
            loc.pop(0)
        field = ".".join(str(p) for p in loc)
        zh, en = _words(error)
        problems.append(RowProblem(number, field, field, zh, en, SHEET_ZH, SHEET_EN))
    return problems


def _words(error: Any) -> tuple[str, str]:
    kind, context = error["type"], error.get("ctx") or {}
    en = str(error["msg"])
    zh = {
        "missing": "缺少此项",
        "extra_forbidden": "没有这一项，请删除",
        "int_type": "应为整数",
        "int_parsing": "应为整数",
        "int_from_float": "应为整数",
        "string_type": "应为文字",
        "date_from_datetime_parsing": "应为日期，如 2026-12-01",
        "date_parsing": "应为日期，如 2026-12-01",
        "bool_parsing": "应为 true 或 false",
        "list_type": "应为列表",
        "too_short": "不能为空",
        "string_too_short": "不能为空",
        "too_long": "项数过多",
    }.get(kind)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        zh = "类型 kind 应为：" + "、".join(f"{k}（{v}）" for k, v in KIND_ZH.items())
        en = "kind must be one of: " + ", ".join(KIND_ZH)
    elif kind == "greater_than_equal":
        zh = f"应不小于 {context.get('ge')}"
    elif kind == "less_than_equal":
        zh = f"应不大于 {context.get('le')}"
    elif kind == "string_too_long":
        zh = f"超过 {context.get('max_length')} 个字符"
    elif kind in ("string_pattern_mismatch", "value_error", "literal_error", "enum"):
        zh = "格式或取值不对"
    return zh or "格式不对", en


def _rejected(problems: Sequence[RowProblem]) -> ImportRejected:
    return ImportRejected(
        f"变更有 {len(problems)} 个问题，未做分析 / {len(problems)} problem(s) in the changes; "
        "nothing was analysed",
        problems,
    )


def rejected(problems: Sequence[RowProblem]) -> ImportRejected:
    """The error for changes refused whole, listing every problem."""
    return _rejected(problems)


def as_json(changes: Sequence[Located]) -> list[dict[str, Any]]:
    """The changes in their JSON shape (what a scenario keeps, and replays)."""
    return [c.change.model_dump(mode="json", by_alias=True, exclude_none=True) for c in changes]
