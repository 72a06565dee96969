"""The province's central matching result (省公司集中匹配结果), imported back into the batch.

After the cutoff the province matches the city's agreement-stock requirements to agreement
lines and suppliers. Its result, one row per matched quantity —

| 物料编码 material_code | 交货仓库 delivery_warehouse | 协议编号 agreement_no | 行号 line_no |
| 供应商 supplier (optional, checked) | 数量 quantity | 预计到货日期 expected_arrival |

— is imported for an approved batch, all rows or none: each agreement line's ordered quantity
grows by what was matched to it, and the batch's plan lines behind each requirement row are
re-dated by the matched arrival (the latest one, where a row was split between lines).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from catalogs.models import AgreementLine, ImportKind, ImportRecord, ImportStatus, upper_quantity
from catalogs.records import audit_import, new_record, record_rejected
from supply.core.errors import Conflict, ImportRejected, RowProblem
from supply.core.settings import Settings
from supply.core.sheets.cells import (
    CellError,
    formula_error,
    is_blank,
    read_code,
    read_date,
    read_integer,
    read_quantity,
    read_text,
)
from supply.core.sheets.read import DEFAULT_MAX_BYTES, read_sheet
from supply.core.sheets.table import Cell as CellKind
from supply.core.sheets.table import Column, header_index, match_header
from supply.notifications.service import Reminder, deliver, managers_of, notify
from supply.weekly.models import LineKind, PlanLine, ProvinceMatch, RunStatus
from supply.weekly.queries import get_run_or_raise


@dataclass(frozen=True)
class _Spec:
    sheet: str = "匹配结果"
    title_en: str = "province matching result"
    key: tuple[str, ...] = ()
    columns: tuple[Column, ...] = (
        Column("material_code", "物料编码", "material_code", CellKind.CODE, aliases=("物资编码",)),
        Column(
            "warehouse_id",
            "交货仓库",
            "delivery_warehouse",
            CellKind.CODE,
            aliases=("交货地点", "仓库编码"),
        ),
        Column("agreement_no", "协议编号", "agreement_no", CellKind.CODE, aliases=("协议号",)),
        Column("line_no", "行号", "line_no", CellKind.INTEGER, aliases=("协议行号",)),
        Column("supplier", "供应商", "supplier", CellKind.TEXT, required=False),
        Column("quantity", "数量", "quantity", CellKind.QUANTITY, aliases=("匹配数量",)),
        Column(
            "expected_arrival",
            "预计到货日期",
            "expected_arrival",
            CellKind.DATE,
            aliases=("到货日期",),
        ),
    )

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


SPEC = _Spec()
_READ: dict[CellKind, Callable[[object], Any]] = {
    CellKind.CODE: read_code,
    CellKind.TEXT: read_text,
    CellKind.INTEGER: read_integer,
    CellKind.QUANTITY: read_quantity,  # whole base units, up to MAX_QUANTITY
    CellKind.DATE: read_date,
}


@dataclass(frozen=True)
class LineMove:
    """A plan line the matching re-dated: its arrival and lateness before and after."""

    plan_line_id: int
    project_id: str | None
    material_code: str
    warehouse_id: str | None
    need_by: date
    arrival_before: date
    arrival_after: date
    late_days_before: int
    late_days_after: int


@dataclass(frozen=True)
class MatchImport:
    """What an accepted import changed: rows read, agreement lines ordered, plan lines moved."""

    rows: int
    agreement_lines: int
    plan_lines: int
    moves: list[LineMove] = field(default_factory=list)
    told: list[int] = field(default_factory=list)  # the managers' notifications it wrote


def import_province_match(
    *,
    session: Session,
    batch_id: str,
    content: bytes,
    file_name: str,
    user: str,
    now: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
    settings: Settings | None = None,
) -> MatchImport:
    """Import the province's matching result for an approved batch (all rows or none; a file
    over `max_bytes` is refused).

    A file with problems is rejected whole and recorded as a rejected import (`import_record`,
    kind `province_match`), as an accepted one is recorded with what it changed.
    """
    record = new_record(
        kind=ImportKind.PROVINCE_MATCH, file_name=file_name, imported_by=user, now=now
    )
    record.note = f"批次 batch {batch_id}"
    try:
        result = _import(
            session, batch_id=batch_id, content=content, file_name=record.file_name, now=now,
            user=record.imported_by, record=record, max_bytes=max_bytes,
        )  # fmt: skip
    except ImportRejected as rejected:
        record_rejected(session, record, rejected.problems, count=len(rejected.problems))
        raise
    if settings is not None and result.told:  # e-mailed once committed (a server may be slow)
        deliver(session.get_bind(), result.told, settings=settings, now=now)  # type: ignore[arg-type]
    return result


def _import(
    session: Session,
    *,
    batch_id: str,
    content: bytes,
    file_name: str,
    now: datetime,
    user: str,
    record: ImportRecord,
    max_bytes: int,
) -> MatchImport:
    run = get_run_or_raise(session=session, batch_id=batch_id)
    if run.status != RunStatus.APPROVED:
        raise Conflict(
            f"批次 {batch_id} 尚未批准 / batch {batch_id} is not approved yet: approve it before "
            "importing the province's matching",
            loc=("batch_id",),
        )
    if session.exec(select(ProvinceMatch).where(ProvinceMatch.run_id == run.id)).first():
        raise Conflict(
            f"批次 {batch_id} 的匹配结果已导入 / the matching result of batch {batch_id} was "
            "already imported",
            loc=("batch_id",),
        )
    problems: list[RowProblem] = []
    sheet = read_sheet(content, file_name, preferred_sheets=(SPEC.sheet,), max_bytes=max_bytes)
    record.rows = len(sheet.rows) - 1
    rows = _read_rows(sheet, problems)
    plan = list(
        session.exec(
            select(PlanLine).where(PlanLine.run_id == run.id, PlanLine.kind == LineKind.AGREEMENT)
        )
    )
    required: dict[tuple[str, str], int] = defaultdict(int)
    for line in plan:
        required[line.material_code, line.warehouse_id or ""] += line.quantity
    agreements = {
        (a.agreement_no, a.line_no): a
        for a in session.exec(
            select(AgreementLine).where(
                col(AgreementLine.agreement_no).in_({r["agreement_no"] for _, r in rows})
            )
        )
    }
    matched: dict[tuple[str, str], int] = defaultdict(int)
    per_line: dict[int, int] = defaultdict(int)
    for number, row in rows:
        key = (row["material_code"], row["warehouse_id"])
        agreement = agreements.get((row["agreement_no"], row["line_no"]))

        def problem(column: str, zh: str, en: str, number: int = number) -> None:
            c = SPEC.column(column)
            problems.append(RowProblem(number, c.zh, c.en, zh, en))

        if key not in required:
            problem(
                "material_code",
                f"本批次没有 {key[0]} 在 {key[1]} 交货的协议需求",
                f"batch {batch_id} has no agreement requirement for {key[0]} delivered at {key[1]}",
            )
        if agreement is None:
            problem(
                "agreement_no",
                f"没有协议 {row['agreement_no']} 第 {row['line_no']} 行",
                f"no agreement line {row['agreement_no']}/{row['line_no']}",
            )
            continue
        if agreement.material_code != row["material_code"]:
            problem(
                "agreement_no",
                f"协议行物料为 {agreement.material_code}",
                f"the agreement line is for {agreement.material_code}, not {row['material_code']}",
            )
        if row.get("supplier") and row["supplier"] != agreement.supplier:
            problem(
                "supplier",
                f"协议行供应商为 {agreement.supplier}",
                f"the agreement line's supplier is {agreement.supplier}",
            )
        matched[key] += row["quantity"]
        per_line[agreement.id or 0] += row["quantity"]
        if row["quantity"] <= 0:
            problem("quantity", "须大于 0", "must be more than 0")
    for (material, warehouse), quantity in matched.items():
        if quantity > required.get((material, warehouse), quantity):
            problems.append(
                RowProblem(
                    None,
                    "数量",
                    "quantity",
                    f"{material}@{warehouse} 匹配 {quantity}，超过需求 {required[material, warehouse]}",
                    f"{material} at {warehouse}: {quantity} matched, more than the {required[material, warehouse]} required",
                )
            )
    by_id = {a.id: a for a in agreements.values()}
    for line_id, quantity in per_line.items():
        agreement = by_id[line_id]
        room = upper_quantity(agreement) - agreement.ordered_quantity
        if quantity > room:
            problems.append(
                RowProblem(
                    None,
                    "数量",
                    "quantity",
                    f"协议 {agreement.agreement_no}/{agreement.line_no} 只剩 {room}，匹配 {quantity} 超出执行上限",
                    f"agreement {agreement.agreement_no}/{agreement.line_no} has {room} left below its upper band; {quantity} matched",
                )
            )
    if problems:
        raise ImportRejected(
            f"匹配结果被拒绝 / matching result rejected: {len(problems)} problem(s)", problems
        )

    for _, row in rows:
        agreement = agreements[row["agreement_no"], row["line_no"]]
        agreement.ordered_quantity += row["quantity"]
        agreement.updated_at = now
        session.add(agreement)
        session.add(
            ProvinceMatch(
                run_id=run.id or 0,
                material_code=row["material_code"],
                delivery_warehouse_id=row["warehouse_id"],
                agreement_line_id=agreement.id or 0,
                supplier=agreement.supplier,
                quantity=row["quantity"],
                expected_arrival=row["expected_arrival"],
                imported_at=now,
                imported_by=user,
            )
        )
    planned_ids = {line.agreement_line_id for line in plan if line.agreement_line_id}
    lead_days = {
        a.id: a.lead_days
        for a in session.exec(select(AgreementLine).where(col(AgreementLine.id).in_(planned_ids)))
    }
    before = {line.id: (line.arrival, line.late_days) for line in plan}
    redated = _redate(plan, rows, agreements, lead_days, run.province_match_on)
    session.add_all(redated)
    moves = [
        LineMove(
            plan_line_id=line.id or 0,
            project_id=line.project_id,
            material_code=line.material_code,
            warehouse_id=line.warehouse_id,
            need_by=line.need_by,
            arrival_before=before[line.id][0] or line.need_by,
            arrival_after=line.arrival or line.need_by,
            late_days_before=before[line.id][1],
            late_days_after=line.late_days,
        )
        for line in redated
    ]
    record.status = ImportStatus.ACCEPTED
    record.inserted = len(rows)
    record.updated = len(per_line) + len(redated)
    record.note = (
        f"批次 batch {batch_id}: {len(per_line)} 条协议行、{len(redated)} 条计划行已更新 / "
        f"{len(per_line)} agreement lines, {len(redated)} plan lines updated"
    )
    audit_import(session, record)
    told = _tell_managers(session, moves, batch_id, now=now, by=user)
    session.commit()
    return MatchImport(
        told=told,
        rows=len(rows),
        agreement_lines=len(per_line),
        plan_lines=len(redated),
        moves=moves,
    )


def _tell_managers(
    session: Session, moves: list[LineMove], batch_id: str, *, now: datetime, by: str
) -> list[int]:
    """Tell each project's managers that a line's promised arrival moved (once per line and new
    date): when it now comes, and whether it is late."""
    moved = [m for m in moves if m.project_id and m.arrival_after != m.arrival_before]
    managers = managers_of(session, {m.project_id for m in moved if m.project_id})
    pairs = []
    for m in moved:
        late = f"，晚于需到货日 {m.late_days_after} 天" if m.late_days_after else "，在需到货日前"
        reminder = Reminder(
            kind="arrival.moved",
            key=f"arrival.moved:{m.plan_line_id}:{m.arrival_after.isoformat()}",
            title=f"{m.project_id} {m.material_code} 预计到货改为 {m.arrival_after.isoformat()}",
            body=(
                f"省公司集中匹配（批次 {batch_id}）后，项目 {m.project_id} 的 {m.material_code} "
                f"预计到货由 {m.arrival_before.isoformat()} 改为 {m.arrival_after.isoformat()}"
                f"{late}（需到货 {m.need_by.isoformat()}）。"
            ),
            link=f"/projects/{m.project_id}",
        )
        pairs += [(user, reminder) for user in managers.get(m.project_id or "", [])]
    return notify(session, pairs, now=now, by=by)


def _redate(
    plan: list[PlanLine],
    rows: list[tuple[int, dict[str, Any]]],
    agreements: dict[tuple[str, int], AgreementLine],
    lead_days: dict[int | None, int],
    order_day: date,
) -> list[PlanLine]:
    """Move each plan line's arrival by how much later (or earlier) its goods now come."""
    latest: dict[tuple[str, str], tuple[date, AgreementLine]] = {}
    for _, row in rows:
        key = (row["material_code"], row["warehouse_id"])
        agreement = agreements[row["agreement_no"], row["line_no"]]
        if key not in latest or row["expected_arrival"] > latest[key][0]:
            latest[key] = (row["expected_arrival"], agreement)
    changed = []
    for line in plan:
        found = latest.get((line.material_code, line.warehouse_id or ""))
        if found is None or line.arrival is None:
            continue
        arrival, agreement = found
        # The plan expected the goods at the warehouse `lead` days after the province's matching.
        lead = lead_days.get(line.agreement_line_id, agreement.lead_days)
        shift = arrival - (order_day + timedelta(days=lead))
        line.arrival = line.arrival + shift
        line.late_days = max(0, (line.arrival - line.need_by).days)
        line.agreement_line_id = agreement.id
        changed.append(line)
    return changed


def _read_rows(sheet: Any, problems: list[RowProblem]) -> list[tuple[int, dict[str, Any]]]:
    header_row, header = sheet.rows[0]
    index = header_index(SPEC)
    positions: dict[str, int] = {}
    for position, cell in enumerate(header):
        column = None if is_blank(cell) else match_header(str(cell), index)
        if column is not None:
            positions.setdefault(column.key, position)
    for column in SPEC.columns:
        if column.required and column.key not in positions:
            problems.append(
                RowProblem(
                    header_row,
                    column.zh,
                    column.en,
                    f"缺少必填列 {column.zh}",
                    f"required column {column.en} is missing",
                )
            )
    if problems:
        raise ImportRejected("匹配结果被拒绝 / matching result rejected: missing columns", problems)
    rows = []
    for number, cells in sheet.rows[1:]:
        values: dict[str, Any] = {}
        for column in SPEC.columns:
            at = positions.get(column.key)
            raw = cells[at] if at is not None and at < len(cells) else None
            formula = formula_error(raw)
            if formula is not None:
                problems.append(RowProblem(number, column.zh, column.en, formula.zh, formula.en))
                continue
            if is_blank(raw):
                if column.required:
                    problems.append(
                        RowProblem(number, column.zh, column.en, "不能为空", "is required")
                    )
                continue
            try:
                values[column.key] = _READ[column.cell](raw)
            except CellError as bad:
                problems.append(RowProblem(number, column.zh, column.en, bad.zh, bad.en))
        if all(column.key in values for column in SPEC.columns if column.required):
            rows.append((number, values))
    return rows
