"""Reading changes: a JSON list or the workbook sheet 变更 (Chinese or English headers, kinds in
Chinese or as codes), all or none, every bad item or row named with its field or column; the
template reads back as no change at all. Pure: no database."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from supply.core.errors import ImportRejected
from supply.whatif import read_changes, template_workbook
from supply.whatif.changes import (
    AgreementExhausted,
    StockChange,
    SupplierDelay,
    TransportDays,
    as_json,
    describe,
    located_changes,
)
from supply.whatif.files import no_changes
from tests.conftest import csv_bytes, xlsx_bytes

HEADER = ["类型", "对象", "物料编码", "终点", "数值", "说明"]


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_json_list_reads_as_its_changes_in_order() -> None:
    text = json.dumps(
        [
            {"kind": "supplier_delay", "supplier": "某电缆厂", "days": 5, "material": "CB10-300"},
            {"kind": "agreement_exhausted", "agreement": "SD-2026-01/2"},
            {"kind": "transport_days", "from": "WH-CENTRAL", "to": "huancui", "days": 4},
        ]
    )
    found = read_changes(text.encode(), "changes.json")
    assert [type(c.change) for c in found.changes] == [
        SupplierDelay,
        AgreementExhausted,
        TransportDays,
    ]
    assert [c.row for c in found.changes] == [1, 2, 3]
    assert found.changes[1].change.left == 0
    assert describe(found.changes[0].change) == (
        "供应商 某电缆厂 交货延迟 5 天（仅 CB10-300）",
        "supplier 某电缆厂 delivers 5 days late (only CB10-300)",
    )
    # Saved as JSON, they read back the same (a scenario replays them).
    assert as_json(located_changes(as_json(found.changes))) == as_json(found.changes)
    assert as_json(found.changes)[2]["from"] == "WH-CENTRAL"
    wrapped = read_changes(json.dumps({"changes": json.loads(text)}).encode(), "c.json")
    assert as_json(wrapped.changes) == as_json(found.changes)


def test_every_bad_json_item_is_named_with_its_field() -> None:
    text = json.dumps(
        [
            {"kind": "supplier_delay", "supplier": "", "days": 400},
            {"kind": "stock_change", "warehouse": "WH-WD", "material": "X", "quantity": "many"},
            {"kind": "agreement_expired", "agreement": "no line number"},
            {"kind": "warehouse_closed", "warehouse": "WH-WD", "colour": "red"},
            {"days": 3},
        ]
    )
    read = read_changes(text.encode(), "changes.json")
    assert read.changes == []
    found = [(p.row, p.column_en) for p in read.problems]
    assert found == [
        (1, "supplier"),
        (1, "days"),
        (2, "quantity"),
        (3, "agreement"),
        (4, "colour"),
        (5, ""),
    ]
    texts = [p.text for p in read.problems]
    assert texts[1].startswith("变更表 第 1 行 days: 应不大于 365")
    assert "没有这一项" in texts[4]
    assert "类型 kind 应为" in texts[5]


@pytest.mark.parametrize(
    "content",
    [b"not json at all {", b"[]", b'{"kind": "supplier_delay"}', json.dumps([{}] * 501).encode()],
)  # a file that is no list of changes at all: nothing else to check
def test_a_json_file_that_is_no_list_of_changes_is_refused_whole(content: bytes) -> None:
    with pytest.raises(ImportRejected) as refused:
        read_changes(content, "changes.json")
    assert len(refused.value.problems) >= 1


def test_the_sheet_reads_chinese_or_english_headers_and_kinds() -> None:
    rows: list[list[object]] = [
        HEADER,
        ["供应商延迟", "某电缆厂", None, None, "１０", "汉缆说会晚"],
        ["agreement_exhausted", "SD-2026-01/1", None, None, 3, None],
        ["库存增减", "WH-WD", "DT-400", None, -2, None],
        ["仓库关闭", "WH-WD", None, None, None, None],
        ["运输天数", "WH-CENTRAL", None, "huancui", 2, None],
    ]
    found = read_changes(xlsx_bytes(rows, title="变更"), "whatif.xlsx")
    kinds = [c.change.kind for c in found.changes]
    assert kinds == [
        "supplier_delay",
        "agreement_exhausted",
        "stock_change",
        "warehouse_closed",
        "transport_days",
    ]
    assert [c.row for c in found.changes] == [2, 3, 4, 5, 6] and found.changes[0].sheet
    assert found.changes[0].change.days == 10  # full-width digits, as typed
    assert found.changes[2].change == StockChange(
        kind="stock_change", warehouse="WH-WD", material="DT-400", quantity=-2
    )
    english = [["kind", "target", "material", "to", "value"], ["quota_change", "WH-WD", "DT-400",
               None, 0]]  # fmt: skip
    [only] = read_changes(csv_bytes(english), "changes.csv").changes
    assert only.change.kind == "quota_change" and only.change.quota == 0


def test_every_bad_row_is_named_by_row_and_column() -> None:
    rows: list[list[object]] = [
        HEADER,
        ["供应商延迟", "某电缆厂", None, None, None, None],  # no days
        ["瞬移", "WH-WD", None, None, 1, None],  # no such kind
        ["库存增减", "WH-WD", "DT-400", None, 1.5, None],  # not whole
        ["仓库关闭", "WH-WD", "DT-400", None, 3, None],  # takes neither
        ["运输天数", "WH-CENTRAL", None, None, 2, None],  # no to
        ["协议行失效", "SD-2026-01", None, None, None, None],  # no line number
        ["供应商延迟", "某电缆厂", None, None, 0, None],  # below 1
        ["供应商延迟", "某电缆厂", None, None, "很久", None],  # no number (named once)
        ["仓库关闭", "WH-WD", None, None, None, None],  # good
    ]
    read = read_changes(xlsx_bytes(rows, title="变更"), "whatif.xlsx")
    assert [c.row for c in read.changes] == [10]  # the good row; the what-if names the rest
    found = [(p.row, p.column_zh) for p in read.problems]
    assert found == [
        (2, "数值"),
        (3, "类型"),
        (4, "数值"),
        (5, "物料编码"),
        (5, "数值"),
        (6, "终点"),
        (7, "对象"),
        (8, "数值"),
        (9, "数值"),
    ]
    assert all(p.sheet_zh == "变更" for p in read.problems)
    assert (
        read.problems[0].text
        == "变更表 第 2 行 数值: 不能为空 / sheet changes row 2 value: is required"
    )
    assert "不是数字" in read.problems[-1].message_zh


def test_the_template_reads_back_as_no_change_and_holds_the_projects_sheets() -> None:
    content = template_workbook()
    assert load_workbook(io.BytesIO(content)).sheetnames == ["变更", "说明", "项目", "需求明细"]
    found = read_changes(content, "模板.xlsx")
    assert found.changes == []
    assert no_changes().problems[0].message_zh.startswith("没有变更")


def test_a_workbook_with_project_sheets_carries_them_for_extra_projects() -> None:
    content = workbook(
        {
            "变更": [HEADER, ["供应商延迟", "某电缆厂", None, None, 2, None]],
            "项目": [["项目编号", "项目名称"], ["P-9", "x"]],
            "需求明细": [["项目编号", "行号"], ["P-9", 1]],
        }
    )
    found = read_changes(content, "whatif.xlsx")
    assert len(found.changes) == 1 and set(found.projects) == {"projects", "lines"}
    with pytest.raises(ImportRejected, match="没有 变更 表"):
        read_changes(workbook({"别的": [["a"], [1]]}), "whatif.xlsx")
