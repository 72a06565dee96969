"""Reading the project workbook: cells, every problem with sheet, row and column; round trips."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from catalogs.export import write_table, write_workbook
from catalogs.parse import MaterialRef
from supply.calendar import default_calendar
from supply.core.errors import RowProblem
from supply.core.money import MAX_AMOUNT
from supply.core.sheets.cells import CellError
from supply.core.sheets.read import read_workbook
from supply.core.units import MAX_QUANTITY
from supply.policy import DeadlinePolicy, ProjectType
from supply.projects.files import (
    LINES,
    PACKAGES,
    PROJECTS,
    SheetKind,
    read_priority,
    read_project_type,
    spec_for_sheet,
)
from supply.projects.workbook import (
    StoredLine,
    StoredProject,
    WorkbookContext,
    WorkbookResult,
    parse_workbook,
)

CALENDAR = default_calendar()
CONTEXT = WorkbookContext(
    materials={
        "DT-400": MaterialRef(unit="台"),
        "JKLYJ-70": MaterialRef(unit="米"),
        "MTR-1P": MaterialRef(unit="只"),
        "SVG-1": MaterialRef(unit="台"),
    },
    catalogued=frozenset({"DT-400", "JKLYJ-70", "MTR-1P"}),
    locations=frozenset({"huancui", "wendeng", "rongcheng"}),
    packages=frozenset({"PK-OLD"}),
)

PROJECT_HEADER = ["项目编号", "项目名称", "工程类型", "所在地点", "行政审批日期", "项目包编号"]
LINE_HEADER = ["项目编号", "行号", "物料编码", "单位", "需求数量", "可研已列明"]


def book(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for index, (name, rows) in enumerate(sheets.items()):
        sheet = first if index == 0 else workbook.create_sheet()
        sheet.title = name
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse(content: bytes, context: WorkbookContext = CONTEXT) -> WorkbookResult:
    sheets = {}
    for table in read_workbook(content, "projects.xlsx"):
        spec = spec_for_sheet(table.name)
        assert spec is not None, table.name
        sheets[spec.kind] = table
    return parse_workbook(sheets, context, calendar=CALENDAR, policy=DeadlinePolicy())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("lv_extension", "lv_extension"),
        ("表前线/低压分支线延伸", "lv_extension"),
        ("低压分支线", "lv_extension"),
        ("增容台区", "area_capacity_increase"),
        ("新建台区", "area_new"),
        ("10千伏工程", "mv_10kv"),
        ("10kV工程", "mv_10kv"),
        ("１０千伏有土建工程", "mv_10kv_civil"),
        ("35kV", "hv_35kv"),
        ("110千伏工程", "hv_110kv"),
        ("HV_110KV", "hv_110kv"),
    ],
)
def test_project_types_are_read_in_chinese_or_english(text: str, kind: str) -> None:
    assert read_project_type(text) == kind


def test_an_unknown_project_type_lists_the_valid_ones() -> None:
    with pytest.raises(CellError) as caught:
        read_project_type("变电站")
    assert "新建台区" in caught.value.zh and "lv_extension" in caught.value.en


@pytest.mark.parametrize(
    ("text", "priority"),
    [("一般", "normal"), ("否", "normal"), ("市级重点", "city_key"), ("省重点", "provincial_key")],
)
def test_priorities_are_read_in_chinese_or_english(text: str, priority: str) -> None:
    assert read_priority(text) == priority
    with pytest.raises(CellError):
        read_priority("很重要")


def test_sheets_are_recognised_by_chinese_or_english_name() -> None:
    assert spec_for_sheet("项目") is PROJECTS
    assert spec_for_sheet("Projects") is PROJECTS
    assert spec_for_sheet("需求明细") is LINES and spec_for_sheet("demand_lines") is LINES
    assert spec_for_sheet("项目包") is PACKAGES
    assert spec_for_sheet("Sheet1") is None


def test_a_good_workbook_gives_packages_projects_and_lines_with_derived_dates() -> None:
    content = book(
        {
            "项目包": [
                ["项目包编号", "项目包名称", "年度", "预算(元)"],
                ["PK-1", "包一", 2026, "1,200,000.50"],
            ],
            "项目": [
                [*PROJECT_HEADER, "重点工程"],
                ["P-1", "新建台区甲", "新建台区", "huancui", "2026-09-28", "PK-1", "市级重点"],
                ["P-2", "低压接入乙", "表前线", "wendeng", date(2026, 11, 27), "PK-OLD", None],
            ],
            "需求明细": [
                LINE_HEADER,
                ["P-1", 1, "JKLYJ-70", "千米", "1.95", None],
                ["P-1", 2, "SVG-1", "台", 1, "是"],
                ["P-2", 1, "MTR-1P", None, 4, None],
            ],
        }
    )
    result = parse(content)
    assert result.problems == []
    [package] = [r.values for r in result.rows[SheetKind.PACKAGES]]
    assert package["budget"] == Decimal("1200000.50") and package["kind"] == ""
    first, second = (r.values for r in result.rows[SheetKind.PROJECTS])
    assert (first["deadline"], first["need_by"], first["voltage_class"]) == (
        date(2026, 10, 23),
        date(2026, 10, 16),
        "10kV",
    )
    assert first["priority"] == "city_key" and second["priority"] == "normal"
    assert second["voltage_class"] == "0.4kV"
    lines = [r.values for r in result.rows[SheetKind.LINES]]
    assert lines[0]["quantity"] == 1950  # 1.95 千米, stored in metres
    assert lines[1]["feasibility_listed"] is True
    assert "unit" not in lines[2] and lines[2]["quantity"] == 4


def test_every_problem_is_named_with_its_sheet_row_and_column() -> None:
    content = book(
        {
            "项目": [
                PROJECT_HEADER,
                ["P-1", "甲", "新建台区", "mars", "2026-09-28", "PK-NONE"],
                ["P-2", "乙", "35kV", "huancui", "2026-11-02", None],
                ["P-1", "丙", "表前线", "huancui", "2026-12-28", None],
            ],
            "需求明细": [
                LINE_HEADER,
                ["P-1", 1, "SVG-1", "台", 1, None],
                ["P-9", 2, "TR-999", None, 3, None],
                ["P-2", 0, "DT-400", "米", 0, None],
            ],
        }
    )
    texts = [p.text for p in parse(content).problems]
    assert texts == [
        "项目表 第 2 行 所在地点: 地点 mars 不在运输天数表中，请先在运输天数表中补充从各仓库到此地点的天数"
        " / sheet projects row 2 location: location mars has no transport days from any "
        "warehouse; add them to the transport table first",
        "项目表 第 2 行 项目包编号: 项目包 PK-NONE 不存在，请先创建或在项目包表中列出 / sheet projects "
        "row 2 package_id: project package PK-NONE does not exist; create it (or list it on the "
        "packages sheet) first",
        "项目表 第 3 行 客户要求完工日期: 35千伏工程（hv_35kv） 须填写客户要求完工日期：建设期限为其前一个工作日"
        " / sheet projects row 3 completion_date: a hv_35kv project needs the customer's "
        "completion date: its deadline is the last working day before it",
        texts[3],
        "项目表 第 4 行: 与第 2 行重复（P-1），请删除或合并 / sheet projects row 4: duplicates row 2 "
        "(P-1); remove or merge one",
        texts[5],
        "需求明细表 第 3 行 项目编号: 项目 P-9 不存在，请在项目表中列出或先导入该项目 / sheet lines "
        "row 3 project_id: project P-9 is neither on the projects sheet nor in the database",
        "需求明细表 第 3 行 物料编码: 物料编码 TR-999 不在物料主数据中，请先导入物料 / sheet lines "
        "row 3 material_code: material TR-999 is not in the material master; import it first",
        "需求明细表 第 4 行 行号: 行号应从 1 开始 / sheet lines row 4 line_no: line numbers start at 1",
        "需求明细表 第 4 行 单位: 单位 米 与物料 DT-400 的计量单位 台 不符 / sheet lines row 4 unit: "
        "unit 米 does not match material DT-400, counted in 台",
    ]
    assert texts[3].startswith("项目表 第 4 行 行政审批日期: 无法推算建设期限和需到货日期：2027 年")
    assert texts[5].startswith(
        "需求明细表 第 2 行 物料编码: 物料 SVG-1 不在储备目录、协议库存或供应商寄存中"
    )


def test_quantities_and_budgets_past_the_limits_are_named_by_sheet_row_and_column() -> None:
    content = book(
        {
            "项目包": [
                ["项目包编号", "项目包名称", "年度", "预算(元)"],
                ["PK-1", "甲包", 2026, str(MAX_AMOUNT - Decimal("0.000001"))],  # the largest
                ["PK-2", "乙包", 2026, MAX_AMOUNT],  # the limit itself: budgets are below it
                ["PK-3", "丙包", 2026, MAX_AMOUNT + 1],
            ],
            "项目": [PROJECT_HEADER, ["P-1", "甲", "新建台区", "huancui", "2026-11-16", "PK-1"]],
            "需求明细": [
                LINE_HEADER,
                ["P-1", 1, "JKLYJ-70", "千米", 100_000, None],  # 100,000,000 m: the limit
                ["P-1", 2, "JKLYJ-70", "千米", "100,000.001", None],
                ["P-1", 3, "DT-400", "台", 20_000_000_000, None],
            ],
        }
    )
    texts = [p.text for p in parse(content).problems]
    assert texts == [
        "项目包表 第 3 行 预算(元): 10,000,000,000 元未低于上限 10,000,000,000 元 / sheet packages "
        "row 3 budget: 10,000,000,000 CNY is not below the limit of 10,000,000,000 CNY",
        "项目包表 第 4 行 预算(元): 10,000,000,001 元未低于上限 10,000,000,000 元 / sheet packages "
        "row 4 budget: 10,000,000,001 CNY is not below the limit of 10,000,000,000 CNY",
        "需求明细表 第 3 行 需求数量: 100,000,001 米 超过上限 100,000,000 米 / sheet lines row 3 "
        "quantity: 100,000,001 米 is above the limit of 100,000,000 米",
        "需求明细表 第 4 行 需求数量: 20,000,000,000 台 超过上限 100,000,000 台 / sheet lines row 4 "
        "quantity: 20,000,000,000 台 is above the limit of 100,000,000 台",
    ]


def test_lines_may_refer_to_projects_already_in_the_database() -> None:
    context = WorkbookContext(
        materials=CONTEXT.materials,
        catalogued=CONTEXT.catalogued,
        projects={
            "P-OLD": StoredProject("active", date(2026, 11, 2), date(2026, 11, 30), {}),
            "P-DONE": StoredProject("completed", date(2026, 11, 2), date(2026, 11, 30), {}),
        },
        lines={("P-OLD", 1): StoredLine("planned", {"material_code": "DT-400", "quantity": 1})},
    )
    header = [*LINE_HEADER, "指定需到货日期", "指定原因"]
    content = book(
        {
            "需求明细": [
                header,
                ["P-OLD", 2, "MTR-1P", None, 4, None, "2026-11-20", "表计后装"],
                ["P-OLD", 3, "MTR-1P", None, 4, None, "2026-12-20", "太晚"],
                ["P-OLD", 1, "DT-400", None, 2, None, None, None],
                ["P-DONE", 5, "DT-400", None, 1, None, None, None],
            ]
        }
    )
    texts = [p.text for p in parse(content, context).problems]
    assert len(texts) == 3
    assert "row 3 need_by_override: the need-by date 2026-12-20 must fall between" in texts[0]
    assert "row 4: line 1 of project P-OLD is planned; it cannot change" in texts[1]
    assert "row 5: project P-DONE is completed; no lines can be added" in texts[2]


def test_an_unchanged_line_of_a_planned_project_is_accepted() -> None:
    context = WorkbookContext(
        materials=CONTEXT.materials,
        catalogued=CONTEXT.catalogued,
        projects={"P-OLD": StoredProject("active", date(2026, 11, 2), date(2026, 11, 30), {})},
        lines={
            ("P-OLD", 1): StoredLine(
                "planned",
                {
                    "material_code": "DT-400",
                    "quantity": 2,
                    "need_by_override": None,
                    "override_reason": "",
                    "feasibility_listed": False,
                },
            )
        },
    )
    content = book({"需求明细": [LINE_HEADER, ["P-OLD", 1, "DT-400", None, 2, None]]})
    assert parse(content, context).problems == []


def test_a_missing_column_is_named_on_the_header_row_of_its_sheet() -> None:
    content = book({"项目": [["项目编号", "项目名称"], ["P-1", "甲"]]})
    texts = [p.text for p in parse(content).problems]
    assert texts[0] == (
        "项目表 第 1 行 工程类型: 缺少必填列 工程类型（也可写作 project_type） / sheet projects "
        "row 1 project_type: required column project_type (工程类型) is missing"
    )
    assert len(texts) == 3  # type, location, approval date


def test_a_row_problem_without_a_sheet_reads_as_before() -> None:
    plain = RowProblem(7, "数量", "quantity", "-3 不能为负", "must not be negative")
    assert plain.text == "第 7 行 数量: -3 不能为负 / row 7 quantity: must not be negative"


# ---------------------------------------------------------------- export → import round trip

CODE = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-_", min_size=1, max_size=16)
NAME = (
    st.text(alphabet=st.sampled_from("新建台区工程居民接入（）()-/ ABCxyz0123=+#"), max_size=40)
    .map(str.strip)
    .filter(bool)
)
COUNTED = [t for t in ProjectType if t.value not in ("hv_35kv", "hv_110kv")]


@st.composite
def workbooks(draw: st.DrawFn) -> dict[SheetKind, list[dict[str, Any]]]:
    package_ids = draw(st.lists(CODE, min_size=1, max_size=3, unique=True))
    packages = [
        {
            "id": package_id,
            "name": draw(NAME),
            "year": draw(st.integers(2000, 2100)),
            "kind": draw(st.one_of(st.just(""), NAME)),
            "budget": draw(
                st.decimals(
                    min_value=0,
                    max_value=MAX_AMOUNT - Decimal("0.000001"),  # budgets are below the limit
                    places=6,
                    allow_nan=False,
                )
            ),
        }
        for package_id in package_ids
    ]
    projects = []
    for project_id in draw(st.lists(CODE, min_size=1, max_size=4, unique=True)):
        hv = draw(st.booleans())
        # Approved early enough that a 30-working-day deadline stays in 2026, the last year
        # the bundled calendar covers (2026-11-20 reaches into 2027 and is refused, rightly).
        approved = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 11, 13)))
        kind = (
            draw(st.sampled_from(["hv_35kv", "hv_110kv"])) if hv else draw(st.sampled_from(COUNTED))
        )
        completion = (
            draw(
                st.dates(
                    # Three weeks on: a week would end inside the National Day holiday when
                    # approved on 1 October, with no working day before completion.
                    min_value=approved + (date(2026, 1, 22) - date(2026, 1, 1)),
                    max_value=date(2026, 12, 31),
                )
            )
            if hv
            else None
        )
        voltage = {"hv_35kv": "35kV", "hv_110kv": "110kV", "lv_extension": "0.4kV"}.get(
            kind, "10kV"
        )
        projects.append(
            {
                "id": project_id,
                "name": draw(NAME),
                "customer": draw(st.one_of(st.just(""), NAME)),
                "project_type": kind,
                "voltage_class": voltage,
                "location": draw(st.sampled_from(sorted(CONTEXT.locations))),
                "approved_on": approved,
                "completion_date": completion,
                "package_id": draw(st.one_of(st.none(), st.sampled_from(package_ids))),
                "priority": draw(st.sampled_from(["normal", "city_key", "provincial_key"])),
            }
        )
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from([p["id"] for p in projects]), st.integers(1, 9999)),
            max_size=8,
            unique=True,
        )
    )
    lines = [
        {
            "project_id": project_id,
            "line_no": line_no,
            "material_code": draw(st.sampled_from(["DT-400", "JKLYJ-70", "MTR-1P"])),
            "quantity": draw(st.integers(1, MAX_QUANTITY)),
            "need_by_override": None,
            "override_reason": "",
            "feasibility_listed": draw(st.booleans()),
        }
        for project_id, line_no in keys
    ]
    return {SheetKind.PACKAGES: packages, SheetKind.PROJECTS: projects, SheetKind.LINES: lines}


def _without_derived(result: WorkbookResult, kind: SheetKind) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in r.values.items() if k not in ("deadline", "need_by")}
        for r in result.rows.get(kind, [])
    ]


@settings(max_examples=25, deadline=None)
@given(rows=workbooks())
def test_a_workbook_survives_export_and_import(rows: dict[SheetKind, list[dict[str, Any]]]) -> None:
    specs = {SheetKind.PACKAGES: PACKAGES, SheetKind.PROJECTS: PROJECTS, SheetKind.LINES: LINES}
    content = write_workbook([(specs[kind], rows[kind]) for kind in specs])
    result = parse(content)
    assert [p.text for p in result.problems] == []
    for kind in specs:
        assert _without_derived(result, kind) == rows[kind]


@settings(max_examples=15, deadline=None)
@given(rows=workbooks())
def test_each_sheet_survives_export_and_import_as_csv(
    rows: dict[SheetKind, list[dict[str, Any]]],
) -> None:
    specs = {SheetKind.PACKAGES: PACKAGES, SheetKind.PROJECTS: PROJECTS, SheetKind.LINES: LINES}
    context = WorkbookContext(
        materials=CONTEXT.materials,
        catalogued=CONTEXT.catalogued,
        locations=CONTEXT.locations,
        packages=frozenset(p["id"] for p in rows[SheetKind.PACKAGES]),
        projects={
            p["id"]: StoredProject("active", date(2026, 1, 5), date(2026, 12, 31), {})
            for p in rows[SheetKind.PROJECTS]
        },
    )
    for kind, spec in specs.items():
        [table] = read_workbook(write_table(spec, rows[kind], "csv"), "sheet.csv")
        result = parse_workbook({kind: table}, context, calendar=CALENDAR, policy=DeadlinePolicy())
        assert [p.text for p in result.problems] == []
        assert _without_derived(result, kind) == rows[kind]
