"""Validating whole files without a database: every problem, with its row and column."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from catalogs.models import CatalogKind
from catalogs.parse import MaterialRef, ParseContext, parse_sheet
from supply.core.errors import ImportRejected
from supply.core.sheets.read import DEFAULT_MAX_BYTES, read_sheet
from supply.core.sheets.table import ParseResult

CONTEXT = ParseContext(
    materials={
        "DT-400": MaterialRef(unit="台", reserve_catalog=True, typical_lead_days=20),
        "JKLYJ-70": MaterialRef(
            unit="米", reserve_catalog=True, referenced=True, typical_lead_days=15
        ),
        "CB10-300": MaterialRef(unit="米", reserve_catalog=False, typical_lead_days=21),
    },
    warehouses=frozenset({"WH-CENTRAL", "WH-WD"}),
)


def parse(
    kind: CatalogKind, content: bytes, name: str = "file.xlsx", context: ParseContext = CONTEXT
) -> ParseResult:
    return parse_sheet(kind, read_sheet(content, name), context)


def texts(result: ParseResult) -> list[str]:
    return [p.text for p in result.problems]


def test_a_negative_quantity_names_its_row_and_column_in_chinese_then_english(
    make_xlsx: Callable[..., bytes],
) -> None:
    rows: list[list[object]] = [["仓库编码", "物料编码", "库存数量"]]
    rows += [[w, m, 1] for w in ("WH-CENTRAL", "WH-WD") for m in ("DT-400", "JKLYJ-70", "CB10-300")]
    rows[-1][2] = -3  # spreadsheet row 7
    result = parse(CatalogKind.RESERVE, make_xlsx(rows))
    assert texts(result) == ["第 7 行 库存数量: -3 不能为负 / row 7 quantity: must not be negative"]
    assert result.rows == []


def test_every_problem_of_every_row_is_reported_at_once(make_xlsx: Callable[..., bytes]) -> None:
    rows: list[list[object]] = [
        [
            "协议编号",
            "行号",
            "供应商",
            "物料编码",
            "单位",
            "协议单价",
            "预估数量",
            "有效期起",
            "有效期止",
            "交货地点",
        ],
        ["A-1", 1, "烟台某公司", "DT-400", "台", "41,000", 20, "2026-03-01", "2027-02-28", ""],
        [
            "A-1",
            2,
            "烟台某公司",
            "TR-999",
            "台",
            100,
            5,
            "2026-03-01",
            "2027-02-28",
            "",
        ],  # unknown material
        [
            "A-1",
            3,
            "烟台某公司",
            "JKLYJ-70",
            "台",
            100,
            5,
            "2026/3/1",
            "2027-02-28",
            "",
        ],  # wrong unit
        [
            "A-1",
            4,
            "",
            "CB10-300",
            "米",
            -1,
            "x",
            "2026-02-30",
            "2025-01-01",
            "WH-XX",
        ],  # five problems
        [
            "A-1",
            1,
            "烟台某公司",
            "CB10-300",
            "米",
            560,
            100,
            "2026-03-01",
            "2027-02-28",
            "",
        ],  # duplicate key
    ]
    result = parse(CatalogKind.AGREEMENTS, make_xlsx(rows))
    assert texts(result) == [
        "第 3 行 物料编码: 物料编码 TR-999 不在物料主数据中，请先导入物料 / row 3"
        " material_code: material TR-999 "
        "is not in the material master; import it first",
        "第 4 行 单位: 单位 台 与物料 JKLYJ-70 的计量单位 米 不符 / row 4"
        " unit: unit 台 does not match material "
        "JKLYJ-70, counted in 米",
        "第 5 行 供应商: 不能为空 / row 5 supplier: is required",
        "第 5 行 协议单价: -1 不能为负 / row 5 unit_price: must not be negative",
        "第 5 行 预估数量: x 不是数字 / row 5 estimated_quantity: 'x' is not a number",
        "第 5 行 有效期起: 2026-02-30 不是有效日期 / row 5 valid_from:"
        " '2026-02-30' is not a real calendar date",
        "第 5 行 交货地点: 仓库 WH-XX 不存在，请先导入仓库 / row 5"
        " delivery_warehouse_id: warehouse WH-XX does not "
        "exist; import the warehouses first",
        "第 6 行: 与第 2 行重复（A-1, 1），请删除或合并 / row 6: duplicates"
        " row 2 (A-1, 1); remove or merge one",
    ]
    assert result.rows == []


def test_headers_in_english_with_units_and_full_width_are_recognised(
    make_csv: Callable[..., bytes],
) -> None:
    rows = [
        ["Warehouse_ID", "ＭＡＴＥＲＩＡＬ＿ＣＯＤＥ", "unit", "库存数量（台）", "备注"],
        ["WH-WD", "JKLYJ-70", "千米", "1.5", "note"],
        ["WH-WD", "DT-400", "", "1,234", ""],
    ]
    result = parse(CatalogKind.RESERVE, make_csv(rows), "stock.csv")
    assert result.problems == []
    assert [r.values for r in result.rows] == [
        {"warehouse_id": "WH-WD", "material_code": "JKLYJ-70", "quantity": 1500},
        {"warehouse_id": "WH-WD", "material_code": "DT-400", "quantity": 1234},
    ]
    assert result.ignored_columns == ["备注"]


def test_a_quantity_that_is_not_whole_in_base_units_is_refused(
    make_xlsx: Callable[..., bytes],
) -> None:
    rows = [["仓库编码", "物料编码", "单位", "库存数量"], ["WH-WD", "JKLYJ-70", "千米", "0.0005"]]
    assert texts(parse(CatalogKind.RESERVE, make_xlsx(rows))) == [
        "第 2 行 库存数量: 数量必须是 米 的整数（0.0005 千米 = 0.5 米） / row 2"
        " quantity: must be a whole number "
        "of 米 (0.0005 千米 = 0.5 米)"
    ]


def test_a_fraction_of_the_base_unit_itself_says_what_was_given(
    make_xlsx: Callable[..., bytes],
) -> None:
    rows = [["仓库编码", "物料编码", "库存数量"], ["WH-WD", "CB10-300", "2.50"]]
    assert texts(parse(CatalogKind.RESERVE, make_xlsx(rows))) == [
        "第 2 行 库存数量: 数量必须是 米 的整数（填写的是 2.5 米） / row 2 quantity: must be a "
        "whole number of 米 (2.5 米 given)"
    ]


def test_a_formula_without_a_saved_value_is_named_as_a_formula() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["仓库编码", "物料编码", "库存数量"])
    sheet.append(["WH-WD", "DT-400", "=SUM(D2:D9)"])  # openpyxl saves no value for it
    sheet.append(["WH-WD", "CB10-300", 4])
    buffer = io.BytesIO()
    book.save(buffer)
    result = parse(CatalogKind.RESERVE, buffer.getvalue())
    assert texts(result) == [
        "第 2 行 库存数量: 是公式（=SUM(D2:D9)），请填写数值 / row 2 quantity: is a formula "
        "(=SUM(D2:D9)) with no saved value; enter the value, or open the file in Excel and save it"
    ]


def test_a_formula_with_its_saved_value_reads_as_the_value() -> None:
    # As Excel saves it: the formula and its cached value (<f> and <v>) in one cell.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["仓库编码", "物料编码", "库存数量"])
    sheet.append(["WH-WD", "DT-400", "=1+1"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = parts[sheet_xml].replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
    assert b"<v>2</v>" in parts[sheet_xml]
    saved = io.BytesIO()
    with zipfile.ZipFile(saved, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    result = parse(CatalogKind.RESERVE, saved.getvalue())
    assert result.problems == [] and result.rows[0].values["quantity"] == 2


def test_missing_and_wrong_headers_are_all_listed(make_xlsx: Callable[..., bytes]) -> None:
    result = parse(CatalogKind.RESERVE, make_xlsx([["foo", "bar"], [1, 2]]))
    assert [(p.row, p.column_en) for p in result.problems] == [
        (1, "warehouse_id"),
        (1, "material_code"),
        (1, "quantity"),
        (1, ""),
    ]
    assert "the first row must be the header" in result.problems[-1].message_en


def test_empty_rows_are_skipped_but_rows_keep_their_spreadsheet_numbers(
    make_xlsx: Callable[..., bytes],
) -> None:
    rows: list[list[object]] = [
        ["仓库编码", "物料编码", "库存数量"],
        ["WH-WD", "DT-400", 1],
        [None, None, None],
        ["", "", ""],
        ["WH-WD", "CB10-300", "-5"],
    ]
    assert [p.row for p in parse(CatalogKind.RESERVE, make_xlsx(rows)).problems] == [5]


def test_a_header_below_title_rows_counts_from_its_own_row(make_xlsx: Callable[..., bytes]) -> None:
    rows: list[list[object]] = [
        [],
        ["仓库编码", "物料编码", "库存数量"],
        ["WH-WD", "DT-400", "abc"],
    ]
    assert [p.row for p in parse(CatalogKind.RESERVE, make_xlsx(rows)).problems] == [3]


def test_materials_convert_kilometres_and_prices_to_metres(make_xlsx: Callable[..., bytes]) -> None:
    rows = [
        [
            "code",
            "name_zh",
            "unit",
            "voltage_class",
            "standard_price",
            "reserve_catalog",
            "emergency_lead_days",
            "emergency_premium_pct",
        ],
        ["JKLYJ-70", "导线", "km", "10kV", "8,650.55", "Y", 25, "25%"],
    ]
    result = parse(CatalogKind.MATERIALS, make_xlsx(rows), context=ParseContext())
    assert result.problems == []
    values = result.rows[0].values
    assert (values["unit"], values["standard_price"]) == ("米", Decimal("8.65055"))
    assert values["reserve_catalog"] is True and values["emergency_premium_pct"] == 25


def test_a_material_in_use_cannot_change_its_unit(make_xlsx: Callable[..., bytes]) -> None:
    rows = [
        [
            "物料编码",
            "物料名称",
            "计量单位",
            "电压等级",
            "标准单价",
            "紧急采购周期(天)",
            "紧急采购溢价(%)",
        ],
        ["JKLYJ-70", "导线", "台", "10kV", 8000, 25, 25],  # referenced, counted in 米
        ["DT-400", "变压器", "只", "10kV", 45000, 30, 30],  # not referenced: may change
    ]
    result = parse(CatalogKind.MATERIALS, make_xlsx(rows))
    assert [(p.row, p.column_en) for p in result.problems] == [(2, "unit")]
    assert (
        "already has stock, quotas, agreements or consignment counted in 米"
        in result.problems[0].message_en
    )


def test_agreement_defaults_band_delivery_site_and_lead_time(
    make_xlsx: Callable[..., bytes],
) -> None:
    rows = [
        ["协议编号", "行号", "供应商", "物料编码", "协议单价", "预估数量", "有效期起", "有效期止"],
        ["A-1", 1, "青岛某公司", "DT-400", 41000, 20, date(2026, 3, 1), "2027年2月28日"],
    ]
    values = parse(CatalogKind.AGREEMENTS, make_xlsx(rows)).rows[0].values
    assert values["band_low_pct"] == 80 and values["band_high_pct"] == 120
    assert values["delivery_warehouse_id"] == "WH-CENTRAL"
    assert values["lead_days"] == 20  # the material's typical lead time
    assert values["ordered_quantity"] == 0
    assert (values["valid_from"], values["valid_to"]) == (date(2026, 3, 1), date(2027, 2, 28))


def test_agreement_band_and_validity_must_make_sense(make_xlsx: Callable[..., bytes]) -> None:
    rows = [
        [
            "协议编号",
            "行号",
            "供应商",
            "物料编码",
            "协议单价",
            "预估数量",
            "执行下限(%)",
            "执行上限(%)",
            "有效期起",
            "有效期止",
        ],
        ["A-1", 1, "青岛某公司", "DT-400", 41000, 20, 110, 90, "2026-03-01", "2026-01-01"],
    ]
    assert [p.column_en for p in parse(CatalogKind.AGREEMENTS, make_xlsx(rows)).problems] == [
        "band_high_pct",
        "valid_to",
    ]


def test_quota_files_hold_one_year_of_reserve_catalog_materials(
    make_xlsx: Callable[..., bytes],
) -> None:
    rows: list[list[object]] = [
        ["年度", "仓库编码", "物料编码", "储备定额"],
        [2026, "WH-WD", "DT-400", 3],
        [2027, "WH-WD", "JKLYJ-70", 3000],
        [2026, "WH-WD", "CB10-300", 500],  # not a reserve-catalog material
    ]
    result = parse(CatalogKind.QUOTAS, make_xlsx(rows))
    assert [(p.row, p.column_en) for p in result.problems] == [(3, "year"), (4, "material_code")]
    assert "one year's quotas only (2026 above, 2027 here)" in result.problems[0].message_en


def test_transport_from_a_place_to_itself_takes_no_days(make_xlsx: Callable[..., bytes]) -> None:
    rows = [
        ["起点", "终点", "运输天数"],
        ["lingang", "lingang", 1],
        ["lingang", "rushan", 1],
        ["rushan", "x y", 400],
    ]
    result = parse(CatalogKind.TRANSPORT, make_xlsx(rows))
    assert [(p.row, p.column_en) for p in result.problems] == [
        (2, "days"),
        (4, "to_location"),
        (4, "days"),
    ]


def test_csv_saved_by_chinese_excel_in_gb18030_is_read(make_csv: Callable[..., bytes]) -> None:
    rows = [
        ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
        ["WH-WD", "文登周转库", "县级周转库", "wendeng"],
    ]
    result = parse(CatalogKind.WAREHOUSES, make_csv(rows, encoding="gb18030"), "w.csv")
    assert result.rows[0].values == {
        "id": "WH-WD",
        "name": "文登周转库",
        "level": "county",
        "location": "wendeng",
    }


def test_tab_separated_text_is_read() -> None:
    content = "起点\t终点\t运输天数\nlingang\trushan\t1\n".encode()
    assert parse(CatalogKind.TRANSPORT, content, "t.txt").rows[0].values["days"] == 1


def test_the_sheet_named_for_the_kind_is_preferred() -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "说明"
    first.append(["这是说明页"])
    book.create_sheet("实物库存").append(["仓库编码", "物料编码", "库存数量"])
    book["实物库存"].append(["WH-WD", "DT-400", 2])
    buffer = io.BytesIO()
    book.save(buffer)
    sheet = read_sheet(buffer.getvalue(), "x.xlsx", preferred_sheets=("实物库存",))
    assert sheet.name == "实物库存" and len(sheet.rows) == 2


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (b"", "a.xlsx", "the file is empty"),
        (b"   \n\n", "a.csv", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "not an Excel (.xlsx) or CSV file"),
        (b"PK\x03\x04 this is not really a zip", "a.xlsx", "not a valid Excel (.xlsx) file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "old .xls format"),
        (b"hello", "a.xlsx", "not a valid Excel (.xlsx) file"),
        (b'a,"b\n', "a.csv", "unbalanced quotes in record 1"),
        (b"#" * 200_000, "hashes.csv", "record 1 has a cell longer than"),
        (b"x" * (DEFAULT_MAX_BYTES + 1), "big.csv", "larger than 20 MB"),
    ],
)
def test_files_that_are_not_tables_are_rejected_with_one_clear_problem(
    content: bytes, name: str, fragment: str
) -> None:
    with pytest.raises(ImportRejected) as caught:
        read_sheet(content, name)
    [problem] = caught.value.problems
    assert problem.row is None and fragment in problem.message_en
    assert problem.text.startswith("文件: ")
