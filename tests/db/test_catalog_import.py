"""Imports on a real database: upsert counts, all-or-nothing, the import record, exact money."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from catalogs.importing import export_catalog, import_catalog
from catalogs.models import AgreementLine, CatalogKind, ImportRecord, Material, ReserveStock
from catalogs.records import list_imports
from supply.core.errors import ImportRejected
from supply.core.money import MAX_PRICE
from supply.core.units import MAX_QUANTITY
from supply.sample.catalogs import load_sample

ImportFn = Callable[..., object]


def test_a_good_file_is_inserted_then_recognised_as_unchanged(
    session: Session,
    materials_rows: list[list[object]],
    make_xlsx: Callable[..., bytes],
    now: datetime,
) -> None:
    def run(rows: list[list[object]], when: datetime) -> tuple[int, int, int]:
        report = import_catalog(
            session=session,
            kind=CatalogKind.MATERIALS,
            content=make_xlsx(rows),
            file_name="物料.xlsx",
            imported_by="张工",
            now=when,
        )
        return report.inserted, report.updated, report.unchanged

    assert run(materials_rows, now) == (4, 0, 0)
    assert run(materials_rows, now + timedelta(hours=1)) == (0, 0, 4)
    materials_rows[1][4] = 46000  # a new price for DT-400
    materials_rows.append(["ARR-17", "避雷器", "只", "10kV", 120, "否", 10, 20, 10])
    assert run(materials_rows, now + timedelta(hours=2)) == (1, 1, 3)

    dt = session.get(Material, "DT-400")
    assert dt is not None and dt.standard_price == Decimal(46000)
    assert dt.updated_at == now + timedelta(hours=2)
    arrester = session.get(Material, "JKLYJ-70")
    assert arrester is not None and arrester.updated_at == now  # untouched rows keep their stamp
    records = list_imports(session=session).items
    assert [(r.inserted, r.updated, r.unchanged) for r in records] == [
        (1, 1, 3),
        (0, 0, 4),
        (4, 0, 0),
    ]
    assert (
        records[0].imported_by == "张工"
        and records[0].file_name == "物料.xlsx"
        and records[0].status == "accepted"
    )
    assert records[0].imported_at == (now + timedelta(hours=2)).astimezone(UTC)


def test_kilometres_and_prices_per_kilometre_are_stored_exactly_in_metres(basics: Session) -> None:
    conductor = basics.get(Material, "JKLYJ-70")
    assert conductor is not None
    assert (conductor.unit, conductor.standard_price) == ("米", Decimal("8.65055"))
    basics.expire_all()
    again = basics.exec(select(Material).where(Material.code == "JKLYJ-70")).one()
    assert str(again.standard_price) == "8.650550"  # six exact places on every database


def test_a_file_with_one_bad_row_writes_nothing_and_is_recorded_as_rejected(
    basics: Session, import_rows: ImportFn
) -> None:
    rows: list[list[object]] = [
        ["仓库编码", "物料编码", "库存数量"],
        ["WH-WD", "DT-400", 3],
        ["WH-WD", "MTR-1P", "1,200"],
        ["WH-XX", "DT-400", -1],
    ]
    with pytest.raises(ImportRejected) as caught:
        import_rows(CatalogKind.RESERVE, rows)
    assert [(p.row, p.column_en) for p in caught.value.problems] == [
        (4, "warehouse_id"),
        (4, "quantity"),
    ]
    assert "2 problem(s); nothing was imported" in caught.value.message
    assert basics.exec(select(ReserveStock)).all() == []
    rejected = basics.exec(select(ImportRecord).where(ImportRecord.kind == "reserve")).one()
    assert (rejected.status, rejected.problems, rejected.rows, rejected.inserted) == (
        "rejected",
        2,
        3,
        0,
    )


REFUSE_MTR = {
    "sqlite": [
        "CREATE TRIGGER refuse_mtr BEFORE INSERT ON"
        " reserve_stock WHEN NEW.material_code = 'MTR-1P' "
        "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_mtr() RETURNS trigger AS $$ BEGIN IF NEW.material_code = 'MTR-1P' "
        "THEN RAISE EXCEPTION 'refused by test trigger'; END"
        " IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_mtr BEFORE INSERT ON reserve_stock"
        " FOR EACH ROW EXECUTE FUNCTION refuse_mtr()",
    ],
}
UNDO_REFUSE_MTR = {
    "sqlite": ["DROP TRIGGER refuse_mtr"],
    "postgresql": ["DROP TRIGGER refuse_mtr ON reserve_stock", "DROP FUNCTION refuse_mtr()"],
}


def test_a_failure_while_writing_rolls_back_every_row(
    basics: Session, import_rows: ImportFn
) -> None:
    rows: list[list[object]] = [["仓库编码", "物料编码", "库存数量"], ["WH-WD", "DT-400", 3]]
    import_rows(CatalogKind.RESERVE, rows)
    dialect = basics.get_bind().dialect.name
    for statement in REFUSE_MTR[dialect]:  # the database refuses what validation cannot foresee
        basics.exec(text(statement))  # type: ignore[call-overload]
    basics.commit()
    try:
        with pytest.raises(DBAPIError, match="refused by test trigger"):
            import_rows(
                CatalogKind.RESERVE, [*rows[:1], ["WH-WD", "DT-400", 7], ["WH-WD", "MTR-1P", 5]]
            )
        basics.rollback()
        stock = {s.material_code: s.quantity for s in basics.exec(select(ReserveStock))}
        assert stock == {"DT-400": 3}  # the update in the same file was rolled back too
        assert (
            len(basics.exec(select(ImportRecord).where(ImportRecord.kind == "reserve")).all()) == 1
        )
    finally:
        basics.rollback()
        for statement in UNDO_REFUSE_MTR[dialect]:
            basics.exec(text(statement))  # type: ignore[call-overload]
        basics.commit()


def test_a_header_only_file_is_rejected(basics: Session, import_rows: ImportFn) -> None:
    with pytest.raises(ImportRejected, match="header but no rows"):
        import_rows(CatalogKind.RESERVE, [["仓库编码", "物料编码", "库存数量"]])


def test_an_unreadable_upload_is_recorded_too(session: Session, now: datetime) -> None:
    with pytest.raises(ImportRejected, match="not an Excel"):
        import_catalog(
            session=session,
            kind=CatalogKind.MATERIALS,
            content=b"\x00\x01binary",
            file_name="x.bin",
            imported_by="tester",
            now=now,
        )
    [record] = session.exec(select(ImportRecord)).all()
    assert (record.status, record.problems, record.file_name) == ("rejected", 1, "x.bin")
    assert "not an Excel" in record.first_problems


def test_agreements_default_to_the_configured_delivery_site(
    basics: Session, import_rows: ImportFn
) -> None:
    rows = [
        [
            "协议编号",
            "行号",
            "供应商",
            "物料编码",
            "协议单价",
            "预估数量",
            "有效期起",
            "有效期止",
            "交货地点",
        ],
        ["A-1", 1, "青岛某公司", "DT-400", "41,000.50", 20, "2026-03-01", "2027-02-28", ""],
        ["A-1", 2, "青岛某公司", "JKLYJ-70", 8100, 12, "2026-03-01", "2027-02-28", "WH-WD"],
    ]
    import_rows(CatalogKind.AGREEMENTS, rows, default_delivery_warehouse="WH-WD")
    lines = {a.line_no: a for a in basics.exec(select(AgreementLine))}
    assert lines[1].delivery_warehouse_id == "WH-WD" and lines[1].unit_price == Decimal("41000.5")
    # Quantity of a conductor agreement in the material's unit: metres.
    assert lines[2].estimated_quantity == 12 and lines[2].unit_price == Decimal(8100)


def test_every_catalog_exported_imports_back_unchanged(session: Session, now: datetime) -> None:
    load_sample(session=session, now=now, today=now.date())
    for fmt in ("xlsx", "csv"):
        for kind in CatalogKind:
            content = export_catalog(session=session, kind=kind, fmt=fmt, year=now.year)  # type: ignore[arg-type]
            report = import_catalog(
                session=session,
                kind=kind,
                content=content,
                file_name=f"{kind}.{fmt}",
                imported_by="round trip",
                now=now + timedelta(days=1),
            )
            assert (report.inserted, report.updated) == (0, 0), (fmt, kind)
            assert report.unchanged == report.rows > 0


def test_the_largest_accepted_values_are_stored_and_one_more_is_refused(
    basics: Session, import_rows: ImportFn
) -> None:
    warehouse_id, category = "W" * 32, "类" * 64
    import_rows(
        CatalogKind.WAREHOUSES,
        [
            ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
            [warehouse_id, "名" * 100, "仓储点", "x" * 32],
        ],
    )
    materials = [
        [
            "物料编码",
            "物料名称",
            "计量单位",
            "电压等级",
            "物资类别",
            "标准单价",
            "紧急采购周期(天)",
            "紧急采购溢价(%)",
        ],
        ["M" * 64, "名" * 200, "台", "10kV", category, "100,000,000.000000", 3650, 1000],
    ]
    import_rows(CatalogKind.MATERIALS, materials)
    agreement = [
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
            "交货地点",
        ],
        [
            "A" * 64,
            2_000_000_000,
            "供" * 200,
            "M" * 64,
            "100000000",
            100_000_000,  # MAX_QUANTITY
            100_000_000,
            "2000-01-01",
            "2100-12-31",
            warehouse_id,
        ],
    ]
    import_rows(CatalogKind.AGREEMENTS, agreement)
    basics.expire_all()
    stored = basics.get(Material, "M" * 64)
    assert stored is not None and stored.standard_price == MAX_PRICE
    line = basics.exec(select(AgreementLine)).one()
    assert (line.line_no, line.estimated_quantity) == (2_000_000_000, MAX_QUANTITY)

    too_much = [
        agreement[0],
        [
            "A" * 65,
            2_000_000_001,
            "供" * 201,
            "M" * 64,
            "100000000.000001",
            MAX_QUANTITY + 1,
            0,
            "2000-01-01",
            "2100-12-31",
            "W" * 33,
        ],
    ]
    with pytest.raises(ImportRejected) as caught:
        import_rows(CatalogKind.AGREEMENTS, too_much)
    assert [p.column_en for p in caught.value.problems] == [
        "agreement_no",
        "line_no",
        "supplier",
        "unit_price",
        "estimated_quantity",
        "delivery_warehouse_id",
    ]
    texts = [p.text for p in caught.value.problems]
    assert (
        "row 2 unit_price: unit price 100,000,000.000001/台 is above the limit of 100,000,000 CNY/台"
        in texts[3]
    )
    assert (
        "row 2 estimated_quantity: 100,000,001 台 is above the limit of 100,000,000 台" in texts[4]
    )


def test_a_quantity_over_the_limit_once_converted_to_base_units_is_refused(
    basics: Session, import_rows: ImportFn
) -> None:
    # 100,000 km is exactly the limit in metres; a kilometre more is over it.
    rows = [["仓库编码", "物料编码", "单位", "库存数量"],
            ["WH-WD", "JKLYJ-70", "千米", "100,000"],
            ["WH-SD", "JKLYJ-70", "千米", "100,001"]]  # fmt: skip
    with pytest.raises(ImportRejected) as caught:
        import_rows(CatalogKind.RESERVE, rows)
    assert [p.text for p in caught.value.problems] == [
        "第 3 行 库存数量: 100,001,000 米 超过上限 100,000,000 米 / "
        "row 3 quantity: 100,001,000 米 is above the limit of 100,000,000 米"
    ]
    import_rows(CatalogKind.RESERVE, rows[:2])
    assert basics.exec(select(ReserveStock.quantity)).one() == MAX_QUANTITY
