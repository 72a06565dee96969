"""Reading an uploaded file into rows of cells: .xlsx or CSV, numbered as a spreadsheet shows.

Pure: bytes in, rows out. Anything that is not a readable table ends in `ImportRejected` with one
file-level problem that says what to do, never in a library's exception.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from catalogs.cells import Formula
from supply.core.errors import ImportRejected, RowProblem
from supply.core.text import uncsv_text

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a <f> element in a worksheet's XML


@dataclass(frozen=True, slots=True)
class Sheet:
    """The non-empty rows of a table, each with its spreadsheet row number (header = first)."""

    rows: list[tuple[int, list[object]]]
    name: str = ""


def reject(zh: str, en: str) -> ImportRejected:
    """Build the error for a file that cannot be read as a table at all."""
    problem = RowProblem(None, "", "", zh, en)
    return ImportRejected(f"文件无法导入 / file rejected: {en}", [problem])


def read_sheet(content: bytes, file_name: str, *, preferred_sheets: tuple[str, ...] = ()) -> Sheet:
    """Read the table in an .xlsx or .csv file; pick the first sheet named in `preferred_sheets`."""
    if _is_xlsx(content, file_name):
        sheet = _read_xlsx(content, preferred_sheets)
    else:
        sheet = _read_csv(content)
    _check_rows(sheet)
    return sheet


def read_workbook(content: bytes, file_name: str) -> list[Sheet]:
    """Read every sheet of an .xlsx workbook, or the one table of a CSV file, each by its name.

    Empty sheets are left out; a file with no rows at all is rejected. A CSV table has no name.
    """
    if not _is_xlsx(content, file_name):
        sheet = _read_csv(content)
        _check_rows(sheet)
        return [sheet]
    sheets = _read_xlsx_sheets(content, None)
    if not any(sheet.rows for sheet in sheets):
        raise reject("文件中没有数据", "the file has no rows")
    if sum(len(sheet.rows) - 1 for sheet in sheets if sheet.rows) > MAX_ROWS:
        raise reject(
            f"数据超过 {MAX_ROWS} 行，请拆分后导入",
            f"more than {MAX_ROWS} data rows; split the file",
        )
    return [sheet for sheet in sheets if sheet.rows]


def _is_xlsx(content: bytes, file_name: str) -> bool:
    """Refuse what is not a table at all; say whether `content` is an .xlsx workbook."""
    if len(content) > MAX_BYTES:
        raise reject(
            f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请拆分后导入",
            f"the file is larger than {MAX_BYTES // 1024 // 1024} MB; split it",
        )
    if not content.strip():
        raise reject("文件为空", "the file is empty")
    name = file_name.lower()
    if content.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise reject(
            "不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx",
            "the old .xls format is not supported; save the file as .xlsx in Excel",
        )
    if content.startswith(_ZIP_MAGIC):
        return True
    if name.endswith((".xlsx", ".xlsm")):
        raise reject("不是有效的 Excel (.xlsx) 文件", "not a valid Excel (.xlsx) file")
    return False


def _check_rows(sheet: Sheet) -> None:
    if not sheet.rows:
        raise reject("文件中没有数据", "the file has no rows")
    if len(sheet.rows) - 1 > MAX_ROWS:
        raise reject(
            f"数据超过 {MAX_ROWS} 行，请拆分后导入",
            f"more than {MAX_ROWS} data rows; split the file",
        )


def _read_xlsx(content: bytes, preferred_sheets: tuple[str, ...]) -> Sheet:
    return _read_xlsx_sheets(content, preferred_sheets)[0]


def _read_xlsx_sheets(content: bytes, preferred_sheets: tuple[str, ...] | None) -> list[Sheet]:
    """Read the first sheet named in `preferred_sheets` (else the first), or every sheet (None).

    A formula cell reads as its saved value; one with no saved value (the file was written by a
    program and never recalculated in Excel) reads as a `Formula`, so that it is named as one.
    """
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not affect values.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            formulas = (
                load_workbook(io.BytesIO(content), read_only=True, data_only=False)
                if _has_formulas(content)
                else None
            )
            try:
                names = book.sheetnames
                if preferred_sheets is None:
                    chosen = list(names)
                else:
                    chosen = [next((n for n in preferred_sheets if n in names), names[0])]
                sheets = []
                for name in chosen:
                    texts = formulas[name].iter_rows(values_only=True) if formulas else None
                    rows: list[tuple[int, list[object]]] = []
                    for number, values in enumerate(book[name].iter_rows(values_only=True), 1):
                        cells = list(values)
                        if texts is not None:
                            cells = _unsaved_formulas(cells, next(texts, ()))
                        if any(v is not None and str(v).strip() for v in cells):
                            rows.append((number, cells))
                        if len(rows) > MAX_ROWS + 1:
                            break
                    sheets.append(Sheet(rows=rows, name=name))
            finally:
                book.close()
                if formulas is not None:
                    formulas.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, IndexError):
        raise reject("不是有效的 Excel (.xlsx) 文件", "not a valid Excel (.xlsx) file") from None
    return sheets


def _has_formulas(content: bytes) -> bool:
    """Tell whether any worksheet of the .xlsx file holds a formula (most files hold none)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return any(
            _FORMULA_TAG.search(archive.read(name))
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        )


def _unsaved_formulas(values: list[object], texts: tuple[object, ...]) -> list[object]:
    """Mark the cells that are empty only because their formula has no saved value."""
    return [
        Formula(text)
        if value is None
        and i < len(texts)
        and isinstance(text := texts[i], str)
        and text.startswith("=")
        else value
        for i, value in enumerate(values)
    ]


def _decode(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise reject("不是 Excel (.xlsx) 或 CSV 文件", "not an Excel (.xlsx) or CSV file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise reject(
        "无法识别文件编码，请保存为 UTF-8 CSV 或 .xlsx",
        "cannot tell the text encoding; save as UTF-8 CSV or .xlsx",
    )


def _read_csv(content: bytes) -> Sheet:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows: list[tuple[int, list[object]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # one record is one spreadsheet row
            if any(cell.strip() for cell in cells):
                rows.append((number, [uncsv_text(cell) for cell in cells]))
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error as exc:
        raise _csv_error(str(exc), number + 1) from None
    return Sheet(rows=rows)


def _csv_error(message: str, record: int) -> ImportRejected:
    """Say what the csv module found wrong, in words for the person who made the file."""
    if "field larger than field limit" in message:
        limit = csv.field_size_limit()
        return reject(
            f"第 {record} 条记录中有超过 {limit} 个字符的单元格，不是表格文件？",
            f"record {record} has a cell longer than {limit} characters: is this a table?",
        )
    if "expected after" in message or "unexpected end of data" in message:
        return reject(
            f"CSV 格式错误：第 {record} 条记录的引号不匹配",
            f"malformed CSV: unbalanced quotes in record {record}",
        )
    return reject(
        f"CSV 格式错误（第 {record} 条记录）：{message}",
        f"malformed CSV (record {record}): {message}",
    )
