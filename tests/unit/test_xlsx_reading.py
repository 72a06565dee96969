"""Reading .xlsx files: formulas found while the sheet is read, and every broken archive refused
as "not a valid Excel file" (one file-level problem), never a library's exception."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from supply.core.errors import ImportRejected
from supply.core.sheets.read import Formula, _Counted, read_sheet, read_workbook

SHEET = "xl/worksheets/sheet1.xml"


def saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def two_sheets() -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "项目"
    first.append(["项目编号", "数量"])
    first.append(["P-1", 3])
    second = book.create_sheet("需求明细")
    second.append(["项目编号", "数量"])
    second.append(["P-1", "=SUM(B9:B10)"])  # openpyxl saves no value for it
    second.append([None, None, "=1+1"])  # a row of nothing but a formula without its value
    return saved(book)


def test_formulas_are_found_in_the_sheet_that_holds_them() -> None:
    projects, lines = read_workbook(two_sheets(), "book.xlsx")
    assert projects.rows == [(1, ["项目编号", "数量"]), (2, ["P-1", 3])]
    assert lines.rows == [
        (1, ["项目编号", "数量", None]),
        (2, ["P-1", Formula("=SUM(B9:B10)"), None]),
        (3, [None, None, Formula("=1+1")]),
    ]


def rewritten(content: bytes, **members: bytes | tuple[bytes, int]) -> bytes:
    """The archive with some members replaced: bytes, or (bytes, compression method)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data: bytes | tuple[bytes, int] = members.get(
                info.filename.replace("/", "_").replace(".", "_"), source.read(info.filename)
            )
            if isinstance(data, tuple):
                target.writestr(info.filename, data[0], compress_type=data[1])
            else:
                target.writestr(info.filename, data)
    return out.getvalue()


def corrupted_deflate(content: bytes) -> bytes:
    """The archive with the middle of the worksheet's compressed bytes overwritten."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo(SHEET)
    data = bytearray(content)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 2, start + info.compress_size - 2):
        data[i] = 0xFF
    return bytes(data)


def one_sheet() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["仓库编码", "物料编码", "库存数量"])
    sheet.append(["WH-WD", "DT-400", 2])
    return saved(book)


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(
            lambda c: rewritten(c, xl_worksheets_sheet1_xml=b"<worksheet><sheetData><row>"),
            id="worksheet-not-xml",
        ),
        pytest.param(lambda c: rewritten(c, xl_styles_xml=b"\x00" * 100), id="styles-not-xml"),
        pytest.param(corrupted_deflate, id="deflate-stream-corrupt"),
        pytest.param(
            lambda c: rewritten(
                c, xl_worksheets_sheet1_xml=(b"<worksheet/>" * 10, zipfile.ZIP_BZIP2)
            ),
            id="bzip2-member",  # not in .xlsx; bzip2 would unpack without bound in one read
        ),
    ],
)
def test_a_broken_archive_is_not_a_valid_excel_file(broken: object) -> None:
    content = broken(one_sheet())  # type: ignore[operator]
    with pytest.raises(ImportRejected) as caught:
        read_sheet(content, "x.xlsx")
    [problem] = caught.value.problems
    assert problem.row is None and problem.message_en == "not a valid Excel (.xlsx) file"


def test_a_member_read_past_its_declared_size_is_refused() -> None:
    # zipfile itself stops a member at the size the archive declares (and then fails its CRC);
    # the counter does not count on that.
    with zipfile.ZipFile(io.BytesIO(one_sheet())) as archive:
        stream = _Counted(archive.open(SHEET), declared=100, watched=None)
        assert len(stream.read(100)) == 100
        with pytest.raises(ImportRejected) as caught:
            stream.read(1)
    assert "too large once unpacked" in caught.value.problems[0].message_en
