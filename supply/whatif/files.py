"""A what-if's files: the change file read (JSON, or a workbook with the sheet 变更 and, for extra
projects, the sheets of the projects import format), the blank template, and a scenario as a
workbook (指标对比, 变化明细, 变更). Pure: bytes in, bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from supply.core.errors import ImportRejected, RowProblem
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.core.sheets.read import DEFAULT_MAX_BYTES, read_workbook, reject
from supply.core.sheets.read import Sheet as ReadSheet
from supply.core.sheets.table import normalise_header
from supply.labels import OUTCOME_ZH, kind_label
from supply.projects.files import SPECS, SheetKind, spec_for_sheet
from supply.whatif.changes import (
    KIND_ZH,
    SHEET_EN,
    SHEET_ZH,
    Located,
    read_json_changes,
)
from supply.whatif.models import LineSide, ScenarioPublic
from supply.whatif.sheet import SHEET, read_change_sheet


@dataclass
class ChangeFile:
    """What a change file holds: its valid changes, a problem for each bad row or item (every
    one is named, and the what-if is refused with the problems of the other changes), and the
    sheets of extra projects (if any)."""

    changes: list[Located] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    projects: dict[SheetKind, ReadSheet] = field(default_factory=dict)


def read_changes(
    content: bytes, file_name: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ChangeFile:
    """Read a change file: JSON (a list of changes), or an .xlsx workbook whose sheet 变更 (or
    `changes`) holds one change a row and whose sheets 项目 and 需求明细 (the projects import
    format) hold extra projects; or a CSV file of the sheet 变更. All or none."""
    if len(content) > max_bytes:
        raise reject(
            f"文件超过 {max_bytes // 1024 // 1024} MB", f"the file is larger than {max_bytes} bytes"
        )
    if file_name.lower().endswith(".json") or content.lstrip()[:1] in (b"[", b"{"):
        listed, problems = read_json_changes(content)
        return ChangeFile(changes=listed, problems=problems)
    found = ChangeFile()
    sheets = read_workbook(content, file_name, max_bytes=max_bytes)
    names = {normalise_header(SHEET_ZH), normalise_header(SHEET_EN), "whatif"}
    changes = None
    for sheet in sheets:
        spec = spec_for_sheet(sheet.name) if sheet.name else None
        if sheet.name == "" or normalise_header(sheet.name) in names:
            changes = changes or sheet
        elif spec is not None and spec.kind not in found.projects:
            found.projects[spec.kind] = sheet
    if changes is None and not found.projects:
        raise reject(
            "工作簿中没有 变更 表（也没有 项目、需求明细 表）",
            "the workbook has no sheet 变更 (changes), nor sheets 项目 and 需求明细 of extra "
            f"projects; found {', '.join(s.name for s in sheets)}",
        )
    if changes is not None and len(changes.rows) > 1:
        found.changes, found.problems = read_change_sheet(changes)
    return found


def read_projects(
    content: bytes, file_name: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[SheetKind, ReadSheet]:
    """Read a projects workbook (the projects import format) for its sheets 项目 and 需求明细
    (and 项目包)."""
    found: dict[SheetKind, ReadSheet] = {}
    for sheet in read_workbook(content, file_name, max_bytes=max_bytes):
        spec = spec_for_sheet(sheet.name) if sheet.name else None
        if spec is not None and spec.kind not in found:
            found[spec.kind] = sheet
    if SheetKind.PROJECTS not in found:
        raise reject(
            "新增项目的工作簿应有 项目 与 需求明细 两张表（项目导入格式）",
            "an extra projects workbook has the sheets 项目 (projects) and 需求明细 (lines), as "
            "the projects import reads them",
        )
    return found


def no_changes() -> ImportRejected:
    """The error for a what-if with nothing to change."""
    return reject(
        "没有变更：请在 变更 表中写至少一项变更，或给出新增项目",
        "no changes: write at least one change (sheet 变更), or give extra projects",
    )


# ------------------------------------------------------------------ writing


_EXAMPLES = (
    ("supplier_delay", "供应商名称（与协议库存一致）", "可选：只影响此物料", "", "延迟天数"),
    ("agreement_expired", "协议编号/行号，如 SDXY-A-2026-002/1", "", "", ""),
    ("agreement_exhausted", "协议编号/行号", "", "", "剩余可供数量（默认 0）"),
    ("stock_change", "仓库编码", "物料编码", "", "增减数量（负数为减少）"),
    ("quota_change", "仓库编码", "物料编码", "", "新定额"),
    ("warehouse_closed", "仓库编码（中心库不可关闭）", "", "", ""),
    ("transport_days", "起点：仓库编码或地点", "", "终点：地点或仓库编码", "运输天数"),
)


def template_workbook() -> bytes:
    """A blank change workbook: the sheet 变更 (headers only), 说明 (each kind, what to write
    where), and the projects import's 项目 and 需求明细 for extra projects."""
    headers = [Column(c.zh) for c in SHEET.columns]
    guide = [
        (f"{KIND_ZH[kind]}（{kind}）", target, material, to, value)
        for kind, target, material, to, value in _EXAMPLES
    ]
    guide.append(
        ("新增项目（extra_projects）", "写在 项目、需求明细 表中（项目导入格式）", "", "", "")
    )
    return write_xlsx(
        [
            Sheet(SHEET_ZH, headers, []),
            Sheet("说明", [Column(h) for h in ("类型", "对象", "物料编码", "终点", "数值")], guide),
            *_project_sheets(),
        ]
    )


def _project_sheets() -> list[Sheet]:
    sheets = []
    for kind in (SheetKind.PROJECTS, SheetKind.LINES):
        spec = SPECS[kind]
        sheets.append(Sheet(spec.sheet, [Column(c.zh) for c in spec.columns if not c.info], []))
    return sheets


def _side(side: LineSide | None) -> tuple[str, str, object, int]:
    if side is None:
        return ("（新增）", "", None, 0)
    sources = "、".join(f"{kind_label(p.kind)} {p.source_id}" for p in side.parts)
    if side.unmet:
        sources += f"{'、' if sources else ''}未满足 {side.unmet}"
    return (OUTCOME_ZH.get(side.outcome, side.outcome), sources, side.arrival, side.late_days)


def scenario_workbook(scenario: ScenarioPublic) -> bytes:
    """The scenario as a workbook: 指标对比 (base beside what-if), 变化明细 (each changed line,
    both sides, the changes that touched it and the engine's reason) and 变更 (what each change
    did)."""
    kpis = Sheet(
        "指标对比",
        [
            Column("指标 / measure"),
            Column("基准 / base", "number"),
            Column("假设 / what-if", "number"),
            Column("变化 / change", "number"),
        ],
        [(f"{k.label} / {k.label_en}", k.base, k.scenario, k.delta) for k in scenario.kpis],
    )
    lines = Sheet(
        "变化明细",
        [
            Column("项目编号 / project"),
            Column("项目名称 / project name"),
            Column("物料编码 / material"),
            Column("物料名称 / material name"),
            Column("数量 / quantity", "int"),
            Column("需到货日期 / need-by", "date"),
            Column("基准结果 / base outcome"),
            Column("基准来源 / base sources"),
            Column("基准到货 / base arrival", "date"),
            Column("基准延迟天数 / base late days", "int"),
            Column("假设结果 / what-if outcome"),
            Column("假设来源 / what-if sources"),
            Column("假设到货 / what-if arrival", "date"),
            Column("假设延迟天数 / what-if late days", "int"),
            Column("涉及变更 / changes"),
            Column("原因 / reason"),
        ],
        [
            (
                line.project_id,
                line.project_name,
                line.material,
                line.material_name,
                line.quantity,
                line.need_by,
                *_side(line.base),
                *_side(line.scenario),
                line.note,
                line.reason,
            )
            for line in scenario.lines
        ],
    )
    effects = Sheet(
        "变更",
        [Column("序号 / no.", "int"), Column("变更 / change"), Column("作用 / what it did")],
        [
            (e.number, e.text, "；".join(e.sources) or e.idle or f"新增 {e.added} 行需求")
            for e in scenario.effects
        ],
    )
    return write_xlsx([kpis, lines, effects])


def sheet_rows(rows: Sequence[tuple[int, Sequence[object]]]) -> ReadSheet:
    """Numbered rows of the sheet 变更's columns (as a page's form has them: its row numbers) as
    a sheet to read."""
    width = len(rows[0][1]) if rows else len(SHEET.columns)
    header: list[object] = [c.zh for c in SHEET.columns[:width]]
    return ReadSheet([(0, header), *((n, list(cells)) for n, cells in rows)], SHEET_ZH)
