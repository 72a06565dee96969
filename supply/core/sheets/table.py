"""Reading a table of a spreadsheet: every row, every column, every problem at once.

A table is described by a `TableSpec`: its sheet name and its `Column`s, each with Chinese and
English headers (and aliases) and the `Cell` kind its cells are read as. Imports accept either
header, ignoring case, spaces, underscores and a bracketed unit such as "(天)"; a column marked
`info` is written on export for the reader (a material's name beside its code) and ignored on
import.

`parse_table(spec, sheet, check, limits=…)` maps the header row to columns (`map_headers`), reads
each row's cells by their kinds (`read_row`, with the readers of `supply.core.sheets.cells`),
passes the values to the caller's per-row `check`, and refuses rows repeating the table's key. It
returns the rows, or every problem found; it never stops at the first. Used by the catalogs, the
project workbook and the province's matching result. Pure: no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from supply.core.errors import RowProblem
from supply.core.sheets.cells import (
    CellError,
    formula_error,
    is_blank,
    non_negative,
    read_bool,
    read_code,
    read_date,
    read_integer,
    read_location,
    read_number,
    read_percent,
    read_text,
    read_unit,
    show,
)
from supply.core.sheets.read import Sheet

MAX_PROBLEMS = 1000


class Cell(StrEnum):
    """How a column's cells are read (a column's own `reader` for any other value)."""

    CODE = "code"  # an identifier: full-width folded, no spaces inside
    LOCATION = "location"  # a location id: lower-case letters, digits, - and _
    TEXT = "text"
    INTEGER = "integer"  # a whole number ≥ 0 (days, percentages, line numbers, years)
    QUANTITY = "quantity"  # ≥ 0, in the row's unit, converted to the material's base unit
    MONEY = "money"  # ≥ 0 CNY per the row's unit, converted to per base unit
    DATE = "date"
    BOOL = "bool"
    PERCENT = "percent"  # 80, "80%", or 0.8
    UNIT = "unit"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table.

    `reader` and `writer`, when given, replace how the cell kind reads a cell and writes a value
    (for values outside the cell kinds, such as a voltage class or a project type written in
    Chinese).
    """

    key: str
    zh: str
    en: str
    cell: Cell
    required: bool = True
    aliases: tuple[str, ...] = ()
    info: bool = False  # written on export, ignored on import
    reader: Callable[[object], Any] | None = field(default=None, compare=False)
    writer: Callable[[Any], Any] | None = field(default=None, compare=False)


class TableSpec(Protocol):
    """What reading and writing a table needs: its sheet name, columns, and row key."""

    @property
    def sheet(self) -> str:
        """The sheet's name in Chinese (exports use it; imports look for it)."""
        ...

    @property
    def title_en(self) -> str:
        """What the table holds, in English, for messages."""
        ...

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns, in the order exports write them."""
        ...

    @property
    def key(self) -> tuple[str, ...]:
        """The columns that identify a row (duplicates within a file are refused)."""
        ...

    def column(self, key: str) -> Column:
        """Return the column with field name `key`."""
        ...


# ---------------------------------------------------------------- headers

_BRACKETED = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]")
_NOISE = re.compile(r"[\s_*＊]+")


def normalise_header(text: str) -> str:
    """Fold a header for matching: full-width, case, spaces, underscores and '*' ignored."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def header_index(spec: TableSpec) -> dict[str, Column]:
    """Map every accepted spelling of every header of `spec` to its column."""
    index: dict[str, Column] = {}
    for column in spec.columns:
        for name in (column.zh, column.en, column.key, *column.aliases):
            for form in (normalise_header(name), normalise_header(_BRACKETED.sub("", name))):
                index.setdefault(form, column)
    return index


def match_header(text: str, index: dict[str, Column]) -> Column | None:
    """Return the column a header names, with or without its bracketed unit, or None."""
    folded = normalise_header(text)
    return index.get(folded) or index.get(normalise_header(_BRACKETED.sub("", text)))


# ---------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A valid row: its spreadsheet row number and its values by field name."""

    row: int
    values: dict[str, Any]


@dataclass(slots=True)
class ParseResult:
    """The valid rows, or the problems; and the columns of the file that were not used."""

    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    total_problems: int = 0

    def add(self, row: int | None, column: Column | None, zh: str, en: str) -> None:
        """Record a problem (the first MAX_PROBLEMS are kept in full; all are counted)."""
        self.total_problems += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(
                RowProblem(row, column.zh if column else "", column.en if column else "", zh, en)
            )


_READERS: dict[Cell, Callable[[object], Any]] = {
    Cell.CODE: read_code,
    Cell.LOCATION: read_location,
    Cell.TEXT: read_text,
    Cell.INTEGER: read_integer,
    Cell.DATE: read_date,
    Cell.BOOL: read_bool,
    Cell.PERCENT: read_percent,
    Cell.UNIT: read_unit,
    Cell.QUANTITY: lambda value: non_negative(read_number(value), value),
    Cell.MONEY: lambda value: non_negative(read_number(value), value),
}


# Text is limited to the length of the column it is stored in.
_SIZED: dict[Cell, Callable[..., str]] = {Cell.CODE: read_code, Cell.TEXT: read_text}

RowCheck = Callable[[int, dict[str, Any], ParseResult], None]
TextLimit = Callable[[str], int | None]


def parse_table(
    spec: TableSpec,
    sheet: Sheet,
    check: RowCheck,
    *,
    limits: TextLimit,
    finish: Callable[[ParseResult], None] | None = None,
) -> ParseResult:
    """Validate every row of `sheet` as a `spec` table; return the rows or every problem.

    Each row's cells are read by their column's kind, then `check` sees the values read (and adds
    problems, converts units, fills defaults); rows repeating a key are refused; `finish` sees the
    whole result before the problems are put in reading order. `limits` gives the longest text a
    field may hold.
    """
    result = ParseResult()
    header_row, header = sheet.rows[0]
    positions = map_headers(spec, header_row, header, result)
    if result.problems:
        return result
    seen: dict[tuple[Any, ...], int] = {}
    for number, cells in sheet.rows[1:]:
        # Checks run on whatever cells could be read, so that a row shows all its problems.
        values = read_row(spec, number, cells, positions, result, limits=limits)
        check(number, values, result)
        key = tuple(values.get(k) for k in spec.key)
        if None not in key:
            if key in seen:
                described = ", ".join(str(k) for k in key)
                result.add(
                    number,
                    None,
                    f"与第 {seen[key]} 行重复（{described}），请删除或合并",
                    f"duplicates row {seen[key]} ({described}); remove or merge one",
                )
            else:
                seen[key] = number
        result.rows.append(ParsedRow(number, values))
    if finish is not None:
        finish(result)
    # Report in reading order: by row, then by the column's place in the format, whole-row last.
    order = {c.en: i for i, c in enumerate(spec.columns)}
    result.problems.sort(key=lambda p: (p.row or 0, order.get(p.column_en, len(order))))
    if result.problems:
        result.rows = []
    return result


def map_headers(
    spec: TableSpec, header_row: int, header: list[object], result: ParseResult
) -> dict[str, int]:
    """Return the position of each column the header names; add a problem for each bad header."""
    index = header_index(spec)
    positions: dict[str, int] = {}
    for position, cell in enumerate(header):
        if is_blank(cell):
            continue
        column = match_header(str(cell), index)
        if column is None or column.info:
            if column is None:
                result.ignored_columns.append(str(cell).strip())
            continue
        if column.key in positions:
            result.add(
                header_row,
                column,
                f"列重复：{show(cell)} 与第 {positions[column.key] + 1} 列是同一列",
                f"duplicate column: {show(cell)!r} repeats column {positions[column.key] + 1}",
            )
            continue
        positions[column.key] = position
    missing = [c for c in spec.columns if c.required and not c.info and c.key not in positions]
    for column in missing:
        result.add(
            header_row,
            column,
            f"缺少必填列 {column.zh}（也可写作 {column.en}）",
            f"required column {column.en} ({column.zh}) is missing",
        )
    if missing and len(missing) == sum(1 for c in spec.columns if c.required):
        expected = "、".join(c.zh for c in spec.columns if c.required)
        result.add(
            header_row,
            None,
            f"第一行应为表头，{spec.sheet}文件需要这些列：{expected}",
            f"the first row must be the header; a {spec.title_en} file needs: "
            + ", ".join(c.en for c in spec.columns if c.required),
        )
    return positions


def read_row(
    spec: TableSpec,
    number: int,
    cells: list[object],
    positions: dict[str, int],
    result: ParseResult,
    *,
    limits: TextLimit,
) -> dict[str, Any]:
    """Read the cells of one row by their columns' kinds; add a problem for each bad cell."""
    values: dict[str, Any] = {}
    for column in spec.columns:
        if column.key not in positions:
            continue
        position = positions[column.key]
        raw = cells[position] if position < len(cells) else None
        formula = formula_error(raw)
        if formula is not None:
            result.add(number, column, formula.zh, formula.en)
            continue
        if is_blank(raw):
            if column.required:
                result.add(number, column, "不能为空", "is required")
            continue
        try:
            limit = limits(column.key) if column.cell in _SIZED else None
            if column.reader is not None:
                values[column.key] = column.reader(raw)
            elif limit is not None:
                values[column.key] = _SIZED[column.cell](raw, max_length=limit)
            else:
                values[column.key] = _READERS[column.cell](raw)
        except CellError as problem:
            result.add(number, column, problem.zh, problem.en)
    return values
