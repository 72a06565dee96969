"""Catalog services on a real database: quota catalog lifecycle, reserve positions, agreements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from catalogs import queries, reserve
from catalogs.importing import export_catalog
from catalogs.models import AgreementLine, CatalogKind, Quota, QuotaCatalogStatus
from supply.core.errors import Conflict, InvalidInput, NotFound

ImportFn = Callable[..., object]
QUOTAS = [["年度", "仓库编码", "物料编码", "单位", "储备定额"]]
STOCK = [["仓库编码", "物料编码", "单位", "库存数量"]]


def quotas(*rows: list[object]) -> list[list[object]]:
    return [*QUOTAS, *[list(r) for r in rows]]


def test_quotas_are_a_draft_until_confirmed_and_only_the_confirmed_version_is_used(
    basics: Session, import_rows: ImportFn, now: datetime
) -> None:
    import_rows(
        CatalogKind.QUOTAS,
        quotas([2026, "WH-WD", "DT-400", "台", 3], [2026, "WH-WD", "JKLYJ-70", "千米", 2]),
    )
    [draft] = reserve.list_quota_catalogs(session=basics, year=2026)
    assert (draft.version, draft.status, draft.lines, draft.created_by) == (1, "draft", 2, "tester")
    assert reserve.current_quota_catalog(session=basics, today=now.date()) is None

    confirmed = reserve.confirm_quota_catalog(
        session=basics,
        catalog_id=draft.id,
        confirmed_by=" 营销部 王敏 ",
        now=now + timedelta(hours=1),
    )
    assert (confirmed.status, confirmed.confirmed_by) == ("confirmed", "营销部 王敏")
    assert confirmed.confirmed_at == now + timedelta(hours=1)
    current = reserve.current_quota_catalog(session=basics, today=now.date())
    assert current is not None and current.id == draft.id

    # A revision starts as a copy of the confirmed version; the confirmed one stays in force.
    report = import_rows(CatalogKind.QUOTAS, quotas([2026, "WH-WD", "DT-400", "台", 5]))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)  # type: ignore[attr-defined]
    assert "v2" in report.note  # type: ignore[attr-defined]
    latest, first = reserve.list_quota_catalogs(session=basics, year=2026)
    assert (first.version, first.status) == (1, "confirmed")
    assert (latest.version, latest.status, latest.lines) == (2, "draft", 2)
    still = reserve.current_quota_catalog(session=basics, today=now.date())
    assert still is not None and still.version == 1
    positions = reserve.reserve_positions(session=basics, today=now.date()).items
    assert {(p.material_code, p.quota) for p in positions} == {("DT-400", 3), ("JKLYJ-70", 2000)}

    reserve.confirm_quota_catalog(
        session=basics, catalog_id=latest.id, confirmed_by="营销部", now=now
    )
    statuses = {c.version: c.status for c in reserve.list_quota_catalogs(session=basics, year=2026)}
    assert statuses == {1: QuotaCatalogStatus.SUPERSEDED, 2: QuotaCatalogStatus.CONFIRMED}
    # Next year has no confirmed catalog yet: nothing is in force then.
    assert reserve.current_quota_catalog(session=basics, today=date(2027, 1, 4)) is None


def test_confirmation_refuses_what_cannot_be_confirmed(
    basics: Session, import_rows: ImportFn, now: datetime
) -> None:
    import_rows(CatalogKind.QUOTAS, quotas([2026, "WH-WD", "DT-400", "台", 3]))
    [draft] = reserve.list_quota_catalogs(session=basics)
    with pytest.raises(InvalidInput, match="say who confirms"):
        reserve.confirm_quota_catalog(
            session=basics, catalog_id=draft.id, confirmed_by="  ", now=now
        )
    with pytest.raises(NotFound, match="quota catalog 999 does not exist"):
        reserve.confirm_quota_catalog(session=basics, catalog_id=999, confirmed_by="x", now=now)
    reserve.confirm_quota_catalog(session=basics, catalog_id=draft.id, confirmed_by="x", now=now)
    with pytest.raises(Conflict, match="only a draft can be confirmed"):
        reserve.confirm_quota_catalog(
            session=basics, catalog_id=draft.id, confirmed_by="x", now=now
        )


def test_quotas_of_a_material_outside_the_reserve_catalog_are_refused(
    basics: Session, import_rows: ImportFn
) -> None:
    from supply.core.errors import ImportRejected

    with pytest.raises(ImportRejected, match="1 problem"):
        import_rows(CatalogKind.QUOTAS, quotas([2026, "WH-WD", "CB10-300", "米", 500]))
    assert basics.exec(select(Quota)).all() == []


def test_reserve_positions_show_the_shortfall_and_its_value(
    basics: Session, import_rows: ImportFn, now: datetime
) -> None:
    import_rows(
        CatalogKind.RESERVE,
        [
            *STOCK,
            ["WH-WD", "DT-400", "台", 1],
            ["WH-CENTRAL", "MTR-1P", "只", 900],
            ["WH-WD", "JKLYJ-70", "千米", "2.5"],
        ],
    )
    import_rows(
        CatalogKind.QUOTAS,
        quotas(
            [2026, "WH-WD", "DT-400", "台", 3],
            [2026, "WH-CENTRAL", "MTR-1P", "只", 500],
            [2026, "WH-SD", "MTR-1P", "只", 40],
        ),
    )
    [draft] = reserve.list_quota_catalogs(session=basics)
    reserve.confirm_quota_catalog(session=basics, catalog_id=draft.id, confirmed_by="x", now=now)
    below = reserve.reserve_positions(session=basics, today=now.date(), below_quota_only=True).items
    assert [
        (p.warehouse_id, p.material_code, p.on_hand, p.quota, p.shortfall, str(p.shortfall_value))
        for p in below
    ] == [
        ("WH-WD", "DT-400", 1, 3, 2, "90000.00"),
        ("WH-SD", "MTR-1P", 0, 40, 40, "8000.00"),
    ]
    every = reserve.reserve_positions(session=basics, today=now.date()).items
    assert ("WH-WD", "JKLYJ-70", 2500, 0) in {
        (p.warehouse_id, p.material_code, p.on_hand, p.quota) for p in every
    }


AGREEMENTS = [
    [
        "协议编号",
        "行号",
        "供应商",
        "物料编码",
        "协议单价",
        "预估数量",
        "已下单数量",
        "有效期起",
        "有效期止",
    ]
]


def test_agreement_remaining_is_derived_never_negative_and_zero_outside_validity(
    basics: Session, import_rows: ImportFn
) -> None:
    import_rows(
        CatalogKind.AGREEMENTS,
        [
            *AGREEMENTS,
            [
                "A",
                1,
                "甲公司",
                "DT-400",
                41000,
                10,
                4,
                "2026-03-01",
                "2027-02-28",
            ],  # 12 − 4 = 8 left
            [
                "A",
                2,
                "甲公司",
                "MTR-1P",
                190,
                10,
                15,
                "2026-03-01",
                "2027-02-28",
            ],  # past its band: 0, not −3
            [
                "A",
                3,
                "甲公司",
                "CB10-300",
                550,
                7,
                7,
                "2026-03-01",
                "2027-02-28",
            ],  # ⌊7 × 1.2⌋ = 8: 1 left
            ["B", 1, "乙公司", "DT-400", 40000, 10, 0, "2025-03-01", "2026-02-28"],  # expired
            ["C", 1, "丙公司", "DT-400", 39000, 10, 0, "2026-07-01", "2027-06-30"],  # not yet valid
        ],
    )
    today = date(2026, 6, 15)
    page = queries.list_agreements(session=basics, today=today)
    remaining = {(a.agreement_no, a.line_no): (a.remaining_quantity, a.serving) for a in page.items}
    assert remaining == {
        ("A", 1): (8, True),
        ("A", 2): (0, False),
        ("A", 3): (1, True),
        ("B", 1): (0, False),
        ("C", 1): (0, False),
    }
    # The database filter agrees with the derivation, on every database.
    serving = queries.list_agreements(session=basics, today=today, serving=True).items
    assert {(a.agreement_no, a.line_no) for a in serving} == {("A", 1), ("A", 3)}
    idle = queries.list_agreements(session=basics, today=today, serving=False).items
    assert {(a.agreement_no, a.line_no) for a in idle} == {("A", 2), ("B", 1), ("C", 1)}
    # On its last day the line still serves; the day after it serves nothing.
    line = basics.exec(
        select(AgreementLine).where(AgreementLine.agreement_no == "A", AgreementLine.line_no == 1)
    ).one()
    assert queries.agreement_public(line, today=date(2027, 2, 28)).remaining_quantity == 8
    assert queries.agreement_public(line, today=date(2027, 3, 1)).remaining_quantity == 0
    alert = queries.agreement_alert(line, today=date(2027, 2, 10))
    assert alert is not None and alert.validity_ending and not alert.band_ending


def test_reads_filter_page_and_raise_not_found(basics: Session) -> None:
    page = queries.list_materials(session=basics, q="导线", limit=10)
    assert [m.code for m in page.items] == ["JKLYJ-70"] and page.total == 1
    page = queries.list_materials(session=basics, reserve_catalog=True, offset=1, limit=1)
    assert (page.total, [m.code for m in page.items]) == (3, ["JKLYJ-70"])
    assert queries.list_materials(session=basics, q="100%_").total == 0  # wildcards are literal
    assert [w.id for w in queries.list_warehouses(session=basics, level="county").items] == [
        "WH-WD"
    ]
    with pytest.raises(NotFound, match="material TR-400 is not in the material master"):
        queries.get_material_by_code_or_raise(session=basics, code="TR-400")
    with pytest.raises(NotFound, match="warehouse WH-X does not exist"):
        queries.get_warehouse_or_raise(session=basics, warehouse_id="WH-X")
    with pytest.raises(InvalidInput, match="limit must be between 1 and 1000"):
        queries.list_materials(session=basics, limit=5000)


def test_transport_days_are_looked_up_and_zero_in_place(
    basics: Session, import_rows: ImportFn
) -> None:
    import_rows(
        CatalogKind.TRANSPORT,
        [["起点", "终点", "运输天数"], ["rushan", "huancui", 2], ["lingang", "rushan", 1]],
    )
    assert (
        queries.transport_days(session=basics, from_location="rushan", to_location="huancui") == 2
    )
    assert (
        queries.transport_days(session=basics, from_location="huancui", to_location="huancui") == 0
    )
    with pytest.raises(NotFound, match="no transport days from huancui to rushan"):
        queries.transport_days(session=basics, from_location="huancui", to_location="rushan")


def test_consignment_is_listed_per_supplier_and_warehouse(
    basics: Session, import_rows: ImportFn
) -> None:
    import_rows(
        CatalogKind.CONSIGNMENT,
        [
            ["供应商", "仓库编码", "物料编码", "单位", "寄存数量", "结算单价"],
            ["青岛汉缆", "WH-CENTRAL", "JKLYJ-70", "千米", 12, "8,800"],
            ["青岛汉缆", "WH-WD", "JKLYJ-70", "千米", 3, "8,800"],
            ["烟台金桥", "WH-WD", "MTR-1P", "只", 400, 210],
        ],
    )
    page = queries.list_consignment(session=basics, supplier="汉缆")
    assert [(c.warehouse_id, c.quantity, str(c.issue_price)) for c in page.items] == [
        ("WH-CENTRAL", 12000, "8.800000"),
        ("WH-WD", 3000, "8.800000"),
    ]
    csv_text = export_catalog(session=basics, kind=CatalogKind.CONSIGNMENT, fmt="csv").decode(
        "utf-8-sig"
    )
    assert "青岛汉缆,WH-CENTRAL,JKLYJ-70,10kV架空绝缘导线 JKLYJ-10/70,米,12000,8.8" in csv_text
