"""What a what-if starts from, read in one session that writes nothing: a run's instance and plan
(the files of its run folder), or the current state built as the weekly run builds it; and the
`World` the changes are checked against.

A run's `instance.json` says what each source is only by its id (`R:WH-WD:DT-400`, `C:17`,
`A:SD-2026-01/2`, `E:DT-400`); the refs (`SourceRef`: warehouse, supplier, agreement line) are
read back from the catalogs by those ids, and prices from the instance itself — what the run
priced. The current state refreshes derived dates as a weekly run does, then rolls back: a
what-if changes nothing in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select

from catalogs.models import AgreementLine, Consignment, Material, Warehouse
from optimizer import Instance, Plan, parse_instance, read_plan
from optimizer.contract import UnreadableInput
from supply.availability import catalogued_materials, load_supply
from supply.calendar import WorkCalendar
from supply.core.errors import ConflictingInput, InvalidInput, NotFound
from supply.core.settings import Settings
from supply.demand.queries import open_demand
from supply.emergency import emergency_materials
from supply.limits import dearest_prices, screen
from supply.planning import HEAVY, DemandItem, MatchingProblem, SourceRef, build_instance
from supply.policy import Batch, DeadlinePolicy, batch_for
from supply.projects.models import Project
from supply.projects.service import refresh_derived_dates
from supply.weekly.models import PlanRun
from supply.weekly.queries import get_run_or_raise
from supply.whatif.world import AgreementInfo, World

RUN, CURRENT = "run", "current"


@dataclass
class Base:
    """The base of a what-if: its batch, the run it comes from (None: the current state), the
    problem and — for a run — its plan; the world; the names lines are shown with."""

    batch: Batch
    run_id: int | None
    problem: MatchingProblem
    plan: Plan | None  # None: the current state, solved by the caller
    world: World
    names: Names


@dataclass(frozen=True)
class Names:
    """What codes are shown with: projects' types and names, materials' names and units,
    warehouses' names."""

    project_types: dict[str, str]
    project_names: dict[str, str]
    materials: dict[str, tuple[str, str]]  # code -> (name, unit)
    warehouses: dict[str, str]


def batch_of(batch_id: str, *, calendar: WorkCalendar, policy: DeadlinePolicy) -> Batch:
    """The batch named `batch_id` (e.g. 2026-W49): the one its Monday's submissions go to."""
    try:
        year, week = batch_id.split("-W")
        monday = datetime.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise InvalidInput(
            f"批次 {batch_id} 应写作 2026-W49 / batch {batch_id!r} must look like 2026-W49",
            loc=("batch",),
        ) from None
    batch = batch_for(monday.replace(tzinfo=policy.zone), calendar=calendar, policy=policy)
    if batch.id != batch_id:
        raise ConflictingInput(
            f"没有批次 {batch_id}（长假合并为 {batch.id}） / there is no batch {batch_id}: the "
            f"holiday merged it into {batch.id}",
            loc=("batch",),
        )
    return batch


def read_base(
    session: Session,
    *,
    batch_id: str,
    base: str,
    run_id: int | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> Base:
    """Read the base of a what-if on `batch_id`: a run's (`run_id`, else the batch's live run)
    or the current state's. Writes nothing."""
    batch = batch_of(batch_id, calendar=calendar, policy=policy)
    try:
        if base == RUN:
            return _run_base(session, batch=batch, run_id=run_id, settings=settings)
        if run_id is not None:
            raise InvalidInput(
                "当前状态不对应某次运行，请不要同时给出运行编号 / the current state is no run: "
                "give a run id only with the base `run`",
                loc=("run_id",),
            )
        return _current_base(
            session, batch=batch, calendar=calendar, policy=policy, settings=settings
        )
    finally:
        session.rollback()  # the derived dates refreshed for the current state are not kept


def _run_base(session: Session, *, batch: Batch, run_id: int | None, settings: Settings) -> Base:
    if run_id is None:
        run = get_run_or_raise(session=session, batch_id=batch.id)
    else:
        found = session.get(PlanRun, run_id)
        if found is None:
            raise NotFound(f"没有第 {run_id} 次运行 / no run #{run_id}", loc=("run_id",))
        if found.batch_id != batch.id:
            raise ConflictingInput(
                f"第 {run_id} 次运行属于批次 {found.batch_id}，不是 {batch.id} / run #{run_id} "
                f"is of batch {found.batch_id}, not {batch.id}",
                loc=("run_id",),
            )
        run = found
    folder = Path(run.run_dir)
    instance = read_saved_instance(folder / "instance.json")
    plan = read_saved_plan(folder / "plan.json")
    world = _world(
        session,
        plan_date=run.plan_date,
        order_day=run.province_match_on,
        settings=settings,
    )
    batch = Batch(batch.id, batch.named_for, run.cutoff, run.province_match_on)
    return Base(
        batch=batch,
        run_id=run.id,
        problem=problem_of(instance, world, _consignment(session)),
        plan=plan,
        world=world,
        names=_names(session),
    )


def read_saved_instance(path: Path) -> Instance:
    """A saved instance (a run's or a scenario's), or NotFound saying what to do."""
    try:
        parsed = parse_instance(path.read_bytes())
    except (OSError, UnreadableInput) as exc:
        raise NotFound(
            f"{path.name} 无法读取 / {path} cannot be read ({exc}): the folder is gone or "
            "damaged; start from the current state (base current), or run the batch again",
            loc=("base",),
        ) from None
    if isinstance(parsed, list):
        raise InvalidInput(
            f"{path} 不是有效的匹配实例 / is not a valid instance: "
            + "; ".join(f"{e.id} {e.field}: {e.message}" for e in parsed[:5]),
            loc=("base",),
        )
    return parsed


def read_saved_plan(path: Path) -> Plan:
    """A saved plan (a run's or a scenario's), or NotFound saying what to do."""
    try:
        return read_plan(path.read_bytes())
    except (OSError, UnreadableInput) as exc:
        raise NotFound(
            f"{path.name} 无法读取 / {path} cannot be read ({exc}): the folder is gone or "
            "damaged; start from the current state (base current), or run the batch again",
            loc=("base",),
        ) from None


def _current_base(
    session: Session,
    *,
    batch: Batch,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> Base:
    refresh_derived_dates(session=session, calendar=calendar, policy=policy)  # flushed only
    plan_date = batch.cutoff.date()
    world = _world(session, plan_date=plan_date, order_day=batch.province_match, settings=settings)
    demands = open_demand(session, cutoff=batch.cutoff)
    places = {place for pair in world.supply.transport for place in pair}
    missing = sorted({d.location for d in demands} - places)
    if missing:
        raise InvalidInput(
            f"项目地点 {', '.join(missing)} 没有运输天数 / no transport days to "
            f"{', '.join(missing)}: import transport rows from the warehouses to these places",
            loc=("transport",),
        )
    # Lines past the limits are refused by the weekly run before matching: not in a what-if.
    demands, _ = screen(demands, dearest_prices(session, {d.material for d in demands}))
    problem = build_instance(
        demands=demands,
        supply=world.supply,
        plan_date=plan_date,
        order_day=batch.province_match,
        penalty=settings.reserve_below_quota_penalty,
        emergency_for=emergency_materials(
            {d.material for d in demands},
            world.catalogued,
            for_catalog_materials=settings.emergency_for_catalog_materials,
        ),
    )
    return Base(
        batch=batch,
        run_id=None,
        problem=problem,
        plan=None,
        world=world,
        names=_names(session),
    )


def _world(session: Session, *, plan_date: date, order_day: date, settings: Settings) -> World:
    supply = load_supply(
        session=session,
        today=plan_date,
        order_day=order_day,
        central_warehouse=settings.default_delivery_warehouse,
    )
    lines = {
        f"{line.agreement_no}/{line.line_no}": AgreementInfo(
            id=line.id or 0,
            supplier=line.supplier,
            material=line.material_code,
            delivery_warehouse_id=line.delivery_warehouse_id,
        )
        for line in session.exec(select(AgreementLine))
    }
    return World(
        supply=supply,
        agreement_lines=lines,
        plan_date=plan_date,
        order_day=order_day,
        penalty=settings.reserve_below_quota_penalty,
        catalogued=catalogued_materials(session=session, today=plan_date),
        emergency_for_catalog_materials=settings.emergency_for_catalog_materials,
    )


def _consignment(session: Session) -> dict[int, tuple[str, str]]:
    return {c.id or 0: (c.supplier, c.warehouse_id) for c in session.exec(select(Consignment))}


def _names(session: Session) -> Names:
    projects = list(session.exec(select(Project)))
    return Names(
        project_types={p.id: p.project_type for p in projects},
        project_names={p.id: p.name for p in projects},
        materials={m.code: (m.name_zh, m.unit) for m in session.exec(select(Material))},
        warehouses={w.id: w.name for w in session.exec(select(Warehouse))},
    )


def problem_of(
    instance: Instance, world: World, consignment: dict[int, tuple[str, str]]
) -> MatchingProblem:
    """The problem of a saved instance: its demands as demand items, and each source's ref read
    back by its id (supplier and warehouse from the catalogs; the price the instance holds)."""
    central = world.supply.central_warehouse
    refs: dict[str, SourceRef] = {}
    for source in instance.sources:
        cost = Decimal(repr(source.unit_cost))
        sid, material = source.id, source.material
        if source.kind == "reserve":
            warehouse = sid.removeprefix("R:").removesuffix(f":{material}")
            refs[sid] = SourceRef("reserve", material, warehouse, cost)
        elif source.kind == "consignment":
            number = sid.removeprefix("C:")
            supplier, warehouse = consignment.get(int(number) if number.isdigit() else -1, ("", ""))
            refs[sid] = SourceRef(
                "consignment",
                material,
                warehouse or None,
                cost,
                supplier,
                consignment_id=int(number) if number.isdigit() else None,
            )
        elif source.kind == "agreement":
            line = world.agreement_lines.get(sid.removeprefix("A:"))
            refs[sid] = SourceRef(
                "agreement",
                material,
                line.delivery_warehouse_id if line else None,
                cost,
                line.supplier if line else "",
                agreement_line_id=line.id if line else None,
            )
        else:
            refs[sid] = SourceRef("emergency", material, central, cost)
    demands = {
        d.id: DemandItem(
            key=d.id,
            project_id=d.project,
            material=d.material,
            quantity=int(d.quantity),
            need_by=d.need_by,
            voltage_class=d.voltage_class,
            location=d.location.removesuffix(HEAVY),
            weight=int(d.weight),
            package=d.package,
        )
        for d in instance.demands
    }
    return MatchingProblem(instance=instance, demands=demands, sources=refs)
