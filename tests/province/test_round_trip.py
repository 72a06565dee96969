"""The whole loop: the city's export → the province's matching → the city imports its result
unchanged → its agreement lines and plan lines change as the result says (both databases)."""

from __future__ import annotations

import io
import zlib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import openpyxl
from sqlmodel import Session, select

from catalogs.importing import export_catalog
from catalogs.models import AgreementLine, CatalogKind
from supply.core.settings import Settings
from supply.province.matching import Upload
from supply.province.service import match_files
from supply.weekly.approval import approve_run
from supply.weekly.models import LineKind, PlanLine
from supply.weekly.province import import_province_match
from supply.weekly.run import run_weekly
from tests.conftest import sheet_rows, xlsx_bytes
from tests.weekly.world import BEFORE_CUTOFF, CALENDAR, POLICY

BATCH = "2026-W49"
TRANSPORT_DAYS = 2


def provincial_catalog(session: Session) -> bytes:
    """The city's agreement lines as the province holds them: delivered from suppliers' sites."""
    book = openpyxl.load_workbook(
        io.BytesIO(export_catalog(session=session, kind=CatalogKind.AGREEMENTS))
    )
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    site, supplier = header.index("交货地点"), header.index("供应商")
    rows = [header]
    for row in sheet.iter_rows(min_row=2, values_only=True):
        if row[0] is None or str(row[0]).startswith("合计"):
            continue
        values = list(row)
        values[site] = f"SITE-{zlib.crc32(str(values[supplier]).encode()) % 7}"
        rows.append(values)
    return xlsx_bytes(rows, title="协议库存")


def test_weihai_imports_the_provinces_result_and_its_lines_move_as_it_says(
    week_session: Session, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=week_session.get_bind().url.render_as_string(hide_password=False),  # type: ignore[union-attr]
        runs_dir=str(tmp_path / "runs"),
    )
    outcome = run_weekly(
        engine=week_session.get_bind(), at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部 李工",  # type: ignore[arg-type]
        calendar=CALENDAR, policy=POLICY, settings=settings, rerun=False,
    )  # fmt: skip
    export = outcome.exports["agreement_requirements"].read_bytes()
    catalog = provincial_catalog(week_session)
    sites = {r[15] for r in sheet_rows(catalog, "协议库存")[1:]}
    transport = xlsx_bytes(
        [["交货地点", "地市", "运输天数"], *[[s, "威海", TRANSPORT_DAYS] for s in sorted(sites)]],
        title="运输天数",
    )
    report = match_files(
        batch_id=BATCH,
        agreements=Upload("省级协议库存.xlsx", catalog),
        transport=Upload("省内运输天数.xlsx", transport),
        cities=[Upload(f"{BATCH}_威海_协议库存需求计划.xlsx", export)],
        out_dir=tmp_path / "province",
        settings=settings,
    )
    result = report.files[f"{BATCH}_威海_省公司匹配结果.xlsx"].read_bytes()
    rows = sheet_rows(result, "匹配结果")[1:]
    assert rows, "the province matched nothing"

    approve_run(
        session=week_session, batch_id=BATCH, user="主任", now=BEFORE_CUTOFF, calendar=CALENDAR,
        policy=POLICY, settings=settings,
    )  # fmt: skip
    agreements = {(a.agreement_no, a.line_no): a for a in week_session.exec(select(AgreementLine))}
    ordered_before = {k: a.ordered_quantity for k, a in agreements.items()}
    lead = {a.id: a.lead_days for a in agreements.values()}
    plan = list(
        week_session.exec(
            select(PlanLine).where(
                PlanLine.run_id == outcome.run.id, PlanLine.kind == LineKind.AGREEMENT
            )
        )
    )
    before = {p.id: (p.arrival, p.agreement_line_id) for p in plan}
    imported = import_province_match(
        session=week_session, batch_id=BATCH, content=result, file_name="省公司匹配结果.xlsx",
        user="物资部 李工", now=BEFORE_CUTOFF + timedelta(days=2),
    )  # fmt: skip
    assert imported.rows == len(rows)

    # Each agreement line is ordered exactly what the result matched to it.
    matched: dict[tuple[str, int], int] = defaultdict(int)
    latest: dict[tuple[str, str], tuple[date, tuple[str, int]]] = {}
    for material, warehouse, no, line_no, _supplier, quantity, arrival, *_ in rows:
        matched[no, line_no] += quantity
        day = arrival.date() if hasattr(arrival, "date") else arrival
        key = (material, warehouse)
        if key not in latest or day > latest[key][0]:
            latest[key] = (day, (no, line_no))
    for key, agreement in agreements.items():
        week_session.refresh(agreement)
        assert agreement.ordered_quantity == ordered_before[key] + matched.get(key, 0)

    # Each plan line now comes from the line the province matched, when the province says: its
    # arrival moves by the province's date against what the city expected (order + lead time).
    match_day = date.fromisoformat(report.figures["match_day"])
    assert match_day == date(2026, 12, 2)  # the cutoff Monday 11-30 + two working days
    moved = 0
    for line in plan:
        week_session.refresh(line)
        found = latest.get((line.material_code, line.warehouse_id or ""))
        if found is None:
            assert (line.arrival, line.agreement_line_id) == before[line.id]
            continue
        arrival, key = found
        old_arrival, old_agreement = before[line.id]
        assert line.agreement_line_id == agreements[key].id
        expected_shift = arrival - (match_day + timedelta(days=lead[old_agreement]))
        assert line.arrival == old_arrival + expected_shift  # type: ignore[operator]
        assert line.late_days == max(0, (line.arrival - line.need_by).days)  # type: ignore[operator]
        moved += line.arrival != old_arrival
    assert moved > 0  # the transport days the province adds move arrivals
