"""The one writer of every export: .xlsx workbooks and CSV tables, with one rule for text.

Every export of the service — the weekly run's files, the funding application, catalog and
project files — is a list of `Sheet`s of typed `Column`s written here, so they all look and
behave alike: a bold frozen header with an autofilter, columns sized to their text, dates as real
dates (yyyy-mm-dd), amounts to the fen with thousands separators, and a totals row (合计) where a
sheet asks for one.

**Text is always text.** A cell of a text column is written as a string cell, whatever it
starts with, so a project named `=HYPERLINK(…)` can never become a live formula; in CSV, whose
readers (Excel, WPS) treat a leading `= + - @ TAB CR` as a formula, such a cell gets a leading
apostrophe (the OWASP rule for CSV injection) — `supply.core.text.csv_text` is that rule,
`uncsv_text` its inverse for files read back. Only the totals row holds formulas, and only ones written here
(`SUBTOTAL`, which follows the autofilter), each with its exact value cached.

Pure: values in, bytes out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from supply.core.money import fen
from supply.core.text import csv_text

ColumnKind = Literal["text", "int", "number", "money", "price", "date"]
_NOT_IN_SHEET_NAMES = frozenset("[]:*?/\\")
TOTAL_LABEL = "合计 / total"
# Excel keeps 15 significant digits of a binary float: longer amounts are written as text.
EXCEL_DIGITS = 15
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
_FORMATS: dict[str, dict[str, Any]] = {
    "int": {"num_format": "#,##0"},
    "money": {"num_format": "#,##0.00"},
    "price": {"num_format": "#,##0.00####"},
    "date": {"num_format": "yyyy-mm-dd"},
    "number": {},
    "text": {},
}


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header, how its cells are written, and whether the totals row sums it.

    `money` is CNY to the fen; `price` a unit price (up to six decimal places); `int` a whole
    number; `number` any number; `date` a date; `text` anything else, always as text. `note` is
    a comment on the header cell (what the column means, in English).
    """

    header: str
    kind: ColumnKind = "text"
    total: bool = False
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A table to write: a name (at most 31 characters in Excel), columns and rows of values.

    With `totals`, a row 合计 follows the data (if there is any): the sum of each `total`
    column, and the number of rows in the first column.
    """

    name: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    totals: bool = False
    header_fill: str | None = None
    widths: dict[int, int] = field(default_factory=dict)


def as_decimal(value: Any) -> Decimal:
    """A number as a Decimal (a float by its shortest decimal form, so 0.1 is 0.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def total_of(sheet: Sheet, position: int) -> Decimal | int:
    """The exact sum of a column's cells (money to the fen), as the totals row shows it."""
    kind = sheet.columns[position].kind
    values = [row[position] for row in sheet.rows if row[position] is not None]
    if kind == "int":
        return sum(int(v) for v in values)
    if kind == "money":  # the sum of the amounts as shown, each to the fen
        return sum((fen(as_decimal(v)) for v in values), Decimal(0))
    return sum((as_decimal(v) for v in values), Decimal(0))


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """Write `sheets` as an .xlsx workbook."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            # Belt and braces: strings never turn into formulas, numbers or links by themselves.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    formats = {kind: book.add_format(spec) for kind, spec in _FORMATS.items()}
    bold = {kind: book.add_format({**spec, "bold": True}) for kind, spec in _FORMATS.items()}
    taken: set[str] = set()
    for sheet in sheets:
        header = book.add_format(
            {"bold": True, **({"bg_color": sheet.header_fill} if sheet.header_fill else {})}
        )
        name = sheet_name(sheet.name, taken)
        taken.add(name.casefold())
        _write_sheet(book.add_worksheet(name), sheet, header, formats, bold)
    book.close()
    return buffer.getvalue()


def sheet_name(name: str, taken: set[str]) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of []:*?/\\, not blank,
    not starting or ending with an apostrophe, and unlike the `taken` ones (casefolded)."""
    cleaned = "".join("_" if c in _NOT_IN_SHEET_NAMES else c for c in name).strip().strip("'")
    cleaned = cleaned or "Sheet"
    candidate, n = cleaned[:31], 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = cleaned[: 31 - len(suffix)] + suffix
    return candidate


def _write_sheet(
    ws: Worksheet, sheet: Sheet, header: Any, formats: dict[str, Any], bold: dict[str, Any]
) -> None:
    for position, column in enumerate(sheet.columns):
        ws.write_string(0, position, column.header, header)
        if column.note:
            ws.write_comment(0, position, column.note, {"author": "gridsupply"})
    ws.freeze_panes(1, 0)
    for number, values in enumerate(sheet.rows, start=1):
        for position, column in enumerate(sheet.columns):
            _write_cell(ws, number, position, column.kind, values[position], formats)
    last = len(sheet.rows)
    if sheet.columns:
        ws.autofilter(0, 0, max(last, 1) if sheet.rows else 0, len(sheet.columns) - 1)
    if sheet.totals and sheet.columns and sheet.rows:
        _write_totals(ws, sheet, bold)
    for position, column in enumerate(sheet.columns):
        width = sheet.widths.get(position) or _width(column, sheet.rows, position)
        ws.set_column(position, position, width, formats[column.kind])


def _write_cell(
    ws: Worksheet, row: int, position: int, kind: str, value: Any, formats: dict[str, Any]
) -> None:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return  # blank: None, '' or NaN
    if kind == "text" or isinstance(value, str):
        ws.write_string(row, position, str(value), formats["text"])
    elif kind == "date":
        day = value.date() if isinstance(value, datetime) else value
        ws.write_datetime(row, position, datetime(day.year, day.month, day.day), formats["date"])
    elif kind == "int":
        ws.write_number(row, position, int(value), formats["int"])
    else:
        amount = as_decimal(value)
        if kind == "money":
            amount = fen(amount)
        if len(amount.normalize().as_tuple().digits) > EXCEL_DIGITS:
            ws.write_string(row, position, format(amount.normalize(), "f"), formats["text"])
        else:
            ws.write_number(row, position, float(amount), formats[kind])


def _write_totals(ws: Worksheet, sheet: Sheet, bold: dict[str, Any]) -> None:
    row = len(sheet.rows) + 1
    first, last = 2, len(sheet.rows) + 1  # the data rows, as Excel numbers them
    ws.write_string(row, 0, f"{TOTAL_LABEL} ({len(sheet.rows)} 行)", bold["text"])
    for position, column in enumerate(sheet.columns):
        if not column.total or position == 0:
            continue
        letter = xl_col_to_name(position)
        value = total_of(sheet, position)
        # SUBTOTAL(109, …) sums the rows the autofilter shows; the exact total is its cached value.
        ws.write_formula(
            row,
            position,
            f"=SUBTOTAL(109,{letter}{first}:{letter}{last})",
            bold[column.kind],
            float(value),
        )


def _width(column: Column, rows: Sequence[Sequence[Any]], position: int) -> int:
    """Wide enough for the header and the first rows (CJK characters count double)."""
    sample = [column.header, *(_shown(row[position], column.kind) for row in rows[:200])]
    widest = max(len(text.encode("gbk", "replace")) for text in sample)
    return min(60, max(8, widest + 2))


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("money", "int") and not isinstance(value, str):
        return f"{as_decimal(value):,.2f}"
    if kind == "date" and isinstance(value, date):
        return "2026-01-01"
    return str(value)


def write_csv(sheet: Sheet) -> bytes:
    """Write one sheet as UTF-8 CSV (with a byte-order mark, so Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(column.header) for column in sheet.columns])
    for values in sheet.rows:
        writer.writerow(_csv_cell(c.kind, v) for c, v in zip(sheet.columns, values, strict=True))
    if sheet.totals and sheet.rows:
        writer.writerow(
            [
                f"{TOTAL_LABEL} ({len(sheet.rows)} 行)",
                *(
                    _csv_cell(c.kind, total_of(sheet, p)) if c.total else ""
                    for p, c in enumerate(sheet.columns)
                    if p > 0
                ),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(kind: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if kind == "text" or isinstance(value, str):
        return csv_text(str(value))
    if kind == "date":
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    if kind == "int":
        return str(int(value))
    amount = as_decimal(value)
    return format(fen(amount) if kind == "money" else amount.normalize(), "f")
