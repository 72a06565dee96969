"""The record of imports: every file someone tried to load, accepted or rejected.

Catalog files, project workbooks and the province's matching result all leave one
`import_record` row per attempt. An accepted import's row is written in the import's own
transaction (with what it inserted, updated or left); a rejected one's after the import's writes
are rolled back, in a transaction of its own, with the problem count and the first problems —
so the audit shows who tried to load what and why it was refused, and nothing else changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from catalogs.models import (
    FIRST_PROBLEMS,
    FIRST_PROBLEMS_LENGTH,
    ImportKind,
    ImportRecord,
    ImportRecordPublic,
    ImportStatus,
)
from supply.core.audit import record as record_event
from supply.core.errors import NotFound, RowProblem
from supply.core.paging import DEFAULT_LIMIT, Page, paginate


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


def list_imports(
    *,
    session: Session,
    kind: ImportKind | str | None = None,
    status: ImportStatus | str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ImportRecordPublic]:
    """List recorded imports, newest first (of a kind, with a status)."""
    statement = select(ImportRecord)
    if kind is not None:
        statement = statement.where(ImportRecord.kind == str(kind))
    if status is not None:
        statement = statement.where(ImportRecord.status == str(status))
    return paginate(
        session,
        statement,
        order_by=[col(ImportRecord.id).desc()],
        offset=offset,
        limit=limit,
        convert=ImportRecordPublic.model_validate,
    )


def get_import(*, session: Session, import_id: int) -> ImportRecordPublic:
    """Return one import record, or raise NotFound."""
    record = session.get(ImportRecord, import_id)
    if record is None:
        raise NotFound(
            f"没有第 {import_id} 号导入记录 / import record {import_id} does not exist",
            loc=("import_id",),
        )
    return ImportRecordPublic.model_validate(record)
