"""The province's sample: 16 requirement plans, the provincial catalog and the transport days.

Every city's plan is in the weekly run's requirement-plan format, Weihai's is the demo's own,
every material demanded has agreement lines, the Weihai demo's agreement lines carry the demo
database's numbers, every delivery site reaches every city, and one seed gives one sample.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from catalogs.columns import SPECS
from catalogs.models import AgreementLine, CatalogKind
from catalogs.parse import MaterialRef, ParseContext, parse_sheet
from supply.core.db import make_engine
from supply.core.errors import InvalidInput
from supply.core.sheets.read import read_sheet
from supply.province.sample import (
    SEED,
    WEIHAI_PLAN,
    ProvinceSample,
    cities,
    materials,
    write_province_sample,
)
from supply.weekly.export import agreement_requirements

CITIES = ["济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照",
          "临沂", "德州", "聊城", "滨州", "菏泽"]  # fmt: skip
TOTAL = "合计"
Book = dict[str, list[tuple[Any, ...]]]


def cells(path: Path | bytes) -> Book:
    """Every sheet's rows of values, by sheet name."""
    source = path if isinstance(path, Path) else io.BytesIO(path)
    book = load_workbook(source, read_only=True, data_only=True)
    try:
        return {
            sheet.title: [tuple(r) for r in sheet.iter_rows(values_only=True)] for sheet in book
        }
    finally:
        book.close()


def records(book: Book, sheet: str) -> list[dict[str, Any]]:
    """A sheet's data rows by header, the totals row left out."""
    header, *rows = book[sheet]
    return [dict(zip(header, r, strict=True)) for r in rows if not str(r[0]).startswith(TOTAL)]


def demo_plan() -> Book:
    return cells(files("supply.province").joinpath("data", WEIHAI_PLAN).read_bytes())


def _weihais(line: dict[str, Any]) -> bool:
    """Whether an agreement line is one of the Weihai demo's (its tenders SDXY-A and -B)."""
    return str(line["agreement_no"]).startswith(("SDXY-A-", "SDXY-B-"))


def every_file(sample: ProvinceSample) -> list[Path]:
    return [sample.agreements, sample.transport, *sample.cities.values()]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> ProvinceSample:
    return write_province_sample(tmp_path_factory.mktemp("province"))


@pytest.fixture(scope="module")
def plans(sample: ProvinceSample) -> dict[str, Book]:
    return {city: cells(path) for city, path in sample.cities.items()}


@pytest.fixture(scope="module")
def catalog(sample: ProvinceSample) -> list[dict[str, Any]]:
    """The provincial catalog read as the agreements import reads it (base units, checked)."""
    sites = {r["交货地点"] for r in records(cells(sample.agreements), "协议库存")}
    context = ParseContext(
        materials={code: MaterialRef(unit=m.base) for code, m in materials().items()},
        warehouses=frozenset(sites),
    )
    content = sample.agreements.read_bytes()
    result = parse_sheet(
        CatalogKind.AGREEMENTS, read_sheet(content, sample.agreements.name), context
    )
    assert result.problems == []
    return [row.values for row in result.rows]


def test_one_seed_gives_the_same_cells(sample: ProvinceSample, tmp_path: Path) -> None:
    again = write_province_sample(tmp_path / "again", seed=SEED)
    for first, second in zip(every_file(sample), every_file(again), strict=True):
        assert first.name == second.name
        assert cells(first) == cells(second), first.name


def test_another_seed_draws_other_cities_and_keeps_weihai(tmp_path: Path) -> None:
    one = write_province_sample(tmp_path / "one", seed=1, lines_per_city=20, agreement_lines=400)
    two = write_province_sample(tmp_path / "two", seed=2, lines_per_city=20, agreement_lines=400)
    assert cells(one.cities["济南"]) != cells(two.cities["济南"])
    assert cells(one.cities["威海"]) == cells(two.cities["威海"])


def test_sixteen_cities_each_a_requirement_plan(
    sample: ProvinceSample, plans: dict[str, Book]
) -> None:
    assert list(sample.cities) == CITIES == [c.name for c in cities()]
    for city, path in sample.cities.items():
        assert path.name == f"2026-W49_{city}_协议库存需求计划.xlsx"
        empty = cells(agreement_requirements([], "2026-W49", city))
        book = plans[city]
        assert list(book) == list(empty) == ["需求汇总", "项目明细"]
        for sheet in book:
            assert book[sheet][0] == empty[sheet][0], (city, sheet)  # the headers
        detail, summary = records(book, "项目明细"), records(book, "需求汇总")
        assert len(detail) == sample.lines[city]
        assert {r["地市"] for r in detail} == {r["地市"] for r in summary} == {city}
        assert {r["批次"] for r in summary} == {"2026-W49"}
        assert sum(r["需求数量"] for r in summary) == sum(r["数量"] for r in detail)
        assert all(r["数量"] >= 1 and isinstance(r["需到货日期"], datetime) for r in detail)


def test_cities_are_sized_relative_to_weihai(sample: ProvinceSample) -> None:
    weihai = sample.lines["威海"]
    assert weihai == 139  # the demo's plan, as it is
    for city in cities():
        assert sample.lines[city.name] == round(weihai * city.factor)
    assert sample.lines["青岛"] > sample.lines["济南"] > sample.lines["淄博"] > sample.lines["日照"]


def test_weihai_is_the_demo_plan(plans: dict[str, Book]) -> None:
    assert plans["威海"] == demo_plan()


def test_each_city_has_its_own_projects_warehouses_and_materials(
    plans: dict[str, Book],
) -> None:
    owner: dict[str, str] = {}
    for city in cities():
        detail = records(plans[city.name], "项目明细")
        assert {r["交货仓库"] for r in detail} <= {store for store, _name in city.stores}
        assert {r["物料编码"] for r in detail} <= set(materials())
        projects: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        lines: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for r in detail:
            lines[r["需求行"]].add((r["项目编号"], r["物料编码"]))
            if r["项目编号"]:
                projects[r["项目编号"]].add((r["项目名称"], r["工程类型"], r["优先级"]))
            else:
                assert r["需求行"].startswith("REPL:") and r["优先级"] == "补库"
        assert all(len(v) == 1 for v in projects.values()), city.name
        assert all(len(v) == 1 for v in lines.values()), city.name
        for project in projects:
            assert owner.setdefault(project, city.name) == city.name, project
            if city.name != "威海":
                assert project.startswith(f"YK26-{city.code}-")


def test_cities_draw_weihais_types_voltages_and_priorities(plans: dict[str, Book]) -> None:
    weihai = records(plans["威海"], "项目明细")
    kinds = {(r["工程类型"], r["电压等级"], r["优先级"]) for r in weihai}
    for city in CITIES:
        drawn = {
            (r["工程类型"], r["电压等级"], r["优先级"]) for r in records(plans[city], "项目明细")
        }
        assert drawn <= kinds, city
    everywhere = [r for city in CITIES for r in records(plans[city], "项目明细")]
    share = sum(r["工程类型"] == "10千伏工程 (mv_10kv)" for r in everywhere) / len(everywhere)
    weihai_share = sum(r["工程类型"] == "10千伏工程 (mv_10kv)" for r in weihai) / len(weihai)
    assert abs(share - weihai_share) < 0.1


def test_every_material_demanded_has_agreement_lines(
    sample: ProvinceSample, plans: dict[str, Book], catalog: list[dict[str, Any]]
) -> None:
    demanded = {r["物料编码"] for book in plans.values() for r in records(book, "项目明细")}
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in catalog:
        lines[line["material_code"]].append(line)
    for material in demanded:
        further = [line for line in lines[material] if not _weihais(line)]
        assert 2 <= len(further) <= 4, material
        usable = [
            line for line in lines[material]
            if line["valid_from"] <= sample.matching_day <= line["valid_to"]
            and line["ordered_quantity"] < line["estimated_quantity"] * 120 // 100
        ]  # fmt: skip
        assert usable, material
    assert len(catalog) == sample.agreement_lines


def test_the_catalog_is_in_the_agreements_import_format(sample: ProvinceSample) -> None:
    book = cells(sample.agreements)
    assert list(book) == [SPECS[CatalogKind.AGREEMENTS].sheet]
    assert list(book["协议库存"][0]) == [c.zh for c in SPECS[CatalogKind.AGREEMENTS].columns]
    assert list(book["协议库存"][0])[:8] == [
        "协议编号", "行号", "招标批次", "供应商", "物料编码", "物料名称", "单位", "协议单价"
    ]  # fmt: skip


def test_weihais_agreement_lines_have_the_demo_numbers(
    catalog: list[dict[str, Any]], sqlite_sample_templates: dict[str, Path]
) -> None:
    provincial = {(line["agreement_no"], line["line_no"]): line for line in catalog}
    engine = make_engine(f"sqlite:///{sqlite_sample_templates['catalogs']}")
    try:
        with Session(engine) as session:
            demo = session.exec(select(AgreementLine)).all()
    finally:
        engine.dispose()
    assert len(demo) > 100
    fields = ("tender", "supplier", "material_code", "unit_price", "estimated_quantity",
              "band_low_pct", "band_high_pct", "ordered_quantity", "valid_from", "valid_to",
              "lead_days")  # fmt: skip
    for line in demo:
        ours = provincial[line.agreement_no, line.line_no]
        assert {f: ours[f] for f in fields} == {f: getattr(line, f) for f in fields}
        assert ours["delivery_warehouse_id"].startswith("SITE-")  # the supplier's site


def test_further_lines_expire_fill_and_start(
    sample: ProvinceSample, catalog: list[dict[str, Any]]
) -> None:
    day = sample.matching_day
    assert day == date(2026, 12, 2)  # cutoff Monday 2026-11-30 + 2 working days
    further = [line for line in catalog if not _weihais(line)]

    def share(line: dict[str, Any]) -> Decimal:
        return Decimal(line["ordered_quantity"]) / line["estimated_quantity"]

    expiring = [
        line for line in further
        if day <= line["valid_to"] <= day + timedelta(days=30) and share(line) < Decimal("0.8")
    ]  # fmt: skip
    full = [line for line in further if line["valid_to"] >= day and share(line) >= Decimal("1.15")]
    expired = [line for line in further if line["valid_to"] < day]
    fresh = [line for line in further if line["valid_from"] > day - timedelta(days=60)]
    assert min(len(expiring), len(full), len(expired), len(fresh)) >= 5
    assert all(share(line) <= Decimal("1.2") for line in further)


def test_every_site_reaches_every_city(
    sample: ProvinceSample, catalog: list[dict[str, Any]]
) -> None:
    rows = records(cells(sample.transport), "运输天数")
    assert list(cells(sample.transport)) == ["运输天数"]
    pairs = [(r["交货地点"], r["地市"]) for r in rows]
    sites = {line["delivery_warehouse_id"] for line in catalog}
    assert len(pairs) == len(set(pairs)) == len(sites) * 16 == sample.sites * 16
    assert set(pairs) == {(site, city) for site in sites for city in CITIES}
    days = {(r["交货地点"], r["地市"]): r["运输天数"] for r in rows}
    assert set(days.values()) == {0, 1, 2, 3, 4}
    assert days["SITE-YTDY-1", "烟台"] == 0 and days["SITE-YTDY-1", "威海"] == 1
    assert days["SITE-YTDY-1", "菏泽"] == 4


def test_sizes_for_the_benchmark(tmp_path: Path) -> None:
    big = write_province_sample(tmp_path, lines_per_city=300, agreement_lines=600)
    assert set(big.lines.values()) == {300}
    assert big.agreement_lines == 600
    assert len(records(cells(big.agreements), "协议库存")) == 600
    weihai = records(cells(big.cities["威海"]), "项目明细")
    demo = records(demo_plan(), "项目明细")
    keys = [(r["需求行"], r["参考协议行"], r["数量"]) for r in weihai]
    assert all((r["需求行"], r["参考协议行"], r["数量"]) in keys for r in demo)
    with pytest.raises(ValueError, match="too few"):
        write_province_sample(tmp_path / "few", lines_per_city=20, agreement_lines=170)


def test_another_batch_moves_the_dates(tmp_path: Path) -> None:
    later = write_province_sample(
        tmp_path, batch_id="2026-W50", lines_per_city=20, agreement_lines=400
    )
    assert later.matching_day == date(2026, 12, 9)
    assert later.cities["威海"].name == "2026-W50_威海_协议库存需求计划.xlsx"
    moved = records(cells(later.cities["威海"]), "项目明细")
    demo = records(demo_plan(), "项目明细")
    assert [r["需到货日期"] for r in moved] == [r["需到货日期"] + timedelta(days=7) for r in demo]
    with pytest.raises(InvalidInput, match="ISO week"):
        write_province_sample(tmp_path, batch_id="2026-49")
