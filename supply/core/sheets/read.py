"""Reading an uploaded file into rows of cells: .xlsx or CSV, numbered as a spreadsheet shows.

Pure: bytes in, rows out. Anything that is not a readable table ends in `ImportRejected` with one
file-level problem that says what to do, never in a library's exception.

An .xlsx file is a zip archive, and a small one can unpack to gigabytes (a zip bomb). What its
members declare is checked before anything is unpacked: at most `MAX_UNPACKED_BYTES` in all, at
most `MAX_PART_BYTES` for any member but a worksheet (openpyxl streams worksheets, and holds the
other parts whole), only the stored and deflate methods .xlsx uses. Every byte openpyxl then reads
passes through a counter that stops a member at the size it declared. A worksheet is read once; a
second pass, for the formula texts, is made only for a sheet whose XML was seen to hold a formula.

The values are read by python-calamine (Rust, some 20 times faster than openpyxl) once every
member has been unpacked through that counter within its declared size, and when no formula of
the workbook lacks its saved value (`_fast_sheets`); otherwise, and for anything calamine cannot
read, by openpyxl as above. Both give the same rows: numbers whole where they are whole, dates as
datetimes, empty cells as None.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Literal, cast

from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.exceptions import InvalidFileException
from python_calamine import CalamineWorkbook

from supply.core.errors import ImportRejected, RowProblem
from supply.core.text import uncsv_text


@dataclass(frozen=True, slots=True)
class Formula:
    """A cell holding a formula whose value was never saved (the file was written by a program,
    not recalculated and saved in Excel): there is no value to read."""

    text: str

    def __str__(self) -> str:
        return self.text


# The file size the callers pass by default: GRIDSUPPLY_MAX_UPLOAD_BYTES's default. The HTTP API
# and the command line pass the setting (`max_bytes`); this module reads no settings.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# Excel's last row: a row numbered past it is no spreadsheet's (and would be reached through
# millions of empty rows).
EXCEL_ROWS = 1_048_576
# Room for MAX_ROWS rows of about 100 columns; a workbook of real data unpacks to about 8 times
# its size, so a 20 MB file to some 160 MB.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# Styles, shared strings, relations …: parsed whole into memory (a real one is a few MB at most).
MAX_PART_BYTES = 32 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a <f> element in a worksheet's XML
_TAG_SPAN = 64  # longer than any <prefix:f of a real file
# A formula with no saved value: a <f> that closes its cell, or an empty <v>.
_UNSAVED = re.compile(
    rb"</(?:\w+:)?f>\s*</(?:\w+:)?c>|<(?:\w+:)?f\b[^>]*/>\s*</(?:\w+:)?c>"
    rb"|<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>"
)
_CHUNK = 1 << 20
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")


@dataclass(frozen=True, slots=True)
class Sheet:
    """The non-empty rows of a table, each with its spreadsheet row number (header = first)."""

    rows: list[tuple[int, list[object]]]
    name: str = ""


def reject(zh: str, en: str) -> ImportRejected:
    """Build the error for a file that cannot be read as a table at all."""
    problem = RowProblem(None, "", "", zh, en)
    return ImportRejected(f"文件无法导入 / file rejected: {en}", [problem])


def read_sheet(
    content: bytes,
    file_name: str,
    *,
    preferred_sheets: tuple[str, ...] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Sheet:
    """Read the table in an .xlsx or .csv file of at most `max_bytes`; pick the first sheet named
    in `preferred_sheets`."""
    if _is_xlsx(content, file_name, max_bytes):
        sheet = _read_xlsx_sheets(content, preferred_sheets)[0]
    else:
        sheet = _read_csv(content)
    _check_rows(sheet)
    return sheet


def read_workbook(
    content: bytes, file_name: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Sheet]:
    """Read every sheet of an .xlsx workbook, or the one table of a CSV file, each by its name.

    Empty sheets are left out; a file with no rows at all, or over `max_bytes`, is rejected. A
    CSV table has no name.
    """
    if not _is_xlsx(content, file_name, max_bytes):
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


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def _is_xlsx(content: bytes, file_name: str, max_bytes: int) -> bool:
    """Refuse what is not a table at all; say whether `content` is an .xlsx workbook."""
    if len(content) > max_bytes:
        shown = _size(max_bytes)
        raise reject(
            f"文件超过 {shown}，请拆分后导入", f"the file is larger than {shown}; split it"
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
        raise _not_xlsx()
    return False


def _not_xlsx() -> ImportRejected:
    return reject("不是有效的 Excel (.xlsx) 文件", "not a valid Excel (.xlsx) file")


def _too_large() -> ImportRejected:
    total, part = _size(MAX_UNPACKED_BYTES), _size(MAX_PART_BYTES)
    return reject(
        f"文件解压后过大（工作簿解压后最多 {total}，工作表以外的单个部分最多 {part}），请拆分后导入",
        f"the workbook is too large once unpacked (at most {total} in all, {part} for a part "
        "other than a worksheet); split it",
    )


def _check_rows(sheet: Sheet) -> None:
    if not sheet.rows:
        raise reject("文件中没有数据", "the file has no rows")
    if len(sheet.rows) - 1 > MAX_ROWS:
        raise reject(
            f"数据超过 {MAX_ROWS} 行，请拆分后导入",
            f"more than {MAX_ROWS} data rows; split the file",
        )


def _chosen(names: list[str], preferred_sheets: tuple[str, ...] | None) -> list[str]:
    if preferred_sheets is None:
        return list(names)
    return [next((n for n in preferred_sheets if n in names), names[0])]


def _fast_sheets(content: bytes, preferred_sheets: tuple[str, ...] | None) -> list[Sheet] | None:
    """The sheets read by python-calamine, or None when openpyxl must read them (a formula with
    no saved value, or anything calamine cannot read). Every member is unpacked through the
    counter first, so a workbook lying about its sizes is refused here as there."""
    try:
        archive = _CappedZip(io.BytesIO(content))
        _check_unpacked(archive)
        for info in archive.infolist():
            with archive.open(info) as member:
                tail = b""
                while data := member.read(_CHUNK):
                    if _WORKSHEET.match(info.filename) and _UNSAVED.search(tail + data):
                        return None
                    tail = data[-_TAG_SPAN:]
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheets = []
        for name in _chosen(book.sheet_names, preferred_sheets):
            values = book.get_sheet_by_name(name).to_python(
                skip_empty_area=False, nrows=EXCEL_ROWS + 1
            )
            sheets.append(Sheet(rows=_filled_rows(map(_as_openpyxl, values)), name=name))
        return sheets
    except ImportRejected:
        raise
    except Exception:  # openpyxl reads it, or says why it cannot
        return None


def _as_openpyxl(cells: Sequence[object]) -> list[object]:
    """A row as openpyxl reads it: whole numbers as int, dates as datetimes, empty as None."""
    row = list(cells)
    for i, value in enumerate(row):
        kind = type(value)
        if kind is str:
            if not value:
                row[i] = None
        elif kind is float:
            if value.is_integer() and -(2**53) < value < 2**53:  # type: ignore[attr-defined, operator]
                row[i] = int(value)  # type: ignore[call-overload]
        elif kind is date:
            row[i] = datetime(value.year, value.month, value.day)  # type: ignore[attr-defined]
    return row


def _read_xlsx_sheets(content: bytes, preferred_sheets: tuple[str, ...] | None) -> list[Sheet]:
    """Read the first sheet named in `preferred_sheets` (else the first), or every sheet (None).

    A formula cell reads as its saved value; one with no saved value (the file was written by a
    program and never recalculated in Excel) reads as a `Formula`, so that it is named as one.
    """
    fast = _fast_sheets(content, preferred_sheets)
    if fast is not None:
        return fast
    formulas: Workbook | None = None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not affect values.
            warnings.simplefilter("ignore")
            book, archive = _open_book(content, data_only=True)
            try:
                sheets = []
                for name in _chosen(book.sheetnames, preferred_sheets):
                    archive.formula_seen = False
                    rows = _filled_rows(book[name].iter_rows(values_only=True))
                    if archive.formula_seen and len(rows) <= MAX_ROWS + 1:
                        if formulas is None:
                            formulas, _ = _open_book(content, data_only=False)
                        texts = formulas[name].iter_rows(values_only=True)
                        rows = _with_unsaved_formulas(rows, texts)
                    sheets.append(Sheet(rows=rows, name=name))
            finally:
                book.close()
                if formulas is not None:
                    formulas.close()
    except (
        zipfile.BadZipFile,
        zlib.error,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        IndexError,
        SyntaxError,  # XML that does not parse (ElementTree's ParseError, lxml's XMLSyntaxError)
    ):
        raise _not_xlsx() from None
    return sheets


def _open_book(content: bytes, *, data_only: bool) -> tuple[Workbook, _CappedZip]:
    """Load a workbook read-only, with every part openpyxl reads passing through `_CappedZip`."""
    archive = _CappedZip(io.BytesIO(content))
    _check_unpacked(archive)
    # `load_workbook` is these two calls with an archive of openpyxl's own making.
    reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=data_only, keep_links=False)
    reader.archive.close()
    reader.archive = archive
    reader.read()
    return reader.wb, archive


def _check_unpacked(archive: zipfile.ZipFile) -> None:
    """Refuse an archive whose members declare more than a workbook unpacks to, or that uses
    what .xlsx does not (bzip2 or lzma could unpack without bound in one read; encryption)."""
    total = 0
    for info in archive.infolist():
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _not_xlsx()
        if info.flag_bits & 0x1:  # an encrypted member; Excel encrypts a whole file differently
            raise _not_xlsx()
        total += info.file_size
        part = MAX_UNPACKED_BYTES if _WORKSHEET.match(info.filename) else MAX_PART_BYTES
        if info.file_size > part or total > MAX_UNPACKED_BYTES:
            raise _too_large()


class _CappedZip(zipfile.ZipFile):
    """The archive as openpyxl reads it: a member read stops at the size it declared, and the XML
    of worksheets is watched for formulas on the way (`formula_seen`)."""

    formula_seen = False

    def open(  # type: ignore[override]
        self,
        name: str | zipfile.ZipInfo,
        mode: Literal["r", "w"] = "r",
        pwd: bytes | None = None,
        *,
        force_zip64: bool = False,
    ) -> IO[bytes]:
        """Open a member; for reading, through a `_Counted` stream."""
        stream = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return stream
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        watched = self if _WORKSHEET.match(info.filename) else None
        return cast(IO[bytes], _Counted(stream, declared=info.file_size, watched=watched))


class _Counted(io.RawIOBase):
    """A member's bytes as they are unpacked: counted against the size the member declared (one
    that yields more lied about it), and searched for a formula if `watched`."""

    def __init__(self, stream: IO[bytes], *, declared: int, watched: _CappedZip | None) -> None:
        super().__init__()
        self._stream = stream
        self._left = declared
        self._watched = watched
        self._tail = b""

    def readable(self) -> bool:
        """Say that this stream reads."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read the next bytes into `buffer`; refuse the workbook past the declared size."""
        data = self._stream.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise _too_large()
        watched = self._watched
        if watched is not None and not watched.formula_seen and data:
            # The tail of the previous chunk: a tag may straddle two of them.
            watched.formula_seen = bool(_FORMULA_TAG.search(self._tail + data))
            self._tail = data[-_TAG_SPAN:]
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the member's stream."""
        self._stream.close()
        super().close()


def _filled(cells: list[object]) -> bool:
    return any(v is not None and str(v).strip() for v in cells)


def _filled_rows(values: Iterable[Sequence[object]]) -> list[tuple[int, list[object]]]:
    """The non-empty rows with their numbers, at most MAX_ROWS + 2 (enough to refuse a file)."""
    rows: list[tuple[int, list[object]]] = []
    for number, cells in enumerate(values, 1):
        if number > EXCEL_ROWS:
            raise reject(
                f"不是有效的 Excel (.xlsx) 文件：行号超过 {EXCEL_ROWS:,}",
                f"not a valid Excel (.xlsx) file: a row is numbered past {EXCEL_ROWS:,}",
            )
        if _filled(list(cells)):
            rows.append((number, list(cells)))
            if len(rows) > MAX_ROWS + 1:
                break
    return rows


def _with_unsaved_formulas(
    rows: list[tuple[int, list[object]]], texts: Iterable[tuple[object, ...]]
) -> list[tuple[int, list[object]]]:
    """Mark, in `rows` read for their values, the cells that are empty only because their formula
    (in `texts`, the sheet read for formulas) has no saved value; a row of nothing else returns."""
    by_number = dict(rows)
    for number, row_texts in enumerate(texts, 1):
        if number > EXCEL_ROWS:
            break
        if any(isinstance(text, str) and text.startswith("=") for text in row_texts):
            values = list(by_number.get(number, ()))
            values += [None] * (len(row_texts) - len(values))
            by_number[number] = _unsaved_formulas(values, row_texts)
    return [(n, cells) for n, cells in sorted(by_number.items()) if _filled(cells)]


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
