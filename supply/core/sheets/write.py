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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from xlsxwriter.utility import xl_col_to_name

from supply.core.money import fen
from supply.core.sheets.xlsx import BOLD, STYLES, Package, serial
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
    """Write `sheets` as an .xlsx workbook, each sheet streamed row by row (no cell objects)."""
    sheets = list(sheets)
    buffer = io.BytesIO()
    fills = list(dict.fromkeys(s.header_fill for s in sheets if s.header_fill))
    book = Package(buffer, fills=fills)
    taken: set[str] = set()
    for sheet in sheets:
        name = sheet_name(sheet.name, taken)
        taken.add(name.casefold())
        _write_sheet(book, name, sheet)
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


def _write_sheet(book: Package, name: str, sheet: Sheet) -> None:
    columns, rows = sheet.columns, sheet.rows
    totals = bool(sheet.totals and columns and rows)
    letters = [xl_col_to_name(position) for position in range(len(columns))]
    with book.sheet(
        name,
        rows=len(rows) + 2 if totals else _last_filled(rows, len(columns)),
        widths=[sheet.widths.get(p) or _width(c, rows, p) for p, c in enumerate(columns)],
        styles=[STYLES[c.kind] for c in columns],
        notes={p: c.note for p, c in enumerate(columns) if c.note},
        filter_rows=(max(len(rows), 1) + 1 if rows else 1) if columns else None,
    ) as out:
        style = book.header_style(sheet.header_fill)
        out.write(
            '<row r="1">'
            + "".join(
                f'<c r="{letter}1" s="{style}" t="s"><v>{book.shared(column.header)}</v></c>'
                for letter, column in zip(letters, columns, strict=True)
            )
            + "</row>"
        )
        cells = [
            _cell_writer(c.kind, letter, book) for letter, c in zip(letters, columns, strict=True)
        ]
        chunk: list[str] = []
        for number, values in enumerate(rows, start=2):
            r = str(number)
            row = "".join([cell(value, r) for cell, value in zip(cells, values, strict=False)])
            if row:  # a row of blanks is left out, as Excel leaves it out
                chunk.append(f'<row r="{r}">{row}</row>')
            if len(chunk) > 4096:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
        if totals:
            sums = {
                p: _column_total(c.kind, (row[p] for row in rows))
                for p, c in enumerate(columns)
                if c.total and p > 0
            }
            out.write(_totals_row(sheet, letters, sums, book.shared))


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)


def _last_filled(rows: Sequence[Sequence[Any]], columns: int) -> int:
    """The number of the last data row with a cell to write (1 for none: the header's)."""
    for index in range(len(rows) - 1, -1, -1):
        if not all(_blank(v) for v in rows[index][:columns]):
            return index + 2
    return 1


def _cell_writer(kind: str, letter: str, book: Package) -> Callable[[Any, str], str]:
    """How a column's cell is written: its XML, "" for a blank (None, '' or NaN). Text is always
    a string cell, whatever it starts with; so is a str in a column of another kind.

    This is the inner loop of every export, so it is made per column: a cell is its reference
    and a tail (style, value), and a column of numbers or dates works out the tail of each
    distinct value once (equal values are written alike: 1, 1.0 and Decimal("1.00") are one
    amount)."""
    shared, known = book.shared, book.known
    start, as_text = f'<c r="{letter}', f'" s="{STYLES["text"]}" t="s"><v>'

    def text(value: Any, row: str) -> str:
        if value.__class__ is not str:
            if value is None or (isinstance(value, float) and value != value):
                return ""
            value = str(value)
        elif not value:
            return ""
        index = known(value)
        if index is None:
            index = shared(value)
        return f"{start}{row}{as_text}{index}</v></c>"

    if kind == "text":
        return text
    as_number = f'" s="{STYLES[kind]}"><v>'

    def tail(value: Any) -> str:
        if _blank(value):
            return ""
        if isinstance(value, str):
            return f"{as_text}{shared(value)}</v></c>"
        if kind == "date":
            day = value.date() if isinstance(value, datetime) else value
            return f"{as_number}{serial(day)}</v></c>"
        if kind == "int":
            return f"{as_number}{int(value):.16G}</v></c>"
        amount = as_decimal(value)
        if kind == "money":
            amount = fen(amount)
        if len(amount.as_tuple().digits) > EXCEL_DIGITS:
            shown = amount.normalize()
            if len(shown.as_tuple().digits) > EXCEL_DIGITS:
                return f"{as_text}{shared(format(shown, 'f'))}</v></c>"
        return f"{as_number}{float(amount):.16G}</v></c>"

    tails: dict[Any, str] = {}

    def cell(value: Any, row: str) -> str:
        if value is None:
            return ""
        shown = tails.get(value)
        if shown is None:
            shown = tails[value] = tail(value)
        return f"{start}{row}{shown}" if shown else ""

    return cell


def _addend(kind: str, value: Any) -> Decimal | int:
    """What a cell adds to its column's total (`total_of`, one cell at a time)."""
    if kind == "int":
        return int(value)
    if kind == "money":
        return fen(as_decimal(value))
    return as_decimal(value)


def _column_total(kind: str, values: Iterable[Any]) -> Decimal | int:
    """`total_of` a column's values, each distinct value converted once."""
    addends: dict[Any, Decimal | int] = {}
    total: Decimal | int = 0 if kind == "int" else Decimal(0)
    for value in values:
        if value is None:
            continue
        addend = addends.get(value)
        if addend is None:
            addend = addends[value] = _addend(kind, value)
        total += addend
    return total


def _totals_row(
    sheet: Sheet, letters: list[str], sums: dict[int, Decimal | int], shared: Callable[[str], int]
) -> str:
    row = len(sheet.rows) + 2
    first, last = 2, len(sheet.rows) + 1  # the data rows, as Excel numbers them
    label = shared(f"{TOTAL_LABEL} ({len(sheet.rows)} 行)")
    cells = [f'<c r="A{row}" s="{BOLD["text"]}" t="s"><v>{label}</v></c>']
    for position, total in sums.items():
        letter = letters[position]
        # SUBTOTAL(109, …) sums the rows the autofilter shows; the exact total is its cached value.
        cells.append(
            f'<c r="{letter}{row}" s="{BOLD[sheet.columns[position].kind]}">'
            f"<f>SUBTOTAL(109,{letter}{first}:{letter}{last})</f><v>{float(total)}</v></c>"
        )
    return f'<row r="{row}">{"".join(cells)}</row>'


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
