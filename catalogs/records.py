"""The record of imports: every file someone tried to load, accepted or rejected.

Catalog files, project workbooks and the province's matching result all leave one
`import_record` row per attempt. An accepted import's row is written in the import's own
transaction (with what it inserted, updated or left); a rejected one's after the import's writes
are rolled back, in a transaction of its own, with the problem count and the first problems —
so the audit shows who tried to load what and why it was refused, and nothing else changed.

The records read back: a page of them (of a kind, with a status, sorted by a column), one
record, and the same list as Excel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from catalogs.columns import SPECS
from catalogs.models import (
    FIRST_PROBLEMS,
    FIRST_PROBLEMS_LENGTH,
    CatalogKind,
    ImportKind,
    ImportRecord,
    ImportRecordPublic,
    ImportStatus,
)
from supply.core.audit import record as record_event
from supply.core.clock import SHANGHAI
from supply.core.errors import NotFound, RowProblem
from supply.core.paging import DEFAULT_LIMIT, Page, paginate, sort_order
from supply.core.sheets import Column, Sheet, write_xlsx

# What each kind of import is called where people read it (a catalog by its sheet's name).
IMPORT_KIND_ZH: Mapping[ImportKind, str] = {
    **{ImportKind(kind.value): SPECS[kind].sheet for kind in CatalogKind},
    ImportKind.PROJECTS: "项目工作簿",
    ImportKind.PROVINCE_MATCH: "省公司匹配结果",
}
IMPORT_STATUS_ZH: Mapping[ImportStatus, str] = {
    ImportStatus.ACCEPTED: "已导入",
    ImportStatus.REJECTED: "被拒绝",
}
# The columns a list of records may be sorted by (`sort`: a key, `-key` descending).
SORTABLE = {
    "id": col(ImportRecord.id),
    "at": col(ImportRecord.imported_at),
    "by": col(ImportRecord.imported_by),
    "kind": col(ImportRecord.kind),
    "file": col(ImportRecord.file_name),
    "status": col(ImportRecord.status),
    "rows": col(ImportRecord.rows),
    "problems": col(ImportRecord.problems),
}
EXPORT_LIMIT = 100_000  # records in one Excel export


def new_record(
    *, kind: ImportKind | str, file_name: str, imported_by: str, now: datetime
) -> ImportRecord:
    """Start the record of an import (not yet added to a session); rejected until accepted."""
    return ImportRecord(
        kind=str(kind),
        file_name=(file_name or "upload").strip()[:255],
        imported_by=(imported_by.strip() or "unknown")[:100],
        imported_at=now,
        status=ImportStatus.REJECTED,
    )


def first_problems(problems: Sequence[RowProblem]) -> str:
    """The first problems, one per line, as a record keeps them."""
    text = "\n".join(p.text for p in problems[:FIRST_PROBLEMS])
    return text if len(text) <= FIRST_PROBLEMS_LENGTH else text[: FIRST_PROBLEMS_LENGTH - 1] + "…"


def audit_import(session: Session, record: ImportRecord) -> None:
    """The audit event of an import attempt, accepted or rejected, in its record's transaction."""
    session.add(record)
    session.flush()
    record_event(
        session,
        actor=record.imported_by,
        action=f"import.{record.status}",
        object_type="import",
        object_id=record.id or "",
        after={
            "kind": record.kind,
            "file_name": record.file_name,
            "inserted": record.inserted,
            "updated": record.updated,
            "unchanged": record.unchanged,
            "problems": record.problems,
        },
        at=record.imported_at,
    )


def record_rejected(
    session: Session, record: ImportRecord, problems: Sequence[RowProblem], *, count: int
) -> ImportRecord:
    """Undo whatever the import wrote, then keep its record as rejected (committed, audited)."""
    session.rollback()
    record.status = ImportStatus.REJECTED
    record.problems = count
    record.first_problems = first_problems(problems)
    record.inserted = record.updated = record.unchanged = 0
    audit_import(session, record)
    session.commit()
    return record


def _statement(kind: ImportKind | str | None, status: ImportStatus | str | None) -> Any:
    statement = select(ImportRecord)
    if kind is not None:
        statement = statement.where(ImportRecord.kind == str(kind))
    if status is not None:
        statement = statement.where(ImportRecord.status == str(status))
    return statement


def _order(sort: str | None) -> list[Any]:
    return sort_order(sort, SORTABLE, default=(), tiebreak=col(ImportRecord.id).desc())


def list_imports(
    *,
    session: Session,
    kind: ImportKind | str | None = None,
    status: ImportStatus | str | None = None,
    sort: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ImportRecordPublic]:
    """List recorded imports, newest first (of a kind, with a status), or sorted by a column of
    SORTABLE (`-key` descending; InvalidInput for another)."""
    return paginate(
        session,
        _statement(kind, status),
        order_by=_order(sort),
        offset=offset,
        limit=limit,
        convert=ImportRecordPublic.model_validate,
    )


EXPORT_COLUMNS = (
    Column("编号 / id", "int"),
    Column("时间(北京时间) / at (Beijing time)"),
    Column("导入人 / by"),
    Column("类别 / kind"),
    Column("文件名 / file name"),
    Column("状态 / status"),
    Column("数据行数 / rows", "int"),
    Column("新增 / inserted", "int"),
    Column("更新 / updated", "int"),
    Column("未变 / unchanged", "int"),
    Column("问题数 / problems", "int"),
    Column("前几个问题 / first problems"),
    Column("说明 / note"),
)


def export_imports(
    *,
    session: Session,
    kind: ImportKind | str | None = None,
    status: ImportStatus | str | None = None,
    sort: str | None = None,
) -> bytes:
    """The records as an .xlsx workbook, in the list's order (at most EXPORT_LIMIT); file names,
    logins and problems are written as text (a file called `=1+1.xlsx` stays text)."""
    found = session.exec(_statement(kind, status).order_by(*_order(sort)).limit(EXPORT_LIMIT))
    rows = [
        (
            r.id,
            r.imported_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            r.imported_by,
            f"{IMPORT_KIND_ZH.get(ImportKind(r.kind), r.kind)} {r.kind}",
            r.file_name,
            f"{IMPORT_STATUS_ZH.get(ImportStatus(r.status), r.status)} {r.status}",
            r.rows,
            r.inserted,
            r.updated,
            r.unchanged,
            r.problems,
            r.first_problems,
            r.note,
        )
        for r in found
    ]
    return write_xlsx([Sheet("导入记录", EXPORT_COLUMNS, rows)])


def get_import(*, session: Session, import_id: int) -> ImportRecordPublic:
    """Return one import record, or raise NotFound."""
    record = session.get(ImportRecord, import_id)
    if record is None:
        raise NotFound(
            f"没有第 {import_id} 号导入记录 / import record {import_id} does not exist",
            loc=("import_id",),
        )
    return ImportRecordPublic.model_validate(record)
