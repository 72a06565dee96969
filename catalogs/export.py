"""Writing a catalog file in the format the import reads: .xlsx (Chinese headers) or UTF-8 CSV.

Pure: rows of values by field name in, bytes out. Quantities are written in base units with the
unit beside them, so exporting and importing again changes nothing. `write_table` and
`write_workbook` do the same for any `TableSpec` (one table, or a workbook of several sheets).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from catalogs.columns import SPECS, Cell, Column, TableSpec
from catalogs.models import CatalogKind, WarehouseLevel

FileFormat = Literal["xlsx", "csv"]
EXCEL_DIGITS = 15
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
LEVEL_NAMES: dict[str, str] = {
    WarehouseLevel.CENTRAL: "市级中心库",
    WarehouseLevel.COUNTY: "县级周转库",
    WarehouseLevel.STORAGE_POINT: "仓储点",
}


def _cell_value(column: Column, value: Any, *, for_csv: bool) -> Any:
    if value is None:
        return None
    if column.writer is not None:
        value = column.writer(value)
    cell = column.cell
    if cell is Cell.BOOL:
        return "是" if value else "否"
    if cell is Cell.LEVEL:
        return LEVEL_NAMES.get(value, value)
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        # Excel keeps 15 significant digits of a binary float: longer amounts are written as text.
        if for_csv or len(value.normalize().as_tuple().digits) > EXCEL_DIGITS:
            return text
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat() if for_csv else value
    return value


def write_catalog(kind: CatalogKind, rows: Iterable[Mapping[str, Any]], fmt: FileFormat) -> bytes:
    """Write `rows` (values by field name) as a `kind` file in format `fmt`."""
    return write_table(SPECS[kind], rows, fmt)


def write_table(spec: TableSpec, rows: Iterable[Mapping[str, Any]], fmt: FileFormat) -> bytes:
    """Write `rows` (values by field name) as one `spec` table in format `fmt`."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([c.zh for c in spec.columns])
        for row in rows:
            writer.writerow([_cell_value(c, row.get(c.key), for_csv=True) for c in spec.columns])
        # A byte-order mark makes Excel open the file as UTF-8 rather than the local code page.
        return buffer.getvalue().encode("utf-8-sig")
    return write_workbook([(spec, rows)])


def write_workbook(tables: Sequence[tuple[TableSpec, Iterable[Mapping[str, Any]]]]) -> bytes:
    """Write an .xlsx workbook with one sheet per table, each named for its spec."""
    book = Workbook()
    first = book.active
    assert first is not None
    for index, (spec, rows) in enumerate(tables):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = spec.sheet
        _fill_sheet(sheet, spec, rows)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _fill_sheet(sheet: Worksheet, spec: TableSpec, rows: Iterable[Mapping[str, Any]]) -> None:
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for position, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=position, value=column.zh)
        cell.font = bold
        cell.fill = fill
        cell.comment = Comment(
            f"{column.en}{'' if column.required else ' (optional / 选填)'}", "gridsupply"
        )
        width = max(len(column.zh) * 2, len(column.en)) + 4
        sheet.column_dimensions[cell.column_letter].width = min(width, 40)
    for number, row in enumerate(rows, start=2):
        for position, column in enumerate(spec.columns, start=1):
            value = _cell_value(column, row.get(column.key), for_csv=False)
            cell = sheet.cell(row=number, column=position, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never let a name starting with '=' become a formula
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
