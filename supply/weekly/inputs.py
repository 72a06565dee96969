"""The first step of a weekly run: what it plans from, read in one session.

The batch the moment falls in (refused when its run is approved, or when it has a run and this
is not an explicit re-run); open demand up to the cutoff, refused whole when a project location
has no transport days, then screened by the planner's limits; the supply it can draw on; the
names the exports show beside codes and the urgent requests' promises they list; and the live
draft a saved run will supersede. Derived dates are refreshed and committed first, so that a
corrected calendar or policy takes effect at the next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from catalogs.models import Material, Warehouse
from supply.availability import SupplyState, catalogued_materials, load_supply
from supply.calendar import WorkCalendar
from supply.core.errors import Conflict, InvalidInput
from supply.core.settings import Settings
from supply.demand.queries import open_demand
from supply.emergency import emergency_materials
from supply.limits import Refusal, dearest_prices, refused_by_key, screen
from supply.planning import DemandItem, MatchingProblem, build_instance
from supply.policy import Batch, DeadlinePolicy, batch_for
from supply.projects.models import Project
from supply.projects.service import refresh_derived_dates
from supply.weekly.lines import promised_rows
from supply.weekly.models import RunStatus
from supply.weekly.queries import live_run


@dataclass
class RunInputs:
    """What a run plans from. The run updates it as it goes: `problem` becomes the problem
    solved, then that merged with the replenishment's; `refused` gains the materials too large
    to plan exactly."""

    batch: Batch
    problem: MatchingProblem
    supply: SupplyState
    replenish_by: date
    project_names: dict[str, str]
    project_types: dict[str, str]
    materials: dict[str, tuple[str, str]]  # code -> (name, unit)
    warehouses: dict[str, str]
    previous: int | None  # the live draft this run supersedes
    catalogued: frozenset[str]  # materials some catalog serves (supply.availability)
    promised: list[dict[str, Any]] = field(default_factory=list)  # urgent requests' promises
    refused: list[Refusal] = field(default_factory=list)  # lines the planner cannot take


def read_inputs(
    session: Session,
    *,
    at: datetime,
    rerun: bool,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> RunInputs:
    """Read what the batch that moment `at` falls in plans from (see the module's docstring)."""
    batch = batch_for(at, calendar=calendar, policy=policy)
    existing = live_run(session, batch.id)
    if existing is not None and existing.status == RunStatus.APPROVED:
        raise Conflict(
            f"批次 {batch.id} 的计划已批准，不能重新运行 / the plan of batch {batch.id} is approved "
            "and frozen; it cannot be re-run",
            loc=("batch_id",),
        )
    if existing is not None and not rerun:
        raise Conflict(
            f"批次 {batch.id} 已有计划(第 {existing.id} 次运行) / batch {batch.id} already has a run "
            f"(#{existing.id}); re-run it explicitly (--rerun) to supersede it",
            loc=("rerun",),
        )
    # A corrected calendar or policy takes effect at the next run.
    refresh_derived_dates(session=session, calendar=calendar, policy=policy)
    session.commit()
    plan_date = batch.cutoff.date()
    supply = load_supply(
        session=session,
        today=plan_date,
        order_day=batch.province_match,
        central_warehouse=settings.default_delivery_warehouse,
    )
    demands = open_demand(session, cutoff=batch.cutoff)
    _check_known(demands, supply)
    demands, refused = screen(demands, dearest_prices(session, {d.material for d in demands}))
    catalogued = catalogued_materials(session=session, today=plan_date)
    problem = build_instance(
        demands=demands,
        supply=supply,
        plan_date=plan_date,
        order_day=batch.province_match,
        penalty=settings.reserve_below_quota_penalty,
        emergency_for=emergency_materials(
            {d.material for d in demands},
            catalogued,
            for_catalog_materials=settings.emergency_for_catalog_materials,
        ),
    )
    problem.demands.update(refused_by_key(refused))  # planned as unmet, with the reason
    projects = {p.id: p for p in session.exec(select(Project))}
    warehouses = {w.id: w.name for w in session.exec(select(Warehouse))}
    return RunInputs(
        batch=batch,
        problem=problem,
        supply=supply,
        replenish_by=calendar.add_working_days(plan_date, settings.replenishment_working_days),
        project_names={k: p.name for k, p in projects.items()},
        project_types={k: p.project_type for k, p in projects.items()},
        materials={m.code: (m.name_zh, m.unit) for m in session.exec(select(Material))},
        warehouses=warehouses,
        previous=existing.id if existing else None,
        catalogued=catalogued,
        promised=promised_rows(session, batch_id=batch.id, warehouses=warehouses),
        refused=refused,
    )


def _check_known(demands: list[DemandItem], supply: SupplyState) -> None:
    missing = sorted(
        {d.location for d in demands} - {loc for pair in supply.transport for loc in pair}
    )
    if missing:
        raise InvalidInput(
            f"项目地点 {', '.join(missing)} 没有运输天数 / no transport days to {', '.join(missing)}: "
            "import transport rows from the warehouses to these locations",
            loc=("transport",),
        )
