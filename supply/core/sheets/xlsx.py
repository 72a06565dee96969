"""The .xlsx package itself, written as a stream: SpreadsheetML by hand, one sheet at a time.

`supply.core.sheets.write` decides what every cell is (text as text, money to the fen, the
totals); this module only puts cells into the parts of the package, as Excel writes them: a
worksheet's rows go straight into its compressed zip member as they come, so a province-sized
export is never held as millions of cell objects (a general-purpose writer spends ten times as
long on each cell). The strings are shared (one table for the workbook, as Excel keeps them);
every string is escaped for XML, and control characters as Excel escapes them (`_xHHHH_`), so no
text can become markup.

What the parts hold: a fixed set of cell styles (`STYLES`: general, #,##0, #,##0.00,
#,##0.00####, yyyy-mm-dd, each plain and bold, and a bold header with each fill asked for), a
frozen header row, column widths with their default style, an autofilter with the hidden name
Excel gives it, header notes (comments, drawn as Excel's legacy VML notes) and formulas with
their cached values.
"""

from __future__ import annotations

import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from xlsxwriter.utility import quote_sheetname, xl_col_to_name

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

# Cell styles (cellXfs indices) by the writer's column kinds; bold ones for the totals row.
STYLES = {"text": 1, "number": 1, "int": 2, "money": 3, "price": 4, "date": 5}
BOLD = {kind: style + 5 for kind, style in STYLES.items()}
_FORMATS = {164: "#,##0", 165: "#,##0.00", 166: "#,##0.00####", 167: "yyyy-mm-dd"}
_XF_FORMATS = (0, 164, 165, 166, 167)  # the plain and the bold styles' number formats
_FIRST_HEADER_FILL = 11  # the styles of headers with a fill follow the plain and bold ones

# Excel keeps strings to 32,767 UTF-16 units.
MAX_STRING = 32767
_ESCAPE_OF_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_LEADING_SPACE = re.compile(r"^\s")
_TRAILING_SPACE = re.compile(r"\s$")
_MARKUP = re.compile('[&<>"\n]')
# What a shared string may hold that `_si` must escape or mark: markup, a control character, a
# literal escape, a non-character, or whitespace at either end.
_NEEDS_CARE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")

# Header notes (comments): Excel's default box, 128 × 74 pixels, right of the cell.
_NOTE_WIDTH, _NOTE_HEIGHT, _ROW_PIXELS = 128, 74, 20
_EPOCH = date(1899, 12, 31).toordinal()


def escape(text: str) -> str:
    """Text escaped for XML character data."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def escape_attribute(text: str) -> str:
    """Text escaped for an XML attribute value."""
    if not _MARKUP.search(text):
        return text
    return (
        text.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "&#xA;")
    )


def excel_text(text: str) -> str:
    """A string as Excel stores it: at most 32,767 UTF-16 units (cut like Excel cuts it)."""
    if len(text) > MAX_STRING // 2 and len(text.encode("utf-16-le", "surrogatepass")) > 2 * (
        MAX_STRING
    ):
        units = 0
        for index, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > MAX_STRING:
                return text[:index]
    return text


def serial(day: date) -> int:
    """A day as Excel's serial number (1900 system, with Excel's 29 February 1900)."""
    number = day.toordinal() - _EPOCH
    return number + 1 if number > 59 else number


def column_width(chars: float) -> float:
    """A column width in characters as Excel stores it (7-pixel digits, 5 pixels of padding)."""
    if chars <= 0:
        return 0.0
    if chars < 1:
        return int(int(chars * 12 + 0.5) / 7 * 256) / 256
    return int((int(chars * 7 + 0.5) + 5) / 7 * 256) / 256


def _pixels(chars: float) -> int:
    return int(chars * 12 + 0.5) if chars < 1 else int(chars * 7 + 0.5) + 5


def _si(text: str) -> str:
    """A shared-string item: Excel's escapes for control characters, then XML's."""
    if not _NEEDS_CARE.search(text):  # nearly every string: written as it is
        return f"<si><t>{text}</t></si>"
    text = _excel_escapes(text)
    if _LEADING_SPACE.search(text) or _TRAILING_SPACE.search(text):
        return f'<si><t xml:space="preserve">{escape(text)}</t></si>'
    return f"<si><t>{escape(text)}</t></si>"


def _excel_escapes(text: str) -> str:
    """Control characters as Excel writes them in XML (`_x0001_`), and a literal `_x0041_`
    escaped in turn (`_x005F_x0041_`), so that what is read back is what was written."""
    if "_x" in text:
        text = _ESCAPE_OF_ESCAPE.sub(r"_x005F\1", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


@dataclass
class SheetStream:
    """One worksheet being written: `write` takes its rows' XML (`<row>` elements) in order;
    `shared` gives a string's index in the workbook's shared strings."""

    write: Callable[[str], None]
    shared: Callable[[str], int]


@dataclass
class _SheetPart:
    name: str
    last_cell: str  # the autofilter's corner, e.g. K51 (the name Excel gives it needs it)
    notes: bool


@dataclass
class Package:
    """An .xlsx package being written into `stream`: sheets one after another (`sheet`), then
    `close` writes the workbook, its styles and shared strings."""

    stream: IO[bytes]
    fills: Sequence[str] = ()  # header fills (#RRGGBB), in the order `header_style` numbers them
    compresslevel: int = 6
    _zip: zipfile.ZipFile = field(init=False)
    _strings: dict[str, int] = field(default_factory=dict, init=False)  # text → its index
    _items: list[str] = field(default_factory=list, init=False)  # the shared strings, in order
    _sheets: list[_SheetPart] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        # The index of a text if it is a shared string already: the writer's fast path.
        self.known: Callable[[str], int | None] = self._strings.get
        self._zip = zipfile.ZipFile(
            self.stream, "w", zipfile.ZIP_DEFLATED, compresslevel=self.compresslevel
        )

    def header_style(self, fill: str | None) -> int:
        """The style of a header cell: bold, with `fill` (one of `fills`) if given."""
        return BOLD["text"] if fill is None else _FIRST_HEADER_FILL + list(self.fills).index(fill)

    def shared(self, text: str) -> int:
        """The index of `text` in the shared strings (added if new; cut as Excel cuts it)."""
        index = self._strings.get(text)
        if index is None:
            stored = excel_text(text)
            index = self._strings.get(stored) if stored != text else None
            if index is None:
                index = self._strings[stored] = len(self._items)
                self._items.append(stored)
            self._strings[text] = index
        return index

    @contextmanager
    def sheet(
        self,
        name: str,
        *,
        rows: int,
        widths: Sequence[float],
        styles: Sequence[int],
        notes: dict[int, str],
        filter_rows: int | None,
    ) -> Iterator[SheetStream]:
        """Write a worksheet of `rows` rows (header and totals included) and len(`widths`)
        columns, each with its width in characters and default style; `notes` are comments on
        header cells by column; `filter_rows` the autofilter's last row (1-based), if any."""
        number = len(self._sheets) + 1
        selected = ' tabSelected="1"' if number == 1 else ""
        columns = len(widths)
        last = f"{xl_col_to_name(max(columns, 1) - 1)}{max(rows, 1)}"
        corner = f"{xl_col_to_name(columns - 1)}{filter_rows}" if filter_rows else ""
        self._sheets.append(_SheetPart(name, corner, bool(notes)))
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{column_width(w)}" style="{s}" customWidth="1"/>'
            for i, (w, s) in enumerate(zip(widths, styles, strict=True), start=1)
        )
        chunks: list[str] = []
        size = 0
        with (
            self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as part,
            _Compressor(part.write) as compress,
        ):

            def write(xml: str) -> None:
                nonlocal size
                chunks.append(xml)
                size += len(xml)
                if size > 1 << 20:  # a megabyte of text at a time into the compressor
                    compress("".join(chunks).encode())
                    chunks.clear()
                    size = 0

            write(
                f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
                f'<dimension ref="{_range(last)}"/>'
                f"<sheetViews><sheetView{selected} "
                'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
                '<sheetFormatPr defaultRowHeight="15"/>'
                + (f"<cols>{cols}</cols>" if cols else "")
                + "<sheetData>"
            )
            yield SheetStream(write=write, shared=self.shared)
            write(
                "</sheetData>"
                + (f'<autoFilter ref="{_range(corner)}"/>' if corner else "")
                + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                'footer="0.3"/>'
                + ('<legacyDrawing r:id="rId1"/>' if notes else "")
                + "</worksheet>"
            )
            compress("".join(chunks).encode())
        if notes:
            self._write_notes(number, notes, widths)

    def _write_notes(self, number: int, notes: dict[int, str], widths: Sequence[float]) -> None:
        comments = "".join(
            f'<comment ref="{xl_col_to_name(column)}1" authorId="0"><text><r><rPr><sz val="8"/>'
            f'<color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr>'
            f"<t{_space(note)}>{escape(note)}</t></r></text></comment>"
            for column, note in sorted((c, _excel_escapes(n)) for c, n in notes.items())
        )
        self._zip.writestr(
            f"xl/comments{number}.xml",
            f'{_XML}<comments xmlns="{_MAIN}"><authors><author>gridsupply</author></authors>'
            f"<commentList>{comments}</commentList></comments>",
        )
        pixels = [_pixels(w) for w in widths]
        shapes = "".join(
            _note_shape(1024 * number + n, n, column, pixels)
            for n, column in enumerate(sorted(notes), start=1)
        )
        self._zip.writestr(
            f"xl/drawings/vmlDrawing{number}.vml",
            '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{number}"/>'
            '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
            'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
            f"{shapes}</xml>",
        )
        self._zip.writestr(
            f"xl/worksheets/_rels/sheet{number}.xml.rels",
            _relationships(
                [
                    ("vmlDrawing", f"../drawings/vmlDrawing{number}.vml"),
                    ("comments", f"../comments{number}.xml"),
                ]
            ),
        )

    def close(self) -> None:
        """Write the workbook's own parts and finish the zip archive."""
        sheets = self._sheets
        count = len(sheets)
        names = "".join(
            f'<sheet name="{escape_attribute(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(sheets, start=1)
        )
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(quote_sheetname(s.name))}!$A$1:${_absolute(s.last_cell)}</definedName>"
            for i, s in enumerate(sheets)
            if s.last_cell
        )
        self._zip.writestr(
            "xl/workbook.xml",
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
            '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
            '<workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" '
            'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
            f"<sheets>{names}</sheets>"
            + (f"<definedNames>{filters}</definedNames>" if filters else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            _relationships(
                [("worksheet", f"worksheets/sheet{i}.xml") for i in range(1, count + 1)]
                + [("styles", "styles.xml"), ("sharedStrings", "sharedStrings.xml")]
            ),
        )
        self._zip.writestr("xl/styles.xml", _styles(self.fills))
        items = "".join(_si(text) for text in self._items)
        self._zip.writestr(
            "xl/sharedStrings.xml",
            f'{_XML}<sst xmlns="{_MAIN}" uniqueCount="{len(self._items)}">{items}</sst>',
        )
        self._zip.writestr(
            "_rels/.rels",
            f'{_XML}<Relationships xmlns="{_PKG_RELS}"><Relationship Id="rId1" '
            f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        self._zip.writestr("[Content_Types].xml", _content_types(sheets))
        self._zip.close()


class _Compressor:
    """Writes a zip member's chunks on a thread of its own: zlib compresses without holding
    the interpreter lock, so a sheet's next rows are made while its last ones are compressed
    (on a second core). At most two chunks wait; leaving waits for all and raises their error."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-compress")
        self._pending: deque[Future[object]] = deque()

    def __call__(self, data: bytes) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write, data))

    def __enter__(self) -> _Compressor:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown()


def _range(corner: str) -> str:
    """The range from A1 to `corner` as Excel writes it (a single cell alone)."""
    return "A1" if corner == "A1" else f"A1:{corner}"


def _absolute(cell: str) -> str:
    letters = cell.rstrip("0123456789")
    return f"{letters}${cell[len(letters) :]}"


def _space(text: str) -> str:
    return ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""


def _relationships(targets: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{_DOC_RELS}/{kind}" Target="{target}"/>'
        for i, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_XML}<Relationships xmlns="{_PKG_RELS}">{items}</Relationships>'


def _content_types(sheets: list[_SheetPart]) -> str:
    overrides = [("/xl/workbook.xml", f"{_CT}.sheet.main+xml")]
    overrides += [
        (f"/xl/worksheets/sheet{i}.xml", f"{_CT}.worksheet+xml") for i in range(1, len(sheets) + 1)
    ]
    overrides += [
        (f"/xl/comments{i}.xml", f"{_CT}.comments+xml")
        for i, s in enumerate(sheets, start=1)
        if s.notes
    ]
    overrides += [
        ("/xl/styles.xml", f"{_CT}.styles+xml"),
        ("/xl/sharedStrings.xml", f"{_CT}.sharedStrings+xml"),
    ]
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.'
        'vmlDrawing"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    )


def _styles(fills: Sequence[str]) -> str:
    formats = "".join(
        f'<numFmt numFmtId="{i}" formatCode="{code}"/>' for i, code in _FORMATS.items()
    )
    fill_parts = "".join(
        f'<fill><patternFill patternType="solid"><fgColor rgb="FF{f.lstrip("#").upper()}"/>'
        '<bgColor indexed="64"/></patternFill></fill>'
        for f in fills
    )

    def xf(number_format: int, bold: bool, fill: int = 0) -> str:
        applied = (' applyNumberFormat="1"' if number_format else "") + (
            ' applyFont="1"' if bold else ""
        )
        applied += ' applyFill="1"' if fill else ""
        return (
            f'<xf numFmtId="{number_format}" fontId="{int(bold)}" fillId="{fill}" borderId="0" '
            f'xfId="0"{applied}/>'
        )

    xfs = [xf(0, False)]
    xfs += [xf(n, False) for n in _XF_FORMATS]
    xfs += [xf(n, True) for n in _XF_FORMATS]
    xfs += [xf(0, True, 2 + i) for i in range(len(fills))]
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'  # no theme part: no theme colour
    return (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="{len(_FORMATS)}">{formats}</numFmts>'
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        f'<fills count="{2 + len(fills)}"><fill><patternFill patternType="none"/></fill>'
        f'<fill><patternFill patternType="gray125"/></fill>{fill_parts}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        f'borderId="0"/></cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
        'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
    )


def _note_shape(shape: int, z: int, column: int, pixels: Sequence[int]) -> str:
    """A header note's box as Excel draws it: from 15 pixels into the next column, 2 below the
    top of the sheet, 128 × 74 pixels (`pixels`: the columns' widths; a column past them is 64)."""

    def size(col: int) -> int:
        return pixels[col] if col < len(pixels) else 64

    start, x1, y1 = column + 1, 15, 2
    left = sum(size(c) for c in range(start)) + x1
    end, width = start, _NOTE_WIDTH + x1
    while width >= size(end):
        width -= size(end)
        end += 1
    row_end, height = 0, _NOTE_HEIGHT + y1
    while height >= _ROW_PIXELS:
        height -= _ROW_PIXELS
        row_end += 1
    style = (
        f"position:absolute;margin-left:{left * 0.75:.15g}pt;margin-top:{y1 * 0.75:.15g}pt;"
        f"width:{_NOTE_WIDTH * 0.75:.15g}pt;height:{_NOTE_HEIGHT * 0.75:.15g}pt;z-index:{z};"
        "visibility:hidden"
    )
    return (
        f'<v:shape id="_x0000_s{shape}" type="#_x0000_t202" style="{style}" '
        'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
        '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
        '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
        '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:Anchor>{start}, {x1}, 0, {y1}, {end}, {width}, {row_end}, {height}</x:Anchor>"
        f"<x:AutoFill>False</x:AutoFill><x:Row>0</x:Row><x:Column>{column}</x:Column>"
        "</x:ClientData></v:shape>"
    )
