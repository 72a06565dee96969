"""Catalog import and export: the one code path behind `gridsupply catalogs` and the HTTP upload.

An import reads the file, validates every row against what the database knows, and then either
upserts every row in one transaction and records the import as accepted, or writes nothing,
records it as rejected (its problem count and first problems; `catalogs.records`), and raises
`ImportRejected` listing every problem. Quotas go into the year's draft
catalog (a new draft starts as a copy of the confirmed version), which must then be confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from catalogs.columns import SPECS
from catalogs.export import FileFormat, write_catalog
from catalogs.models import (
    TABLES,
    AgreementLine,
    CatalogKind,
    Consignment,
    ImportReport,
    ImportStatus,
    Material,
    Quota,
    QuotaCatalog,
    QuotaCatalogStatus,
    ReserveStock,
    Warehouse,
)
from catalogs.parse import MaterialRef, ParseContext, parse_sheet
from catalogs.records import audit_import, new_record, record_rejected
from catalogs.reserve import find_quota_catalog
from supply.core.errors import ImportRejected, InvalidInput, NotFound, RowProblem
from supply.core.sheets.read import DEFAULT_MAX_BYTES, read_sheet
from supply.core.sheets.table import ParsedRow


@dataclass(slots=True)
class _Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _context(session: Session, default_delivery_warehouse: str) -> ParseContext:
    referenced: set[str] = set()
    for model in (ReserveStock, Quota, AgreementLine, Consignment):
        referenced.update(session.exec(select(col(model.material_code)).distinct()))  # type: ignore[attr-defined]
    materials = {
        m.code: MaterialRef(
            unit=m.unit,
            reserve_catalog=m.reserve_catalog,
            referenced=m.code in referenced,
            typical_lead_days=m.typical_lead_days,
        )
        for m in session.exec(select(Material))
    }
    warehouses = frozenset(session.exec(select(Warehouse.id)))
    return ParseContext(materials, warehouses, default_delivery_warehouse)


def _upsert(
    session: Session,
    model: type[SQLModel],
    key: Sequence[str],
    rows: Iterable[dict[str, Any]],
    existing_rows: Iterable[Any],
    now: datetime,
) -> _Counts:
    counts = _Counts()
    existing = {tuple(getattr(obj, k) for k in key): obj for obj in existing_rows}
    stamped = "updated_at" in model.model_fields
    for values in rows:
        obj = existing.get(tuple(values[k] for k in key))
        if obj is None:
            session.add(model(**values, **({"updated_at": now} if stamped else {})))
            counts.inserted += 1
            continue
        changed = {name: value for name, value in values.items() if getattr(obj, name) != value}
        if not changed:
            counts.unchanged += 1
            continue
        for name, value in changed.items():
            setattr(obj, name, value)
        if stamped:
            obj.updated_at = now
        session.add(obj)
        counts.updated += 1
    session.flush()
    return counts


def _draft_catalog(session: Session, *, year: int, created_by: str, now: datetime) -> QuotaCatalog:
    """Return the year's draft quota catalog, starting a new one from the confirmed version."""
    latest = find_quota_catalog(session=session, year=year)
    if latest is not None and latest.status == QuotaCatalogStatus.DRAFT:
        return latest
    draft = QuotaCatalog(
        year=year,
        version=(latest.version + 1) if latest else 1,
        status=QuotaCatalogStatus.DRAFT,
        created_at=now,
        created_by=created_by,
    )
    session.add(draft)
    session.flush()
    assert draft.id is not None  # assigned by the flush
    if latest is not None:
        for quota in session.exec(select(Quota).where(Quota.catalog_id == latest.id)):
            session.add(
                Quota(
                    catalog_id=draft.id,
                    warehouse_id=quota.warehouse_id,
                    material_code=quota.material_code,
                    quantity=quota.quantity,
                )
            )
        session.flush()
    return draft


def _apply(
    session: Session, kind: CatalogKind, rows: list[ParsedRow], *, imported_by: str, now: datetime
) -> tuple[_Counts, str]:
    spec = SPECS[kind]
    model = TABLES[kind]
    values = [row.values for row in rows]
    if kind is CatalogKind.QUOTAS:
        year = values[0]["year"] if values else now.year
        draft = _draft_catalog(session, year=year, created_by=imported_by, now=now)
        for v in values:
            del v["year"]
            v["catalog_id"] = draft.id
        quotas = session.exec(select(Quota).where(Quota.catalog_id == draft.id)).all()
        counts = _upsert(session, Quota, ("warehouse_id", "material_code"), values, quotas, now)
        note = (
            f"{year} 年第 {draft.version} 版定额目录（草稿，待确认）/ "
            f"quota catalog {year} v{draft.version} (draft, to confirm)"
        )
        return counts, note
    existing = session.exec(select(model)).all()
    return _upsert(session, model, spec.key, values, existing, now), ""


def import_catalog(
    *,
    session: Session,
    kind: CatalogKind,
    content: bytes,
    file_name: str,
    imported_by: str,
    now: datetime,
    default_delivery_warehouse: str = "WH-CENTRAL",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ImportReport:
    """Validate a catalog file and upsert it in one transaction, or reject it with every problem
    (recorded as a rejected import; nothing else written). A file over `max_bytes` is refused."""
    record = new_record(kind=kind, file_name=file_name, imported_by=imported_by, now=now)
    file_name, imported_by = record.file_name, record.imported_by
    count = 0
    try:
        sheet = read_sheet(
            content,
            file_name,
            preferred_sheets=(SPECS[kind].sheet, kind.value),
            max_bytes=max_bytes,
        )
        result = parse_sheet(kind, sheet, _context(session, default_delivery_warehouse))
        record.rows = len(sheet.rows) - 1
        if not record.rows and not result.problems:
            raise ImportRejected(
                "文件只有表头，没有数据 / the file has a header but no rows",
                [
                    _file_problem(
                        "文件只有表头，没有数据行", "the file has a header but no data rows"
                    )
                ],
            )
        if result.problems:
            count = result.total_problems
            hidden = result.total_problems - len(result.problems)
            problems = list(result.problems)
            if hidden:
                problems.append(
                    _file_problem(
                        f"另有 {hidden} 个问题未列出", f"{hidden} more problems not listed"
                    )
                )
            raise ImportRejected(
                f"{file_name}: {result.total_problems} 个问题，未导入任何数据 / "
                f"{result.total_problems} problem(s); nothing was imported",
                problems,
            )
    except ImportRejected as rejected:
        record_rejected(session, record, rejected.problems, count=count or len(rejected.problems))
        raise
    counts, note = _apply(session, kind, result.rows, imported_by=imported_by, now=now)
    record.status = ImportStatus.ACCEPTED
    record.inserted, record.updated, record.unchanged = (
        counts.inserted,
        counts.updated,
        counts.unchanged,
    )
    record.note = note
    audit_import(session, record)
    session.commit()
    session.refresh(record)
    return ImportReport.model_validate(record, update={"ignored_columns": result.ignored_columns})


def _file_problem(zh: str, en: str) -> RowProblem:
    return RowProblem(None, "", "", zh, en)


# ---------------------------------------------------------------- export


def catalog_rows(
    *, session: Session, kind: CatalogKind, year: int | None = None, version: int | None = None
) -> list[dict[str, Any]]:
    """Return a catalog's rows as its file holds them (base units, names beside codes)."""
    materials = {m.code: m for m in session.exec(select(Material))}
    spec = SPECS[kind]
    model = TABLES[kind]
    if kind is CatalogKind.QUOTAS:
        if year is None:
            raise InvalidInput(
                "导出定额需要指定年度 / say which year's quotas to export", loc=("year",)
            )
        catalog = find_quota_catalog(session=session, year=year, version=version)
        if catalog is None:
            which = f"第 {version} 版" if version else ""
            raise NotFound(
                f"没有 {year} 年{which}定额目录 / no quota catalog for {year}"
                + (f" version {version}" if version else ""),
                loc=("year",),
            )
        objects: Sequence[Any] = session.exec(
            select(Quota)
            .where(Quota.catalog_id == catalog.id)
            .order_by(Quota.warehouse_id, Quota.material_code)
        ).all()
    else:
        order = [getattr(model, k) for k in spec.key]
        objects = session.exec(select(model).order_by(*order)).all()
    rows = []
    for obj in objects:
        row = obj.model_dump()
        if "material_code" in row:
            material = materials[row["material_code"]]
            row["material_name"] = material.name_zh
            row["unit"] = material.unit
        if kind is CatalogKind.QUOTAS:
            row["year"] = year
        rows.append(row)
    return rows


def export_catalog(
    *,
    session: Session,
    kind: CatalogKind,
    fmt: FileFormat = "xlsx",
    year: int | None = None,
    version: int | None = None,
) -> bytes:
    """Write a catalog as an .xlsx or CSV file in the format its import reads."""
    return write_catalog(
        kind, catalog_rows(session=session, kind=kind, year=year, version=version), fmt
    )
