"""Writing a catalog file in the format the import reads: .xlsx (Chinese headers) or UTF-8 CSV.

Pure: rows of values by field name in, bytes out. Quantities are written in base units with the
unit beside them, so exporting and importing again changes nothing. `write_table` and
`write_workbook` do the same for any `TableSpec` (one table, or a workbook of several sheets).
Written by the one export writer (`supply.core.sheets`): text as text, CSV cells escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from catalogs.columns import SPECS
from catalogs.models import CatalogKind
from supply.core.sheets import MEDIA_TYPES, Column, ColumnKind, Sheet, write_csv, write_xlsx
from supply.core.sheets.table import Cell, TableSpec
from supply.core.sheets.table import Column as TableColumn

FileFormat = Literal["xlsx", "csv"]
__all__ = ["MEDIA_TYPES", "FileFormat", "write_catalog", "write_table", "write_workbook"]


_KIND: dict[Cell, ColumnKind] = {
    Cell.INTEGER: "int",
    Cell.QUANTITY: "int",
    Cell.MONEY: "price",
    Cell.PERCENT: "number",
    Cell.DATE: "date",
}


def _cell_value(column: TableColumn, value: Any) -> Any:
    if value is None:
        return None
    if column.writer is not None:
        value = column.writer(value)
    if column.cell is Cell.BOOL:
        return "是" if value else "否"
    return value


def _sheet(spec: TableSpec, rows: Iterable[Mapping[str, Any]]) -> Sheet:
    columns = [
        Column(
            c.zh,
            "text" if c.writer is not None else _KIND.get(c.cell, "text"),
            note=f"{c.en}{'' if c.required else ' (optional / 选填)'}",
        )
        for c in spec.columns
    ]
    return Sheet(
        name=spec.sheet,
        columns=columns,
        rows=[[_cell_value(c, row.get(c.key)) for c in spec.columns] for row in rows],
        header_fill="#DDEBF7",
        widths={
            position: min(40, max(len(c.zh) * 2, len(c.en)) + 4)
            for position, c in enumerate(spec.columns)
        },
    )


def write_catalog(kind: CatalogKind, rows: Iterable[Mapping[str, Any]], fmt: FileFormat) -> bytes:
    """Write `rows` (values by field name) as a `kind` file in format `fmt`."""
    return write_table(SPECS[kind], rows, fmt)


def write_table(spec: TableSpec, rows: Iterable[Mapping[str, Any]], fmt: FileFormat) -> bytes:
    """Write `rows` (values by field name) as one `spec` table in format `fmt`."""
    if fmt == "csv":
        return write_csv(_sheet(spec, rows))
    return write_workbook([(spec, rows)])


def write_workbook(tables: Sequence[tuple[TableSpec, Iterable[Mapping[str, Any]]]]) -> bytes:
    """Write an .xlsx workbook with one sheet per table, each named for its spec."""
    return write_xlsx([_sheet(spec, rows) for spec, rows in tables])
