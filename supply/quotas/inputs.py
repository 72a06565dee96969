"""Read what the quota advisor works from: the window's batches, the demand history, the world.

The window is the 52 weeks of weekly batches before the moment's own (`window`): with the
demo's moment (Monday 2026-11-30 11:00, batch 2026-W49) that is batches 2025-W49 to 2026-W48,
submissions from 2025-11-24 12:00 up to 2026-11-23 12:00 (51 weekly runs: the Spring Festival's
two Mondays share one cutoff). The quota catalog compared with is the
confirmed version of the year asked for, else the one in force on the day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, func, select

from catalogs.models import (
    AgreementLine,
    Material,
    Quota,
    QuotaCatalog,
    QuotaCatalogStatus,
    Transport,
    Warehouse,
)
from catalogs.reserve import current_quota_catalog
from supply.availability import AgreementItem, SupplyState, material_item
from supply.calendar import WorkCalendar
from supply.core.clock import utc
from supply.core.db import where_in
from supply.core.errors import Conflict
from supply.demand.models import DemandLine, DemandStatus
from supply.policy import Batch, DeadlinePolicy, batch_for
from supply.projects.models import PRIORITY_WEIGHT, Priority, Project, ProjectStatus
from supply.quotas.world import HistoryLine, World, agreement_restock

WEEKS = 52


def window(
    now: datetime, *, calendar: WorkCalendar, policy: DeadlinePolicy
) -> tuple[datetime, list[Batch]]:
    """The weekly batches of the 52 weeks before the last cutoff that has passed by `now`,
    oldest first, and the cutoff the window starts after (the one 52 weeks before, or the last
    before that when a holiday moved it). Holidays may merge two Mondays' batches into one
    (the Spring Festival of 2026 does): 52 weeks then hold 51 weekly runs."""
    following = batch_for(now, calendar=calendar, policy=policy)
    batches = [batch_for(now - timedelta(weeks=WEEKS + 2), calendar=calendar, policy=policy)]
    while True:
        later = batch_for(batches[-1].cutoff, calendar=calendar, policy=policy)
        if later.cutoff >= following.cutoff:
            break
        batches.append(later)
    end = batches[-1].cutoff
    start = max(b.cutoff for b in batches if b.cutoff <= end - timedelta(weeks=WEEKS))
    return start, [b for b in batches if start < b.cutoff]


def quota_catalog(session: Session, *, year: int, today: date) -> QuotaCatalog:
    """The quota catalog the recommendation is compared with: `year`'s confirmed version, else
    the one in force on `today`; Conflict when there is none."""
    confirmed = session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == year, QuotaCatalog.status == QuotaCatalogStatus.CONFIRMED
        )
    ).first()
    found = confirmed or current_quota_catalog(session=session, today=today)
    if found is None:
        raise Conflict(
            f"{year} 年和 {today.year} 年都没有已确认的储备定额目录 / neither {year} nor "
            f"{today.year} has a confirmed reserve quota catalog: import one (gridsupply catalogs "
            "import quotas FILE) and confirm it, then ask again",
            loc=("year",),
        )
    return found


def read_world(
    session: Session,
    *,
    catalog: QuotaCatalog,
    batches: list[Batch],
    start: datetime,
    today: date,
    central_warehouse: str,
    penalty: Decimal,
) -> World:
    """The supply side as today's catalogs hold it (see `World`)."""
    materials = {m.code: m for m in session.exec(select(Material))}
    quotas = {
        (q.warehouse_id, q.material_code): q.quantity
        for q in session.exec(select(Quota).where(Quota.catalog_id == catalog.id))
    }
    wanted = {m for _, m in quotas}
    agreements = [
        AgreementItem(
            id=a.id or 0,
            agreement_no=a.agreement_no,
            line_no=a.line_no,
            supplier=a.supplier,
            material=a.material_code,
            available=0,
            unit_price=a.unit_price,
            lead_days=a.lead_days,
            delivery_warehouse_id=a.delivery_warehouse_id,
        )
        for a in session.exec(
            where_in(
                select(AgreementLine)
                .where(col(AgreementLine.valid_from) <= today, col(AgreementLine.valid_to) >= today)
                .order_by(col(AgreementLine.id)),
                AgreementLine.material_code,
                wanted,
            )
        )
    ]
    warehouses = list(session.exec(select(Warehouse)))
    supply = SupplyState(
        materials={code: material_item(m) for code, m in materials.items()},
        warehouse_location={w.id: w.location for w in warehouses},
        transport={
            (t.from_location, t.to_location): t.days for t in session.exec(select(Transport))
        },
        reserve=[],
        consignment=[],
        agreements=agreements,
        central_warehouse=central_warehouse,
    )
    return World(
        supply=supply,
        levels={w.id: w.level for w in warehouses},
        pairs=sorted(quotas),
        current=quotas,
        restock=agreement_restock(
            agreements,
            {code: m.typical_lead_days for code, m in materials.items()},
            central_warehouse,
            wanted,
        ),
        batches=batches,
        start=start,
        penalty=penalty,
        catalog=f"{catalog.year} 年第 {catalog.version} 版",
    )


def read_history(
    session: Session, *, start: datetime, end: datetime, materials: set[str]
) -> list[HistoryLine]:
    """The demand lines of `materials` submitted in [start, end), of projects and lines not
    cancelled, in submission order."""
    need_by = func.coalesce(DemandLine.need_by_override, Project.need_by)
    rows = session.exec(
        where_in(
            select(  # type: ignore[call-overload]  # ten columns: past sqlmodel's overloads
                DemandLine.project_id,
                DemandLine.line_no,
                Project.project_type,
                Project.voltage_class,
                Project.location,
                DemandLine.material_code,
                DemandLine.quantity,
                DemandLine.submitted_at,
                need_by,
                Project.priority,
            )
            .join(Project, col(Project.id) == DemandLine.project_id)
            .where(
                col(DemandLine.submitted_at) >= utc(start),
                col(DemandLine.submitted_at) < utc(end),
                DemandLine.status != DemandStatus.CANCELLED,
                Project.status != ProjectStatus.CANCELLED,
            )
            .order_by(col(DemandLine.submitted_at), col(DemandLine.project_id)),
            DemandLine.material_code,
            materials,
        )
    ).all()
    return [
        HistoryLine(
            key=f"{project}/{line_no}",
            project_id=project,
            project_type=kind,
            voltage_class=voltage,
            location=location,
            material=material,
            quantity=quantity,
            submitted_at=submitted.astimezone(start.tzinfo),
            need_by=due if isinstance(due, date) else date.fromisoformat(str(due)),
            weight=PRIORITY_WEIGHT.get(Priority(priority), 2),
        )
        for (
            project, line_no, kind, voltage, location, material, quantity, submitted, due,
            priority,
        ) in rows
    ]  # fmt: skip
