"""项目包与备案 in process, on the packages tests' hand-built budget world (tests/packages/world.py)
with two open filings: who may read the page and who may file, the figures and the chart against
the budget service, sorting and filters, the Excel downloads, and filing through the form."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.web import formats
from supply.calendar_store import load_calendar
from supply.core.audit import AuditEvent
from supply.core.clock import SHANGHAI
from supply.packages.budget import budget_check, package_figures
from supply.packages.filings import record_filings
from supply.packages.models import Filing, Package, PackageFigures
from supply.policy import DeadlinePolicy
from tests.packages.world import T0, build_budget_world
from tests.signin import bearer
from tests.web.conftest import NOW, csrf_of, sign_in

CALENDAR = load_calendar()
HOSTILE = '=HYPERLINK("http://example.com","点我")'
READERS = ("planner", "development", "viewer")
OTHERS = ("project_manager", "marketing", "admin")


def _open_filing(session: Session, project_id: str, addition: str, review: date) -> Filing:
    [filing] = record_filings(
        session=session,
        warnings=budget_check(session=session, additions={project_id: Decimal(addition)}),
        review_date=review,
        now=datetime.combine(review, datetime.min.time(), tzinfo=SHANGHAI),
        by="development",
        calendar=CALENDAR,
        policy=DeadlinePolicy(),
    )
    session.commit()
    return filing


@pytest.fixture
def world(web_engine: Engine) -> Iterator[dict[str, int]]:
    """The budget world (PK-A over budget, PK-B and PK-C not), a package with a name that looks
    like a formula, and two open filings: P1 reviewed Fri 11-20 (due Tue 11-24: overdue on
    Mon 11-30) and P3 reviewed Thu 11-26 (due Mon 11-30: today)."""
    with Session(web_engine) as session:
        build_budget_world(session)
        session.add(
            Package(
                id="PK-X", name=HOSTILE, year=2026, kind="=1+1", budget=Decimal("10"),
                updated_at=T0,
            )
        )  # fmt: skip
        session.commit()
        overdue = _open_filing(session, "P1", "1", date(2026, 11, 20))
        today = _open_filing(session, "P3", "600", date(2026, 11, 26))
        ids = {"overdue": overdue.id or 0, "today": today.id or 0}
    yield ids


def figures(engine: Engine) -> dict[str, PackageFigures]:
    with Session(engine) as session:
        return {f.package_id: f for f in package_figures(session=session)}


def table_rows(page: str) -> dict[str, list[str]]:
    """Each package row of the page's table: its cells' text, by package id, in page order."""
    rows: dict[str, list[str]] = {}
    body = page.split('<table class="data packages">', 1)[1].split("</table>", 1)[0]
    for package_id, row in re.findall(r'<tr[^>]*data-package="([^"]+)">(.*?)</tr>', body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows[html.unescape(package_id)] = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells
        ]
    return rows


def chart_of(page: str) -> dict[str, Any]:
    found = re.search(r"data-bars='([^']*)'", page)
    assert found, page[:2000]
    return dict(json.loads(html.unescape(found.group(1))))


FIGURES = ("budget", "committed", "pending", "remaining", "forecast", "overrun")


# ------------------------------------------------------------------ who may read, who may file


@pytest.mark.parametrize("login", READERS)
def test_the_readers_of_packages_open_the_page_and_its_downloads(
    web: TestClient, world: dict[str, int], login: str
) -> None:
    sign_in(web, login)
    page = web.get("/packages")
    assert page.status_code == 200, page.text
    nav = page.text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert ">项目包与备案</a>" in nav
    assert web.get("/packages/export").status_code == 200
    assert web.get("/packages/PK-A/funding-application").status_code == 200
    # only development may file: the form is theirs alone
    assert ('action="/packages/filings/' in page.text) == (login == "development")


@pytest.mark.parametrize("login", OTHERS)
def test_everyone_else_is_refused_the_page_and_its_downloads(
    web: TestClient, world: dict[str, int], login: str
) -> None:
    sign_in(web, login)
    for path in ("/packages", "/packages/export", "/packages/PK-A/funding-application"):
        refused = web.get(path)
        assert refused.status_code == 403, path
        assert "查看项目包预算 (packages.read)" in refused.text
    home = web.get("/")
    assert ">项目包与备案</a>" not in web.get(home.headers.get("location", "/")).text


# ------------------------------------------------------------------ the figures


def test_the_table_and_the_chart_show_the_budget_service_s_figures(
    web: TestClient, world: dict[str, int], web_engine: Engine
) -> None:
    sign_in(web, "development")
    page = web.get("/packages")
    rows = table_rows(page.text)
    expected = figures(web_engine)
    # newest year first, then by id (the service's default order)
    assert list(rows) == ["PK-A", "PK-B", "PK-X", "PK-C"]
    for package_id, cells in rows.items():
        f = expected[package_id]
        assert cells[0] == package_id and cells[2] == str(f.year)
        assert cells[3:9] == [formats.money(getattr(f, k)) for k in FIGURES], package_id
        assert cells[9] == str(len(f.projects))
    # PK-A as worked out by hand in tests/packages/world.py
    assert rows["PK-A"][3:9] == [
        "100,000.00", "78,690.00", "74,690.00", "21,310.00", "153,380.00", "53,380.00",
    ]  # fmt: skip
    assert rows["PK-A"][10] == "下载申请" and rows["PK-B"][10] == "未超支"
    chart = chart_of(page.text)
    assert chart["categories"] == list(rows)
    assert [s["key"] for s in chart["series"]] == list(FIGURES)
    for series in chart["series"]:
        assert series["data"] == [
            float(getattr(expected[p], series["key"]).quantize(Decimal("0.01"), ROUND_HALF_UP))
            for p in rows
        ]
    # the formula-looking name is shown as text, escaped
    assert "=HYPERLINK(&#34;http://example.com&#34;,&#34;点我&#34;)" in page.text


@pytest.mark.parametrize("key", ["forecast", "overrun", "budget", "name", "remaining"])
def test_sorting_by_a_column_changes_the_order_of_the_rows(
    web: TestClient, world: dict[str, int], web_engine: Engine, key: str
) -> None:
    sign_in(web, "viewer")
    expected = figures(web_engine)

    def value(package_id: str) -> Any:
        return expected[package_id].name if key == "name" else getattr(expected[package_id], key)

    up = list(table_rows(web.get("/packages", params={"sort": key}).text))
    down = list(table_rows(web.get("/packages", params={"sort": f"-{key}"}).text))
    assert [value(p) for p in up] == sorted(value(p) for p in up)
    assert [value(p) for p in down] == sorted((value(p) for p in down), reverse=True)
    assert up != down and sorted(up) == sorted(down) == sorted(expected)
    # the header links sort the other way next, keeping the filters
    page = web.get("/packages", params={"sort": key, "year": "2026"}).text
    assert f'href="?year=2026&amp;sort=-{key}"' in page


def test_the_list_is_paged_in_the_sorted_order(
    web: TestClient, world: dict[str, int], web_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.web.packages.PER_PAGE", 3)
    sign_in(web, "viewer")
    first = web.get("/packages", params={"sort": "-forecast"}).text
    second = web.get("/packages", params={"sort": "-forecast", "offset": 3}).text
    assert "第 1–3 行，共 4 行" in first and "第 4–4 行，共 4 行" in second
    expected = sorted(figures(web_engine).values(), key=lambda f: f.forecast, reverse=True)
    assert [*table_rows(first), *table_rows(second)] == [f.package_id for f in expected]
    # the chart shows the page's packages
    assert chart_of(second)["categories"] == [expected[3].package_id]


def test_filters_narrow_the_list_and_a_bad_year_is_named_and_not_applied(
    web: TestClient, world: dict[str, int]
) -> None:
    sign_in(web, "planner")
    assert list(table_rows(web.get("/packages", params={"year": "2025"}).text)) == ["PK-C"]
    assert list(table_rows(web.get("/packages", params={"over": "1"}).text)) == ["PK-A"]
    assert list(table_rows(web.get("/packages", params={"q": "PK-B"}).text)) == ["PK-B"]
    assert list(table_rows(web.get("/packages", params={"kind": "=1+1"}).text)) == ["PK-X"]
    for bad in ("20x6", "1999", "202611"):
        page = web.get("/packages", params={"year": bad})
        assert page.status_code == 200
        year_field = page.text.split('name="year"', 1)[1].split("</label>", 1)[0]
        assert "年度写作四位数字" in year_field, bad
        assert len(table_rows(page.text)) == 4  # not applied
    wrong = web.get("/packages", params={"filings": "lost"})
    status_field = wrong.text.split('name="filings"', 1)[1].split("</label>", 1)[0]
    assert "没有备案状态 lost" in status_field
    # htmx asks for one part alone
    part = web.get("/packages", params={"over": "1"}, headers={
        "HX-Request": "true", "HX-Target": "packages"})  # fmt: skip
    assert part.text.lstrip().startswith('<section class="card" id="packages">')
    assert 'id="filings"' not in part.text
    filed = web.get("/packages", params={"filings": "overdue"}, headers={
        "HX-Request": "true", "HX-Target": "filings"})  # fmt: skip
    assert filed.text.lstrip().startswith('<section class="card" id="filings">')
    assert 'id="packages"' not in filed.text and filed.text.count("data-filing=") == 1


# ------------------------------------------------------------------ downloads


def test_the_excel_download_is_the_page_s_list(web: TestClient, world: dict[str, int]) -> None:
    sign_in(web, "development")
    params = {"sort": "-overrun", "year": "2026"}
    rows = table_rows(web.get("/packages", params=params).text)
    download = web.get("/packages/export", params=params)
    assert download.status_code == 200
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert sheet.title == "项目包预算执行"
    header, *data = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("项目包编号", "项目包名称", "年度", "类别")
    listed = [r for r in data if r[0] and not str(r[0]).startswith("合计")]
    assert [r[0] for r in listed] == list(rows)
    for r in listed:
        cells = rows[str(r[0])]
        assert [formats.money(Decimal(str(v))) for v in r[4:10]] == cells[3:9]
        assert r[10] == int(cells[9])
    # the name that looks like a formula is a text cell holding exactly the name
    [hostile] = [row for row in sheet.iter_rows(min_row=2) if row[0].value == "PK-X"]
    assert hostile[1].data_type == "s" and hostile[1].value == HOSTILE
    assert hostile[3].data_type == "s" and hostile[3].value == "=1+1"


def test_the_funding_application_of_one_package(web: TestClient, world: dict[str, int]) -> None:
    sign_in(web, "development")
    answer = web.get("/packages/PK-A/funding-application")
    assert answer.status_code == 200
    assert "20261130" in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    summary = list(book["补充资金申请"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in summary if r[0] and not str(r[0]).startswith("合计")] == ["PK-A"]
    assert Decimal(str(summary[0][9])) == Decimal("53380")  # the overrun asked for
    projects = [r for r in book["项目明细"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert {r[1] for r in projects if r[0] == "PK-A"} == {"P1", "P2"}
    missing = web.get("/packages/NOPE/funding-application")
    assert missing.status_code == 404 and "项目包 NOPE 不存在" in missing.text


# ------------------------------------------------------------------ filings


def _filing_row(page: str, filing_id: int) -> str:
    found = re.search(rf'<tr class="[a-z]+" data-filing="{filing_id}">(.*?)</tr>', page, re.S)
    assert found, page[-3000:]
    return found.group(1)


def test_the_open_filings_say_how_many_working_days_are_left(
    web: TestClient, world: dict[str, int]
) -> None:
    sign_in(web, "planner")
    page = web.get("/packages").text
    overdue, today = _filing_row(page, world["overdue"]), _filing_row(page, world["today"])
    # due Tue 11-24, today Mon 11-30: 11-25, 26, 27 and 30 are the working days since
    assert "2026-11-24 周二" in overdue and "逾期 4 个工作日" in overdue and "已逾期" in overdue
    assert "2026-11-30 周一" in today and "今日到期" in today and "待备案" in today
    assert "待办备案 2 项" in page
    assert page.index(f'data-filing="{world["overdue"]}"') < page.index(
        f'data-filing="{world["today"]}"'
    )  # earliest due first
    assert ">待发展部备案<" in overdue  # the planner reads, development files


def test_the_filings_sort_and_download_as_the_page_lists_them(
    web: TestClient, world: dict[str, int], web_engine: Engine
) -> None:
    sign_in(web, "planner")
    with Session(web_engine) as session:
        stored = session.exec(select(Filing)).all()
    latest_due = [
        f.id for f in sorted(stored, key=lambda f: (f.due_on, -(f.id or 0)), reverse=True)
    ]
    earliest_due = [f.id for f in sorted(stored, key=lambda f: (f.due_on, f.id or 0))]
    assert latest_due != earliest_due  # the sort matters
    page = web.get("/packages?filings_sort=-due_on").text
    shown = [int(i) for i in re.findall(r'data-filing="(\d+)"', page)]
    assert shown == latest_due
    assert 'aria-sort="descending"' in page.split('<table class="data filings">')[1]
    file = web.get("/packages/filings/export?filings_sort=-due_on")
    assert file.status_code == 200
    rows = list(load_workbook(io.BytesIO(file.content)).active.iter_rows(values_only=True))
    body = [row for row in rows[1:] if isinstance(row[0], int)]
    assert [row[0] for row in body] == latest_due
    assert [Decimal(str(row[5])) for row in body] == [
        next(f.overrun for f in stored if f.id == row[0]) for row in body
    ]
    assert web.get("/packages?filings_sort=nonsense").status_code == 200  # dropped


def _file(web: TestClient, filing_id: int, reference: str, token: str | None = None) -> Any:
    token = token if token is not None else csrf_of(web.get("/packages").text)
    return web.post(
        f"/packages/filings/{filing_id}/file", data={"csrf_token": token, "reference": reference}
    )


def _events(engine: Engine, filing_id: int) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "filing.file", AuditEvent.object_id == str(filing_id)
                )
            )
        )


def test_development_files_a_filing_through_the_form(
    web: TestClient, world: dict[str, int], web_engine: Engine
) -> None:
    sign_in(web, "development")
    filing_id = world["overdue"]
    done = _file(web, filing_id, "  鲁电发展备〔2026〕31号 ")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/packages?done=filed&filing={filing_id}"
    with Session(web_engine) as session:
        filing = session.get(Filing, filing_id)
        assert filing is not None and filing.filed_at is not None
        assert (filing.filed_by, filing.reference) == ("development", "鲁电发展备〔2026〕31号")
        assert filing.filed_at == NOW
    [event] = _events(web_engine, filing_id)
    assert event.actor == "development" and event.before == {"filed_at": None}
    assert event.after is not None and event.after["reference"] == "鲁电发展备〔2026〕31号"
    shown = web.get(done.headers["location"]).text
    assert f"备案 {filing_id} 已登记" in shown and "鲁电发展备〔2026〕31号" in shown
    # no longer among the open ones; listed as filed
    assert f'data-filing="{filing_id}"' not in shown
    filed = web.get("/packages", params={"filings": "filed"}).text
    assert "已备案" in _filing_row(filed, filing_id) and "鲁电发展备〔2026〕31号" in filed
    again = _file(web, filing_id, "另一个文号")
    assert again.status_code == 409 and "已于" in again.text
    assert len(_events(web_engine, filing_id)) == 1


@pytest.mark.parametrize("reference", ["", "   ", "文" * 201, "第一行\n第二行"])
def test_a_bad_reference_is_named_under_its_field_and_changes_nothing(
    web: TestClient, world: dict[str, int], web_engine: Engine, reference: str
) -> None:
    sign_in(web, "development")
    filing_id = world["today"]
    answer = _file(web, filing_id, reference)
    assert answer.status_code == 422, answer.text
    row = _filing_row(answer.text, filing_id)
    assert 'class="field-error"' in row and "请填写省公司备案文号" in row
    assert "请填写省公司备案文号" not in _filing_row(answer.text, world["overdue"])
    with Session(web_engine) as session:
        filing = session.get(Filing, filing_id)
        assert filing is not None and filing.filed_at is None and filing.reference is None
    assert _events(web_engine, filing_id) == []


@pytest.mark.parametrize("login", ["planner", "viewer"])
def test_filing_is_refused_to_those_without_the_permission(
    web: TestClient, world: dict[str, int], web_engine: Engine, login: str
) -> None:
    sign_in(web, login)
    refused = _file(web, world["today"], "鲁电发展备〔2026〕32号")
    assert refused.status_code == 403 and "办理备案 (filings.write)" in refused.text
    assert _events(web_engine, world["today"]) == []


def test_filing_without_the_csrf_token_is_refused(
    web: TestClient, world: dict[str, int], web_engine: Engine
) -> None:
    sign_in(web, "development")
    for token in ("", "forged"):
        refused = _file(web, world["today"], "鲁电发展备〔2026〕33号", token=token)
        assert refused.status_code == 403 and "CSRF" in refused.text
    with Session(web_engine) as session:
        assert session.exec(select(Filing).where(col(Filing.filed_at).is_not(None))).all() == []
    assert web.post("/packages/filings/999999/file", data={
        "csrf_token": csrf_of(web.get("/packages").text), "reference": "x"}).status_code == 404  # fmt: skip


def test_the_api_sorts_the_packages_as_the_page_does(
    web: TestClient, world: dict[str, int]
) -> None:
    sign_in(web, "viewer")
    page = list(table_rows(web.get("/packages", params={"sort": "-pending"}).text))
    headers = bearer("viewer", now=NOW)
    listed = web.get("/api/v1/packages", params={"sort": "-pending"}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["items"]] == page
    assert [p["projects"] for p in listed.json()["items"]] == [
        int(table_rows(web.get("/packages").text)[p][9]) for p in page
    ]
    refused = web.get("/api/v1/packages", params={"sort": "height"}, headers=headers)
    assert refused.status_code == 422
