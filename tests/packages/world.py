"""A hand-built budget world on the weekly tests' small supply world (tests/weekly/world.py).

Prices there: DT-400 transformer standard 45,000; MTR-1P meter standard 200, consigned at WH-WD
for 190; CB10-300 cable standard 560 a metre. Everything below is written row by row, so each
figure the tests expect can be computed by hand (see `build_budget_world`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from catalogs.models import Consignment
from supply.commitments import refresh_statuses
from supply.core.clock import SHANGHAI
from supply.demand.models import DemandLine, DemandStatus
from supply.holds.models import Hold, Promise
from supply.packages.models import Package
from supply.projects.models import Project
from supply.requests.models import SupplyRequest
from supply.weekly.models import PlanLine, PlanRun
from tests.weekly.world import add_project, load_world

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def add_package(session: Session, package_id: str, budget: str, *, year: int = 2026) -> Package:
    """A package with a budget, written directly."""
    package = Package(
        id=package_id,
        name=f"{package_id} 项目包",
        year=year,
        kind="业扩配套",
        budget=Decimal(budget),
        updated_at=T0,
    )
    session.add(package)
    session.commit()
    return package


def add_packaged_project(
    session: Session,
    project_id: str,
    package_id: str | None,
    lines: list[tuple[str, int]],
    *,
    kind: str = "area_capacity_increase",
    approved: date = date(2026, 11, 26),
    location: str = "wendeng",
    status: str = "active",
) -> dict[int, int]:
    """A project in a package (or none) with its lines; return line number → line id."""
    voltage = "0.4kV" if kind == "lv_extension" else "10kV"
    add_project(
        session,
        project_id,
        kind=kind,
        approved=approved,
        location=location,
        lines=lines,
        voltage=voltage,
    )
    project = session.get(Project, project_id)
    assert project is not None
    project.package_id = package_id
    project.status = status
    session.add(project)
    session.commit()
    return {
        line.line_no: line.id or 0
        for line in session.exec(select(DemandLine).where(DemandLine.project_id == project_id))
    }


def add_hold(
    session: Session,
    line_id: int,
    *,
    kind: str,
    warehouse: str,
    material: str,
    quantity: int,
    status: str = "held",
    consignment_id: int | None = None,
) -> None:
    session.add(
        Hold(
            demand_line_id=line_id,
            stock_kind=kind,
            warehouse_id=warehouse,
            material_code=material,
            consignment_id=consignment_id,
            quantity=quantity,
            status=status,
            created_at=T0,
            created_by="tester",
        )
    )


def add_run(session: Session, batch: str, status: str, run_at: datetime) -> int:
    run = PlanRun(
        batch_id=batch,
        cutoff=run_at,
        plan_date=run_at.date(),
        province_match_on=run_at.date(),
        status=status,
        solve_status="optimal",
        run_at=run_at,
        run_by="tester",
        run_dir="/nowhere",
        demand_lines=0,
        replenishment_lines=0,
        unmet_weighted=Decimal(0),
        lateness_weighted=Decimal(0),
        cost=Decimal(0),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def add_plan_line(
    session: Session,
    run_id: int,
    line_id: int,
    project_id: str,
    material: str,
    kind: str,
    quantity: int,
    unit_cost: str = "0",
) -> None:
    session.add(
        PlanLine(
            run_id=run_id,
            demand_line_id=line_id,
            project_id=project_id,
            material_code=material,
            kind=kind,
            quantity=quantity,
            unit_cost=Decimal(unit_cost),
            need_by=date(2026, 12, 3),
        )
    )


def add_promise(
    session: Session,
    request_id: int,
    line_id: int,
    material: str,
    quantity: int,
    unit_cost: str,
    status: str,
) -> None:
    session.add(
        Promise(
            request_id=request_id,
            demand_line_id=line_id,
            kind="emergency",
            material_code=material,
            quantity=quantity,
            unit_cost=Decimal(unit_cost),
            arrival=date(2026, 12, 20),
            batch_id="2026-W49",
            status=status,
            created_at=T0,
            created_by="tester",
        )
    )


def build_budget_world(session: Session) -> None:
    """Packages PK-A (100,000), PK-B (500), PK-C (2025, no projects) and these projects:

    P1 in PK-A, active: L1 DT-400 ×2, L2 MTR-1P ×10, L3 CB10-300 ×100, L4 CB10-300 ×7 (cancelled)
      committed  L1 reserve hold 1 × 45,000                              =  45,000
                 L2 consignment hold issued 4 × 190 (a released hold of 3 does not count)
                    + promised 2 × 240 + fulfilled 1 × 250 (a cancelled promise does not)
                                                                          =   1,490
                 L3 agreement 60 × 520 in the approved run W48           =  31,200  → 77,690
      pending    L1 1 left; its latest live run (W48) is approved → standard 45,000
                 L2 10 − 7 = 3 along the draft W49: consignment 3 × 190 =     570
                 L3 100 − 60 = 40 along the draft W49: emergency 40 × 728 = 29,120 → 74,690
      (a superseded W49 run, though later, prices nothing)
    P2 in PK-A, completed: 5 meters issued from reserve → committed 1,000
    P3 in PK-B: 1 meter open, no plan → pending 200
    P4 in no package: a transformer, open
    PK-A: committed 78,690, pending 74,690, forecast 153,380, remaining 21,310, overrun 53,380.
    """
    load_world(session)
    add_package(session, "PK-A", "100000")
    add_package(session, "PK-B", "500")
    add_package(session, "PK-C", "0", year=2025)
    p1 = add_packaged_project(
        session,
        "P1",
        "PK-A",
        [("DT-400", 2), ("MTR-1P", 10), ("CB10-300", 100), ("CB10-300", 7)],
    )
    p2 = add_packaged_project(
        session,
        "P2",
        "PK-A",
        [("MTR-1P", 5)],
        kind="lv_extension",
        approved=date(2026, 11, 20),
        status="completed",
    )
    add_packaged_project(
        session, "P3", "PK-B", [("MTR-1P", 1)], kind="lv_extension", approved=date(2026, 11, 27)
    )
    add_packaged_project(session, "P4", None, [("DT-400", 1)])

    cancelled = session.get(DemandLine, p1[4])
    issued = session.get(DemandLine, p2[1])
    assert cancelled is not None and issued is not None
    cancelled.status = DemandStatus.CANCELLED
    issued.status = DemandStatus.ISSUED
    session.add(cancelled)
    session.add(issued)

    consignment = session.exec(
        select(Consignment).where(Consignment.material_code == "MTR-1P")
    ).one()
    add_hold(session, p1[1], kind="reserve", warehouse="WH-WD", material="DT-400", quantity=1)
    add_hold(
        session,
        p1[2],
        kind="consignment",
        warehouse="WH-WD",
        material="MTR-1P",
        quantity=4,
        status="issued",
        consignment_id=consignment.id,
    )
    add_hold(
        session,
        p1[2],
        kind="consignment",
        warehouse="WH-WD",
        material="MTR-1P",
        quantity=3,
        status="released",
        consignment_id=consignment.id,
    )
    add_hold(
        session,
        p2[1],
        kind="reserve",
        warehouse="WH-CENTRAL",
        material="MTR-1P",
        quantity=5,
        status="issued",
    )

    w48 = add_run(session, "2026-W48", "approved", datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI))
    add_plan_line(session, w48, p1[1], "P1", "DT-400", "reserve", 1, "45000")
    add_plan_line(session, w48, p1[1], "P1", "DT-400", "unmet", 1)
    add_plan_line(session, w48, p1[3], "P1", "CB10-300", "agreement", 60, "520")
    add_plan_line(session, w48, p1[3], "P1", "CB10-300", "unmet", 40)
    old = add_run(session, "2026-W49", "superseded", datetime(2026, 11, 30, 13, 0, tzinfo=SHANGHAI))
    add_plan_line(session, old, p1[1], "P1", "DT-400", "agreement", 1, "1")
    add_plan_line(session, old, p1[3], "P1", "CB10-300", "agreement", 40, "1")
    w49 = add_run(session, "2026-W49", "draft", datetime(2026, 11, 30, 12, 30, tzinfo=SHANGHAI))
    add_plan_line(session, w49, p1[2], "P1", "MTR-1P", "consignment", 3, "190")
    add_plan_line(session, w49, p1[2], "P1", "MTR-1P", "unmet", 1)
    add_plan_line(session, w49, p1[3], "P1", "CB10-300", "emergency", 40, "728")

    request = SupplyRequest(
        project_id="P1", fingerprint="0" * 64, answer="{}", created_at=T0, created_by="tester"
    )
    session.add(request)
    session.flush()
    assert request.id is not None
    add_promise(session, request.id, p1[2], "MTR-1P", 2, "240", "promised")
    add_promise(session, request.id, p1[2], "MTR-1P", 1, "250", "fulfilled")
    add_promise(session, request.id, p1[2], "MTR-1P", 5, "240", "cancelled")
    session.flush()  # the rows above are made by hand: statuses and covered as services keep them
    refresh_statuses(session, session.exec(select(DemandLine.id)).all())
    session.commit()
