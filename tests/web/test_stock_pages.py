"""库存与定额 in process, on the Weihai sample (catalogs and week: a confirmed 2026 quota catalog
and a draft revision) with a user per role and a few holds: who may open it, the figures against
the service and against the database read here, the below-quota rows, sorting, a bad filter, the
Excel files against the page, text that looks like a formula, and marketing's confirmation of
the quota catalog (refused to the others, and without the CSRF token)."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogs.models import (
    AgreementLine,
    AgreementLinePublic,
    Consignment,
    Material,
    Quota,
    QuotaCatalog,
    ReserveStock,
)
from supply.auth.roles import ROLE_PERMISSIONS, Permission, Role
from supply.core.audit import AuditEvent
from supply.core.money import fen
from supply.demand.models import DemandLine
from supply.holds.models import Hold
from supply.stock.models import Band
from supply.stock.queries import (
    agreement_execution,
    band_of,
    consignment_by_supplier,
    execution,
    percent_of,
    stock_positions,
)
from tests.web.conftest import NOW, app_on, browser_like, csrf_of, engine_with_roles, sign_in

TODAY = NOW.date()
GET_PAGES = (
    "/stock", "/stock/export", "/stock/agreements", "/stock/agreements/export",
    "/stock/consignment", "/stock/consignment/export", "/stock/quotas", "/stock/quotas/export",
)  # fmt: skip
HELD_RESERVE = 3
HELD_CONSIGNMENT = 2


# ------------------------------------------------------------------ the world


@dataclass(frozen=True)
class Seeded:
    reserve: tuple[str, str]  # (warehouse, material) with a hold
    consignment: Consignment  # a row with a hold


@pytest.fixture
def stock_engine(tmp_path: Path, sqlite_sample_templates: dict[str, Path]) -> Iterator[Engine]:
    """The sample catalogs and week, a user per role (login = the role), and two holds."""
    with engine_with_roles(sqlite_sample_templates["week"], tmp_path / "stock.db") as engine:
        yield engine


@pytest.fixture
def seeded(stock_engine: Engine) -> Seeded:
    """A reserve hold on a stocked pair and a consignment hold, for any demand line."""
    with Session(stock_engine) as session:
        line = session.exec(select(DemandLine).order_by(col(DemandLine.id))).first()
        stock = session.exec(
            select(ReserveStock)
            .where(col(ReserveStock.quantity) >= 10)
            .order_by(col(ReserveStock.warehouse_id), col(ReserveStock.material_code))
        ).first()
        consigned = session.exec(
            select(Consignment).where(col(Consignment.quantity) >= 10).order_by(col(Consignment.id))
        ).first()
        assert line is not None and stock is not None and consigned is not None
        common = {"demand_line_id": line.id, "created_at": NOW, "created_by": "test"}
        session.add(
            Hold(
                stock_kind="reserve",
                warehouse_id=stock.warehouse_id,
                material_code=stock.material_code,
                quantity=HELD_RESERVE,
                **common,
            )
        )
        session.add(Hold(stock_kind="consignment", warehouse_id=consigned.warehouse_id,
                         material_code=consigned.material_code, consignment_id=consigned.id,
                         quantity=HELD_CONSIGNMENT, **common))  # fmt: skip
        session.commit()
        session.refresh(consigned)
        return Seeded(reserve=(stock.warehouse_id, stock.material_code), consignment=consigned)


@pytest.fixture
def pages(stock_engine: Engine, seeded: Seeded) -> Iterator[TestClient]:
    with browser_like(app_on(stock_engine)) as client:
        yield client


# ------------------------------------------------------------------ reading the pages


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str]


class _Tables(HTMLParser):
    """The body rows of the table whose class holds `name`: attributes and cell texts."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name, self.depth, self.inside, self.in_head = name, 0, False, False
        self.rows: list[Row] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.depth += 1
            if self.name in values.get("class", "").split():
                self.inside = True
        elif self.inside and tag == "thead":
            self.in_head = True
        elif self.inside and not self.in_head and tag == "tr":
            self.rows.append(Row(values, []))
        elif self.inside and not self.in_head and tag in ("td", "th"):
            self.cell = []
        elif self.cell is not None and tag == "br":
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.inside:
            self.inside = False
        elif tag == "thead":
            self.in_head = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].cells.append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def rows_of(html: str, table: str) -> list[Row]:
    parser = _Tables(table)
    parser.feed(html)
    return [r for r in parser.rows if r.cells and "muted" not in r.attrs.get("class", "")]


def total_of(html: str, section: str) -> int:
    part = html.split(f'id="{section}"', 1)[1]
    found = re.search(r"共 ([\d,]+) 行", part.split('class="pager"', 1)[1])
    assert found, part[-500:]
    return int(found.group(1).replace(",", ""))


def number(text: str) -> int:
    return int(text.replace(",", ""))


def field_error(html: str, field: str) -> str:
    """The error shown in the label of the form field named `field`."""
    label = re.search(rf'<label>[^<]*<(?:select|input) name="{field}".*?</label>', html, re.S)
    assert label, field
    error = re.search(r'class="field-error"[^>]*>([^<]+)<', label.group(0))
    return error.group(1) if error else ""


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    """The data rows of a workbook's first sheet (no header, no totals row)."""
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    return [r for r in rows[1:] if r[0] is not None and not str(r[0]).startswith("合计")]


# ------------------------------------------------------------------ the database, read here


def positions_in_database(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    """On hand, held, confirmed quota and the shortfall's value of every pair, read with the
    ORM, without the service."""
    [catalog] = session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == TODAY.year, QuotaCatalog.status == "confirmed"
        )
    ).all()
    stock = {
        (s.warehouse_id, s.material_code): s.quantity for s in session.exec(select(ReserveStock))
    }
    quota = {
        (q.warehouse_id, q.material_code): q.quantity
        for q in session.exec(select(Quota).where(Quota.catalog_id == catalog.id))
    }
    held: dict[tuple[str, str], int] = defaultdict(int)
    for h in session.exec(select(Hold).where(Hold.status == "held", Hold.stock_kind == "reserve")):
        held[h.warehouse_id, h.material_code] += h.quantity
    materials = {m.code: m for m in session.exec(select(Material))}
    found = {}
    for key in stock.keys() | quota.keys():
        have, wanted = stock.get(key, 0), quota.get(key, 0)
        material = materials[key[1]]
        found[key] = {
            "on_hand": have, "held": held[key], "quota": wanted,
            "value": fen(material.standard_price * max(0, wanted - have)),
            "name": material.name_zh,
        }  # fmt: skip
    return found


def positions_shown(html: str) -> list[tuple[tuple[str, str], Row]]:
    return [(tuple(r.attrs["data-key"].split("|")), r) for r in rows_of(html, "positions")]  # type: ignore[misc]


# ------------------------------------------------------------------ who may open it


@pytest.mark.parametrize("role", list(Role))
def test_whoever_reads_the_catalogs_opens_every_view_the_others_get_403(
    pages: TestClient, role: Role
) -> None:
    sign_in(pages, role.value)
    # Every city role reads the catalogs (the admin too: it loads them); the province's planner
    # works on the province's files, not on a city's catalogs.
    allowed = Permission.CATALOGS_READ in ROLE_PERMISSIONS[role]
    assert allowed == (role is not Role.PROVINCE_PLANNER)
    for path in GET_PAGES:
        answer = pages.get(path)
        if allowed:
            assert answer.status_code == 200, (path, answer.text[:500])
        else:
            assert answer.status_code == 403, path
            assert "查看供应目录 (catalogs.read)" in answer.text
    if allowed:
        nav = pages.get("/stock").text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
        assert '<a href="/stock" aria-current="page">库存与定额</a>' in nav


# ------------------------------------------------------------------ the figures


def test_the_positions_are_the_service_s_and_the_database_s(
    pages: TestClient, stock_engine: Engine
) -> None:
    sign_in(pages, "planner")
    html = pages.get("/stock").text
    shown = positions_shown(html)
    with Session(stock_engine) as session:
        service = stock_positions(session=session, today=TODAY, limit=20).items
        database = positions_in_database(session)
    assert [key for key, _ in shown] == [(p.warehouse_id, p.material_code) for p in service]
    # the default order: the largest shortfall value first, as computed here
    assert [key for key, _ in shown] == sorted(database, key=lambda k: (-database[k]["value"], k))[
        :20
    ]
    assert total_of(html, "positions") == len(database)
    for (key, row), position in zip(shown, service, strict=True):
        expected = database[key]
        cells = row.cells
        assert (number(cells[4]), number(cells[5]), number(cells[7])) == (
            expected["on_hand"], expected["held"], expected["quota"],
        )  # fmt: skip
        assert number(cells[6]) == max(0, expected["on_hand"] - expected["held"])
        assert cells[2] == expected["name"] == position.material_name
        below = expected["on_hand"] < expected["quota"]
        assert ("below" in row.attrs.get("class", "")) == below
        assert ("低于定额" in cells[10]) == below
        if below:
            assert cells[9] == f"{expected['value']:,.2f}" == f"{position.shortfall_value:,.2f}"
    # the chart draws the same rows
    chart = json.loads(
        re.search(r"data-stock-chart='([^']*)'", html).group(1).replace("&#34;", '"')  # type: ignore[union-attr]
    )
    keys = [key for key, _ in shown]
    assert chart["categories"] == [f"{m}\n{w}" for w, m in keys]
    assert {s["name"]: s["data"] for s in chart["series"]} == {
        "实物库存": [database[k]["on_hand"] for k in keys],
        "已保留": [database[k]["held"] for k in keys],
        "储备定额": [database[k]["quota"] for k in keys],
    }
    assert chart["below"] == [database[k]["on_hand"] < database[k]["quota"] for k in keys]


def test_held_stock_is_shown_against_its_warehouse_and_material(
    pages: TestClient, seeded: Seeded, stock_engine: Engine
) -> None:
    sign_in(pages, "viewer")
    warehouse, code = seeded.reserve
    html = pages.get("/stock", params={"warehouse": warehouse, "q": code}).text
    [row] = [r for k, r in positions_shown(html) if k == seeded.reserve]
    with Session(stock_engine) as session:
        on_hand = session.get(ReserveStock, (warehouse, code)).quantity  # type: ignore[union-attr]
    assert number(row.cells[5]) == HELD_RESERVE
    assert number(row.cells[6]) == on_hand - HELD_RESERVE
    assert all(k[0] == warehouse and code in k[1] for k, _ in positions_shown(html))


def test_only_below_quota_keeps_the_rows_below_quota(
    pages: TestClient, stock_engine: Engine
) -> None:
    sign_in(pages, "planner")
    html = pages.get("/stock", params={"below": "1"}).text
    with Session(stock_engine) as session:
        database = positions_in_database(session)
    below = [k for k, v in database.items() if v["on_hand"] < v["quota"]]
    assert 0 < len(below) < len(database)
    assert total_of(html, "positions") == len(below)
    assert all("below" in r.attrs["class"] for _, r in positions_shown(html))


def test_sorting_changes_the_order_of_the_rows(pages: TestClient, stock_engine: Engine) -> None:
    sign_in(pages, "planner")
    with Session(stock_engine) as session:
        database = positions_in_database(session)
    up = [database[k]["on_hand"] for k, _ in positions_shown(pages.get("/stock?sort=on_hand").text)]
    down = [
        database[k]["on_hand"] for k, _ in positions_shown(pages.get("/stock?sort=-on_hand").text)
    ]
    assert up == sorted(up) and up[0] == min(v["on_hand"] for v in database.values())
    assert down == sorted(down, reverse=True) and down[0] == max(
        v["on_hand"] for v in database.values()
    )
    assert up != down
    by_material = [k for k, _ in positions_shown(pages.get("/stock?sort=material").text)]
    assert by_material == sorted(database, key=lambda k: (k[1], k[0]))[:20]
    html = pages.get("/stock?sort=-quota").text
    assert 'aria-sort="descending"' in html and "储备定额 ▼" in html
    # the agreements sort too: by validity end, the latest first
    sign_in(pages, "viewer")
    first = [
        r.cells[9][:10]
        for r in rows_of(pages.get("/stock/agreements?sort=valid_to").text, "agreements")
    ]
    last = [
        r.cells[9][:10]
        for r in rows_of(pages.get("/stock/agreements?sort=-valid_to").text, "agreements")
    ]
    assert first == sorted(first) and last == sorted(last, reverse=True)
    assert first[0] < last[0]


def test_a_bad_filter_is_named_under_its_field_and_the_rest_still_applies(
    pages: TestClient, stock_engine: Engine
) -> None:
    sign_in(pages, "planner")
    answer = pages.get("/stock", params={"warehouse": "WH-NOWHERE", "q": "变压器", "below": "1"})
    assert answer.status_code == 200
    html = answer.text
    assert "没有仓库 WH-NOWHERE" in field_error(html, "warehouse")
    assert field_error(html, "q") == ""
    with Session(stock_engine) as session:
        database = positions_in_database(session)
    expected = {
        k for k, v in database.items() if "变压器" in v["name"] and v["on_hand"] < v["quota"]
    }
    shown = {k for k, _ in positions_shown(html)}
    assert total_of(html, "positions") == len(expected) > 0
    assert shown <= expected and len({w for w, _ in expected}) > 1  # every warehouse kept
    consignment = pages.get("/stock/consignment", params={"warehouse": "仓库?", "supplier": "电缆"})
    assert "没有仓库 仓库?" in field_error(consignment.text, "warehouse")
    suppliers = [r.attrs["data-supplier"] for r in _supplier_groups(consignment.text)]
    assert suppliers and all("电缆" in s for s in suppliers)
    quotas = pages.get("/stock/quotas", params={"year": "二〇二六"})
    assert "年度写作四位数字" in field_error(quotas.text, "year")
    assert "2026 年储备定额目录" in quotas.text


# ------------------------------------------------------------------ agreements and consignment


def test_agreement_lines_show_their_execution_against_the_band(
    pages: TestClient, stock_engine: Engine
) -> None:
    sign_in(pages, "planner")
    html = pages.get("/stock/agreements").text
    shown = rows_of(html, "agreements")
    with Session(stock_engine) as session:
        lines = {a.id: a for a in session.exec(select(AgreementLine))}
        service = agreement_execution(session=session, today=TODAY, limit=50).items
    assert [int(r.attrs["data-id"]) for r in shown] == [a.id for a in service]
    assert total_of(html, "agreements") == len(lines)
    flagged = {"under": 0, "over": 0}
    for row in shown:
        line = lines[int(row.attrs["data-id"])]
        ordered, estimate = line.ordered_quantity, line.estimated_quantity
        pct = (Decimal(ordered) * 100 / estimate).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert row.cells[7].startswith(f"{pct}%")  # no promises in this world: ordered only
        assert number(row.cells[5]) == ordered and number(row.cells[6]) == 0
        if ordered * 100 < estimate * line.band_low_pct:
            assert row.cells[8] == f"低于 {line.band_low_pct}%"
            flagged["under"] += 1
        elif ordered * 100 > estimate * line.band_high_pct:
            assert row.cells[8] == f"超过 {line.band_high_pct}%"
            flagged["over"] += 1
        else:
            assert row.cells[8] == "区间内"
    assert flagged["under"] > 0
    # the agreements expiring within 30 days, named with their end date
    ending = {
        (a.agreement_no, a.valid_to)
        for a in lines.values()
        if a.valid_from <= TODAY <= a.valid_to <= TODAY + timedelta(days=30)
    }
    listed = rows_of(html.split('id="expiring"', 1)[1].split("</section>", 1)[0], "compact")
    assert ending and {(r.cells[0], date.fromisoformat(r.cells[3][:10])) for r in listed} == ending
    for row in listed:
        assert row.cells[4] == f"{(date.fromisoformat(row.cells[3][:10]) - TODAY).days} 天"
    only = pages.get("/stock/agreements?expiring=1").text
    assert total_of(only, "agreements") == sum(
        1 for a in lines.values() if (a.agreement_no, a.valid_to) in ending
    )


def _supplier_groups(html: str) -> list[Row]:
    """The first row of each supplier's group (its name, lines and warehouses)."""
    found = re.findall(r'<tbody class="supplier" data-supplier="([^"]*)"', html)
    return [Row({"data-supplier": s}, []) for s in found]


def test_consignment_is_summed_by_supplier_with_what_is_held(
    pages: TestClient, seeded: Seeded, stock_engine: Engine
) -> None:
    sign_in(pages, "marketing")
    supplier = seeded.consignment.supplier
    html = pages.get("/stock/consignment", params={"supplier": supplier}).text
    with Session(stock_engine) as session:
        rows = session.exec(select(Consignment).where(Consignment.supplier == supplier)).all()
        service = consignment_by_supplier(session=session).items
    value = sum((fen(r.issue_price * r.quantity) for r in rows), Decimal(0))
    assert [g.attrs["data-supplier"] for g in _supplier_groups(html)] == [supplier]
    assert f"{value:,.2f}" in rows_of(html, "consignment")[-1].cells[-1]
    held_value = fen(HELD_CONSIGNMENT * seeded.consignment.issue_price)
    assert f"其中已保留 {held_value:,.2f} 元" in html
    held_row = [
        r for r in rows_of(html, "consignment")
        if seeded.consignment.material_code in r.cells and seeded.consignment.warehouse_id in r.cells
    ]  # fmt: skip
    [row] = held_row
    position = row.cells.index(seeded.consignment.material_code)
    assert number(row.cells[position + 3]) == seeded.consignment.quantity
    assert number(row.cells[position + 4]) == HELD_CONSIGNMENT
    # every supplier, the largest value first
    values = [s.value for s in service]
    assert values == sorted(values, reverse=True)
    with Session(stock_engine) as session:
        every = session.exec(select(Consignment)).all()
    by_supplier: dict[str, Decimal] = defaultdict(Decimal)
    for r in every:
        by_supplier[r.supplier] += fen(r.issue_price * r.quantity)
    assert {s.supplier: s.value for s in service} == dict(
        sorted(by_supplier.items(), key=lambda kv: -kv[1])[: len(service)]
    )


# ------------------------------------------------------------------ Excel


def test_each_download_holds_the_rows_the_page_shows(pages: TestClient) -> None:
    sign_in(pages, "planner")
    html = pages.get("/stock", params={"below": "1", "sort": "-shortfall"}).text
    download = pages.get("/stock/export", params={"below": "1", "sort": "-shortfall"})
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = sheet_rows(download.content)
    assert len(rows) == total_of(html, "positions")
    for (key, shown), row in zip(positions_shown(html), rows, strict=False):
        assert (row[0], row[1]) == key and row[2] == shown.cells[2]
        assert [row[4], row[5], row[6], row[7], row[8]] == [number(c) for c in shown.cells[4:9]]
        assert f"{Decimal(str(row[9])):,.2f}" == shown.cells[9]
        assert row[10] == "是"
    agreements_page = pages.get("/stock/agreements", params={"q": "电缆"}).text
    agreements = sheet_rows(pages.get("/stock/agreements/export", params={"q": "电缆"}).content)
    assert len(agreements) == total_of(agreements_page, "agreements") > 0
    for shown, row in zip(rows_of(agreements_page, "agreements"), agreements, strict=False):
        assert f"{row[0]}–{row[1]}" == shown.cells[0] and row[3] == shown.cells[1]
        assert shown.cells[7].startswith(f"{Decimal(str(row[11])):.1f}%")
    consignment_page = pages.get("/stock/consignment").text
    consignment = sheet_rows(pages.get("/stock/consignment/export").content)
    shown_lines = [r for r in rows_of(consignment_page, "consignment") if "data-key" in r.attrs]
    assert shown_lines and len(consignment) > len(shown_lines)  # five suppliers of ten shown
    assert [f"{r[0]}|{r[1]}|{r[2]}" for r in consignment[: len(shown_lines)]] == [
        r.attrs["data-key"] for r in shown_lines
    ]
    assert [r[5] for r in consignment[: len(shown_lines)]] == [
        number(r.cells[-5]) for r in shown_lines
    ]


def test_text_that_looks_like_a_formula_stays_text(
    pages: TestClient, stock_engine: Engine, seeded: Seeded
) -> None:
    formula = '=HYPERLINK("http://example.com","点我")'
    warehouse, code = seeded.reserve
    with Session(stock_engine) as session:
        material = session.get(Material, code)
        consigned = session.get(Consignment, seeded.consignment.id)
        assert material is not None and consigned is not None
        material.name_zh = formula
        consigned.supplier = "=1+2"
        session.add(material)
        session.add(consigned)
        session.commit()
    sign_in(pages, "planner")
    page = pages.get("/stock", params={"warehouse": warehouse, "q": code}).text
    assert "=HYPERLINK(&#34;http://example.com&#34;,&#34;点我&#34;)" in page
    book = load_workbook(io.BytesIO(pages.get("/stock/export", params={"q": code}).content))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value == formula]
    assert cells and all(c.data_type == "s" for c in cells)
    book = load_workbook(io.BytesIO(pages.get("/stock/consignment/export").content))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value == "=1+2"]
    assert cells and all(c.data_type == "s" for c in cells)


# ------------------------------------------------------------------ confirming the quota catalog


def _draft(engine: Engine) -> QuotaCatalog:
    with Session(engine) as session:
        [draft] = session.exec(
            select(QuotaCatalog).where(
                QuotaCatalog.year == TODAY.year, QuotaCatalog.status == "draft"
            )
        ).all()
        return draft


def _confirm_events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "quotas.confirm")))


def test_marketing_confirms_the_year_s_quota_catalog_and_it_is_audited(
    pages: TestClient, stock_engine: Engine
) -> None:
    draft = _draft(stock_engine)
    before = len(_confirm_events(stock_engine))
    sign_in(pages, "marketing")
    page = pages.get("/stock/quotas").text
    assert f'action="/stock/quotas/{draft.id}/confirm"' in page and ">确认定额目录<" in page
    [changes] = re.findall(r'<table class="data compact changes"[^>]*>.*?</table>', page, re.S)
    assert changes.count("<tr>") - 1 == 6  # the sample's revision raises six quotas
    confirmed = pages.post(f"/stock/quotas/{draft.id}/confirm", data={"csrf_token": csrf_of(page)})
    assert confirmed.status_code == 303
    after = pages.get(confirmed.headers["location"]).text
    assert f"{TODAY.year} 年第 {draft.version} 版定额目录已确认" in after
    [row] = [r for r in rows_of(after, "catalogs") if r.attrs["data-catalog"] == str(draft.id)]
    assert "已确认" in row.cells[1] and "marketing" in row.cells[4]
    assert "2026-11-30 周一 11:30" in row.cells[4]
    assert ">确认定额目录<" not in after
    with Session(stock_engine) as session:
        statuses = {
            c.version: (c.status, c.confirmed_by)
            for c in session.exec(select(QuotaCatalog).where(QuotaCatalog.year == TODAY.year))
        }
    assert statuses[draft.version] == ("confirmed", "marketing")
    assert {s for v, (s, _) in statuses.items() if v != draft.version} == {"superseded"}
    events = _confirm_events(stock_engine)
    assert len(events) == before + 1
    event = events[-1]
    assert (event.actor, event.object_type, event.object_id) == (
        "marketing",
        "quota_catalog",
        str(draft.id),
    )
    assert event.after is not None and event.after["status"] == "confirmed"
    # the page's head names the catalog now in force; confirming it again is a conflict
    assert f"{TODAY.year} 年第 {draft.version} 版" in pages.get("/stock").text
    again = pages.post(f"/stock/quotas/{draft.id}/confirm", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409 and "只有草稿可以确认" in again.text


@pytest.mark.parametrize("login", ["planner", "viewer", "development", "project_manager"])
def test_no_one_else_may_confirm_the_quota_catalog(
    pages: TestClient, stock_engine: Engine, login: str
) -> None:
    draft = _draft(stock_engine)
    before = _confirm_events(stock_engine)  # the sample's own first confirmation
    sign_in(pages, login)
    page = pages.get("/stock/quotas").text
    assert ">确认定额目录<" not in page and "待营销部确认" in page
    refused = pages.post(f"/stock/quotas/{draft.id}/confirm", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403 and "确认储备定额目录 (quotas.confirm)" in refused.text
    assert _draft(stock_engine).id == draft.id  # still the draft
    assert _confirm_events(stock_engine) == before


def test_a_confirmation_without_the_csrf_token_is_refused(
    pages: TestClient, stock_engine: Engine
) -> None:
    draft = _draft(stock_engine)
    before = _confirm_events(stock_engine)
    sign_in(pages, "marketing")
    for data in ({}, {"csrf_token": "made up by another site"}):
        refused = pages.post(f"/stock/quotas/{draft.id}/confirm", data=data)
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert _draft(stock_engine).status == "draft"
    assert _confirm_events(stock_engine) == before


# ------------------------------------------------------------------ htmx and the pure parts


def test_htmx_gets_the_table_alone(pages: TestClient) -> None:
    sign_in(pages, "planner")
    part = pages.get("/stock?sort=quota", headers={"HX-Request": "true", "HX-Target": "positions"})
    assert part.text.lstrip().startswith('<section class="card" id="positions">')
    assert "<html" not in part.text and "data-stock-chart" in part.text


def test_the_band_and_the_percentages() -> None:
    assert percent_of(79, 100) == Decimal("79.0") and percent_of(2, 3) == Decimal("66.7")
    assert percent_of(5, 0) is None
    assert [band_of(c, estimate=100, low_pct=80, high_pct=120) for c in (79, 80, 120, 121)] == [
        Band.UNDER, Band.WITHIN, Band.WITHIN, Band.OVER,
    ]  # fmt: skip
    line = AgreementLinePublic(
        id=1, agreement_no="A", line_no=1, supplier="S", material_code="M", unit_price=Decimal(1),
        estimated_quantity=200, ordered_quantity=150, valid_from=TODAY - timedelta(days=300),
        valid_to=TODAY + timedelta(days=30), lead_days=5, delivery_warehouse_id="W",
        upper_quantity=240, remaining_quantity=90, serving=True,
    )  # fmt: skip
    material = Material(code="M", name_zh="物料", unit="台", voltage_class="10kV",
                        standard_price=Decimal(1), emergency_lead_days=1,
                        emergency_premium_pct=0, updated_at=NOW)  # fmt: skip
    ordered_only = execution(line, promised=0, today=TODAY, material=material)
    assert (ordered_only.executed_pct, ordered_only.band) == (Decimal("75.0"), Band.UNDER)
    assert ordered_only.expiring and ordered_only.days_left == 30
    with_promises = execution(line, promised=20, today=TODAY, material=material)
    assert (with_promises.committed_pct, with_promises.band) == (Decimal("85.0"), Band.WITHIN)
    later = execution(line, promised=0, today=TODAY - timedelta(days=1), material=material)
    assert not later.expiring and later.days_left == 31
