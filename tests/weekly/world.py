"""A small supply world for the weekly-run tests, built through the ordinary import path.

Two warehouses (central at lingang, a county store at wendeng), a transformer held in reserve at
wendeng (2 on hand, quota 2), meters in central reserve and in vendor consignment at wendeng,
one agreement line for the transformer delivered at central with a 20-day lead time. Projects
are added with `add_project`, a plain factory (deadline and need-by from the real policy).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from catalogs.importing import import_catalog
from catalogs.models import CatalogKind
from catalogs.reserve import confirm_quota_catalog, find_quota_catalog
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core.clock import SHANGHAI
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.policy import build_deadline
from supply.projects.models import Project
from tests.conftest import xlsx_bytes

LOADED = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
BEFORE_CUTOFF = datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI)  # batch 2026-W49, cutoff 12:00
CALENDAR = load_calendar()
POLICY = policy_from_settings(Settings())

FILES: list[tuple[CatalogKind, list[list[object]]]] = [
    (CatalogKind.MATERIALS, [
        ["物料编码", "物料名称", "计量单位", "电压等级", "标准单价", "储备目录", "紧急采购周期(天)", "紧急采购溢价(%)"],
        ["DT-400", "10kV油浸式配电变压器 400kVA", "台", "10kV", 45000, "是", 30, 30],
        ["MTR-1P", "单相智能电能表", "只", "0.4kV", 200, "是", 10, 20],
        ["CB10-300", "10kV电力电缆 3×300", "米", "10kV", 560, "否", 25, 30],
    ]),
    (CatalogKind.WAREHOUSES, [
        ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
        ["WH-CENTRAL", "物资中心库", "市级中心库", "lingang"],
        ["WH-WD", "文登周转库", "县级周转库", "wendeng"],
    ]),
    (CatalogKind.TRANSPORT, [
        ["起点", "终点", "运输天数"],
        ["lingang", "wendeng", 1], ["wendeng", "lingang", 1],
        ["lingang", "huancui", 1], ["wendeng", "huancui", 1],
    ]),
    (CatalogKind.RESERVE, [
        ["仓库编码", "物料编码", "库存数量"],
        ["WH-WD", "DT-400", 2],
        ["WH-CENTRAL", "MTR-1P", 50],
    ]),
    (CatalogKind.QUOTAS, [
        ["年度", "仓库编码", "物料编码", "储备定额"],
        [2026, "WH-WD", "DT-400", 2],
        [2026, "WH-CENTRAL", "MTR-1P", 20],
    ]),
    (CatalogKind.AGREEMENTS, [
        ["协议编号", "行号", "供应商", "物料编码", "协议单价", "预估数量", "有效期起", "有效期止", "供货周期(天)", "交货地点"],
        ["SD-2026-01", 1, "特变电工", "DT-400", 42000, 10, "2026-01-01", "2027-06-30", 20, "WH-CENTRAL"],
        ["SD-2026-01", 2, "某电缆厂", "CB10-300", 520, 5000, "2026-01-01", "2027-06-30", 15, "WH-CENTRAL"],
    ]),
    (CatalogKind.CONSIGNMENT, [
        ["供应商", "仓库编码", "物料编码", "寄存数量", "结算单价"],
        ["泰开电气", "WH-WD", "MTR-1P", 10, 190],
    ]),
]  # fmt: skip


def load_world(session: Session) -> None:
    """Import the world's catalogs and confirm its 2026 quota catalog."""
    for kind, rows in FILES:
        import_catalog(
            session=session,
            kind=kind,
            content=xlsx_bytes(rows),
            file_name=f"{kind.value}.xlsx",
            imported_by="tester",
            now=LOADED,
        )
    catalog = find_quota_catalog(session=session, year=2026)
    assert catalog is not None and catalog.id is not None
    confirm_quota_catalog(session=session, catalog_id=catalog.id, confirmed_by="营销部", now=LOADED)


def add_project(
    session: Session,
    project_id: str,
    *,
    kind: str,
    approved: date,
    location: str,
    lines: list[tuple[str, int]],
    voltage: str = "10kV",
    priority: str = "normal",
    submitted: datetime = LOADED,
) -> Project:
    """Add a project and its demand lines; deadline and need-by come from the policy."""
    deadline = build_deadline(kind, approved=approved, calendar=CALENDAR, policy=POLICY)
    project = Project(
        id=project_id,
        name=f"项目 {project_id}",
        project_type=kind,
        voltage_class=voltage,
        location=location,
        approved_on=approved,
        priority=priority,
        deadline=deadline.deadline,
        need_by=deadline.need_by,
        created_at=LOADED,
        created_by="tester",
        updated_at=LOADED,
    )
    session.add(project)
    session.flush()
    for number, (material, quantity) in enumerate(lines, start=1):
        session.add(
            DemandLine(
                project_id=project_id,
                line_no=number,
                material_code=material,
                quantity=quantity,
                submitted_at=submitted,
                submitted_by="tester",
            )
        )
    session.commit()
    return project


def add_on_time_and_late(session: Session) -> None:
    """Two projects: a transformer for wendeng from its reserve, on time (P-CAP), and 100 m of
    cable for a 5-day job at huancui from the agreement line, 16 days late (P-LATE)."""
    add_project(session, "P-CAP", kind="area_capacity_increase", approved=date(2026, 11, 26),
                location="wendeng", lines=[("DT-400", 1)])  # fmt: skip
    add_project(session, "P-LATE", kind="lv_extension", approved=date(2026, 11, 27),
                location="huancui", voltage="0.4kV", lines=[("CB10-300", 100)])  # fmt: skip


def settings_for(session: Session, runs: str) -> Settings:
    """Settings pointing at this test's database and run folder."""
    url = session.get_bind().url.render_as_string(hide_password=False)  # type: ignore[union-attr]
    return Settings(database_url=url, runs_dir=runs)


__all__ = [
    "BEFORE_CUTOFF",
    "CALENDAR",
    "POLICY",
    "add_on_time_and_late",
    "add_project",
    "load_world",
    "settings_for",
    "timedelta",
]
