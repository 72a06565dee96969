"""The weekly run (Monday 12:00): open demand and replenishment → instance → plan → saved, exported.

`run_weekly` works in three steps so that no transaction stays open during the solve: read
(one session: demand, supply, names), solve and check (no session), save (one session: the run,
its lines, superseding the batch's previous draft). `approve_run` freezes a run: stock the plan
takes from reserve and consignment is held for its lines, in the transaction that checks it is
still there.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, col, select

from catalogs.models import Material, Warehouse
from optimizer import Plan, check_plan, instance_to_json, plan_to_json, solve
from supply.availability import SupplyState, catalogued_materials, load_supply
from supply.calendar import WorkCalendar
from supply.commitments import commitments, refresh_statuses
from supply.core.clock import utc
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.money import exact
from supply.core.settings import Settings, check_runs_dir, runs_dir_unusable
from supply.demand.models import DemandLine, DemandStatus
from supply.demand.queries import open_demand
from supply.emergency import emergency_materials
from supply.holds.models import StockKind
from supply.holds.service import NewHold, hold_stock
from supply.limits import (
    Refusal,
    dearest_prices,
    refused_by_key,
    screen,
    solve_within_limits,
    with_refusals,
)
from supply.packages.budget import BudgetWarning, budget_check, plan_additions
from supply.packages.filings import filing_public, record_filings
from supply.packages.models import FilingPublic
from supply.planning import (
    DemandItem,
    MatchingProblem,
    after_plan,
    build_instance,
    replenishment_demands,
)
from supply.policy import Batch, DeadlinePolicy, batch_for
from supply.projects.models import Project
from supply.projects.service import refresh_derived_dates
from supply.weekly.export import write_exports
from supply.weekly.kpis import compute_kpis
from supply.weekly.lines import LineRow, plan_lines, promised_rows
from supply.weekly.models import LineKind, PlanLine, PlanRun, PlanRunPublic, RunStatus

Progress = Callable[[str], None]


@dataclass
class RunOutcome:
    """A saved run and where its files are."""

    run: PlanRunPublic
    run_dir: Path
    exports: dict[str, Path]
    plan: Plan


@dataclass
class _Read:
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


def live_run(session: Session, batch_id: str) -> PlanRun | None:
    """The batch's run that is not superseded (draft or approved), if any."""
    return session.exec(
        select(PlanRun).where(PlanRun.batch_id == batch_id, PlanRun.status != RunStatus.SUPERSEDED)
    ).first()


def get_run_or_raise(*, session: Session, batch_id: str) -> PlanRun:
    """The batch's live run, or NotFound saying how to make one."""
    run = live_run(session, batch_id)
    if run is None:
        raise NotFound(
            f"批次 {batch_id} 还没有计划 / batch {batch_id} has no plan run: "
            "run `gridsupply plan run --at …` for a moment in that batch",
            loc=("batch_id",),
        )
    return run


def list_runs(*, session: Session, batch_id: str | None = None) -> list[PlanRunPublic]:
    """Every run, newest first (superseded ones included: the history is kept)."""
    statement = select(PlanRun).order_by(col(PlanRun.run_at).desc(), col(PlanRun.id).desc())
    if batch_id:
        statement = statement.where(PlanRun.batch_id == batch_id)
    return [PlanRunPublic.model_validate(run) for run in session.exec(statement)]


def _read(
    session: Session,
    *,
    at: datetime,
    rerun: bool,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> _Read:
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
    return _Read(
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


def run_weekly(
    *,
    engine: Engine,
    at: datetime,
    now: datetime,
    user: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
    rerun: bool = False,
    progress: Progress | None = None,
) -> RunOutcome:
    """Plan the batch that moment `at` falls in; save the run and write its files.

    Raises `SettingsInvalid` before anything is read when run folders cannot be written under
    `GRIDSUPPLY_RUNS_DIR`; a run that fails after its folder is made (writing its files or
    exports, saving) leaves no folder behind."""
    check_runs_dir(settings)
    step = progress or (lambda _: None)
    step("读取需求与库存 / reading demand and supply")
    with Session(engine) as session:
        read = _read(
            session, at=at, rerun=rerun, calendar=calendar, policy=policy, settings=settings
        )
    count = len(read.problem.instance.demands)
    step(f"求解 {count} 行项目需求 / solving {count} project demand lines")
    read.problem, solved, baseline, too_big = _solve_checked(read.problem)
    read.refused += too_big  # materials the engine cannot plan exactly, with the reason
    # Lines the planner cannot take are unmet, with the reason (supply.limits), in the plan and
    # in the baseline it is compared with; plan.json keeps the engine's plan of instance.json,
    # so that replaying and checking it agree.
    plan, baseline = (with_refusals(p, read.refused) for p in (solved, baseline))
    left = after_plan(read.supply, read.problem, plan)  # what the projects leave for reserve
    replenish = build_instance(
        demands=replenishment_demands(supply=left, need_by=read.replenish_by),
        supply=left,
        plan_date=read.problem.instance.plan_date,
        order_day=read.batch.province_match,
        penalty=Decimal(0),
        kinds=frozenset({"agreement"}),
    )
    count = len(replenish.instance.demands)
    step(f"求解 {count} 行补库需求 / solving {count} replenishment lines")
    replenish, replenish_solved, replenish_baseline, replenish_refused = _solve_checked(replenish)
    replenish_plan, replenish_baseline = (
        with_refusals(p, replenish_refused) for p in (replenish_solved, replenish_baseline)
    )

    step("写出计划与报表 / writing the plan and exports")
    run_dir = _new_run_dir(settings, read.batch.id, now)
    try:  # a run that is not saved leaves no folder behind, half-written or whole
        exports = _write_run(
            run_dir,
            read,
            (solved, plan, baseline),
            (replenish, replenish_solved, replenish_plan, replenish_baseline),
            left=left,
            refused=(
                {r.item.key for r in read.refused},
                {r.item.key for r in replenish_refused},
            ),
            settings=settings,
        )
        step("保存 / saving the run")
        saved = _save(
            engine,
            read=read,
            plan=plan,
            lines=exports.lines,
            kpis=exports.kpis,
            run_dir=run_dir,
            now=now,
            user=user,
        )
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return RunOutcome(run=saved, run_dir=run_dir, exports=exports.files, plan=plan)


@dataclass
class _Written:
    """What a run wrote to its folder: the export files, and the lines and KPIs to save."""

    files: dict[str, Path]
    lines: list[LineRow]
    kpis: dict[str, Any]


def _write_run(
    run_dir: Path,
    read: _Read,
    projects: tuple[Plan, Plan, Plan],
    replenishment: tuple[MatchingProblem, Plan, Plan, Plan],
    *,
    left: SupplyState,
    refused: tuple[set[str], set[str]],
    settings: Settings,
) -> _Written:
    """Write the run's instances, plans, KPIs and exports into `run_dir`: the projects' (the
    engine's plan, the plan with refusals, the baseline) and the replenishment's (its problem
    too); `left` is the supply the projects leave, `refused` the refused keys of each."""
    solved, plan, baseline = projects
    replenish, replenish_solved, replenish_plan, replenish_baseline = replenishment
    for name, problem, written in (
        ("", read.problem, solved),
        ("replenishment-", replenish, replenish_solved),
    ):
        (run_dir / f"{name}instance.json").write_text(
            instance_to_json(problem.instance), encoding="utf-8"
        )
        (run_dir / f"{name}plan.json").write_text(plan_to_json(written), encoding="utf-8")
    prices = {code: m.standard_price for code, m in read.supply.materials.items()}
    kpis = compute_kpis(
        read.problem, plan, baseline, read.project_types, prices=prices, refused=refused[0]
    )
    kpis["replenishment"] = compute_kpis(
        replenish, replenish_plan, replenish_baseline, {}, prices=prices, refused=refused[1]
    )
    (run_dir / "kpis.json").write_text(
        json.dumps(kpis, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    lines = plan_lines(
        read.problem,
        plan,
        read.supply,
        read.catalogued,
        emergency_for_catalog_materials=settings.emergency_for_catalog_materials,
        refused=refused[0],
    ) + plan_lines(replenish, replenish_plan, left, read.catalogued, refused=refused[1])
    read.problem = merge(read.problem, replenish)
    files = write_exports(
        run_dir,
        export_rows(lines, read),
        batch_id=read.batch.id,
        warehouse_names=read.warehouses,
        packages={d.project_id: d.package for d in read.problem.demands.values()},
        promised=read.promised,
    )
    return _Written(files=files, lines=lines, kpis=kpis)


def _solve_checked(
    problem: MatchingProblem,
) -> tuple[MatchingProblem, Plan, Plan, list[Refusal]]:
    """Solve (and the baseline); refuse an invalid instance or a plan the checker rejects.

    A material the engine cannot plan exactly leaves the instance, its lines refused with the
    reason (`supply.limits.solve_within_limits`): returns the problem solved, its plan, the
    baseline and those refusals."""
    problem, plan, refused = solve_within_limits(problem, solve)
    if plan.status == "invalid":
        raise InvalidInput(
            "匹配实例无效 / the matching instance is invalid: "
            + "; ".join(f"{e.id} {e.field}: {e.message}" for e in plan.errors[:10]),
            loc=("instance",),
        )
    report = check_plan(problem.instance, plan)
    if not report.feasible:  # never save a plan the independent checker rejects
        raise RuntimeError(
            "the plan failed the independent check: " + "; ".join(report.problems[:5])
        )
    return problem, plan, solve(problem.instance, method="greedy"), refused


def merge(first: MatchingProblem, second: MatchingProblem) -> MatchingProblem:
    """One view of two problems (their ids do not overlap), for exports and records."""
    return MatchingProblem(
        instance=first.instance,
        demands={**first.demands, **second.demands},
        sources={**first.sources, **second.sources},
    )


def _new_run_dir(settings: Settings, batch_id: str, now: datetime) -> Path:
    root = Path(settings.runs_dir).expanduser() / batch_id
    stamp = utc(now).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        path = root / (f"run-{stamp}" + (f"-{n}" if n else ""))
        try:
            path.mkdir(parents=True)
            return path.resolve()
        except FileExistsError:
            continue
        except OSError as exc:  # e.g. the batch's folder is a file, or the disk is full
            raise runs_dir_unusable(settings, f"{path}: {exc.strerror or exc}") from None
    raise runs_dir_unusable(settings, f"{root} holds 1,000 runs made at {stamp} already")


def export_rows(lines: list[LineRow], read: _Read) -> list[dict[str, Any]]:
    """The plan lines as the exports' rows (`PLAN_COLUMNS`), with names beside the codes."""
    suppliers = {sid: ref.supplier for sid, ref in read.problem.sources.items()}
    rows = []
    for line in lines:
        name, unit = read.materials.get(line.material_code, ("", ""))
        rows.append(
            {
                "kind": line.kind,
                "demand": line.demand_key,
                "project_id": line.project_id or "",
                "project_name": read.project_names.get(line.project_id or "", ""),
                "project_type": read.project_types.get(line.project_id or "", "replenishment"),
                "material": line.material_code,
                "material_name": name,
                "unit": unit,
                "quantity": line.quantity,
                "source_id": line.source_id,
                "warehouse_id": line.warehouse_id or "",
                "warehouse_name": read.warehouses.get(line.warehouse_id or "", ""),
                "supplier": suppliers.get(line.source_id, ""),
                "unit_cost": line.unit_cost,
                "arrival": line.arrival,
                "need_by": line.need_by,
                "late_days": line.late_days,
                "reason": line.reason,
                "reason_zh": line.reason_zh,
                "cause": line.cause,
                "emergency_cause": line.emergency_cause,
                "replenish_warehouse_id": line.replenish_warehouse_id,
            }
        )
    return rows


def _save(
    engine: Engine,
    *,
    read: _Read,
    plan: Plan,
    lines: list[LineRow],
    kpis: dict[str, Any],
    run_dir: Path,
    now: datetime,
    user: str,
) -> PlanRunPublic:
    with Session(engine) as session:
        current = live_run(session, read.batch.id)
        if (current.id if current else None) != read.previous:
            raise Conflict(
                f"批次 {read.batch.id} 在本次运行期间已有新计划 / another run of batch {read.batch.id} "
                "was saved while this one was solving; look at it, or re-run",
                loc=("batch_id",),
            )
        if current is not None:
            current.status = RunStatus.SUPERSEDED
            session.add(current)
            session.flush()
        run = PlanRun(
            batch_id=read.batch.id,
            cutoff=read.batch.cutoff,
            plan_date=read.problem.instance.plan_date,
            province_match_on=read.batch.province_match,
            solve_status=plan.status,
            run_at=now,
            run_by=user,
            run_dir=str(run_dir),
            demand_lines=sum(1 for d in read.problem.demands.values() if d.demand_line_id),
            replenishment_lines=sum(
                1 for d in read.problem.demands.values() if d.replenish_warehouse_id
            ),
            # Sums of a whole week, of any size (Total columns): exact at every magnitude.
            unmet_weighted=exact(Decimal(str(plan.objective.unmet_weighted))),
            lateness_weighted=exact(Decimal(str(plan.objective.lateness_weighted))),
            cost=exact(Decimal(str(plan.objective.cost))),
            supersedes_id=read.previous,
            kpis=kpis,
            stats={k: v for k, v in plan.stats.items() if k != "scale"},
        )
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict(
                f"批次 {read.batch.id} 同时有另一次运行保存 / another run of batch {read.batch.id} "
                "was saved at the same moment; look at it, or re-run",
                loc=("batch_id",),
            ) from None
        if lines:  # one executemany, not one ORM object per line
            session.execute(
                insert(PlanLine), [{**asdict(line), "run_id": run.id} for line in lines]
            )
        session.commit()
        session.refresh(run)
        return PlanRunPublic.model_validate(run)


class RunApproval(PlanRunPublic):
    """An approved run, with the budget warnings its approval raised and the filings opened."""

    budget_warnings: list[BudgetWarning] = Field(
        default_factory=list, description="预算预警 / packages the approval takes over budget"
    )
    filings: list[FilingPublic] = Field(
        default_factory=list, description="需备案 / filings opened or updated by the approval"
    )


def approve_run(
    *,
    session: Session,
    batch_id: str,
    user: str,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> RunApproval:
    """Approve and freeze the batch's run: hold its reserve and consignment for its lines.

    The budget check (R7) runs on what the approval commits: packages it takes over budget come
    back as warnings (approval goes on), and their projects' filings are opened, reviewed today.
    """
    run = get_run_or_raise(session=session, batch_id=batch_id)
    if run.status == RunStatus.APPROVED:
        raise Conflict(
            f"批次 {batch_id} 已批准 / batch {batch_id} is already approved", loc=("batch_id",)
        )
    lines = list(session.exec(select(PlanLine).where(PlanLine.run_id == run.id)))
    today = now.astimezone(policy.zone).date()
    supply = load_supply(
        session=session,
        today=today,
        order_day=run.province_match_on,
        central_warehouse=settings.default_delivery_warehouse,
        lock=True,
    )
    _check_still_valid(session, run, lines, supply)
    warnings = budget_check(session=session, additions=plan_additions(session=session, lines=lines))
    expires = calendar.add_working_days(today, settings.hold_expiry_working_days)
    hold_stock(
        session,
        [
            NewHold(
                demand_line_id=line.demand_line_id,
                stock_kind=StockKind(line.kind),
                warehouse_id=line.warehouse_id or "",
                material_code=line.material_code,
                consignment_id=line.consignment_id,
                quantity=line.quantity,
                plan_run_id=run.id,
                expires_on=expires,
            )
            for line in lines
            if line.kind in (LineKind.RESERVE, LineKind.CONSIGNMENT) and line.demand_line_id
        ],
        now=now,
        user=user,
    )
    run.status = RunStatus.APPROVED
    run.approved_at = now
    run.approved_by = user
    session.add(run)
    session.flush()
    refresh_statuses(session, [line.demand_line_id for line in lines if line.demand_line_id])
    filings = record_filings(
        session=session,
        warnings=warnings,
        review_date=today,
        now=now,
        by=user,
        calendar=calendar,
        policy=policy,
    )
    session.commit()
    session.refresh(run)
    return RunApproval(
        **PlanRunPublic.model_validate(run).model_dump(),
        budget_warnings=warnings,
        filings=[filing_public(session, filing, today=today) for filing in filings],
    )


def _check_still_valid(
    session: Session, run: PlanRun, lines: list[PlanLine], supply: SupplyState
) -> None:
    """Refuse approval when stock or demand changed since the run: it must be re-run."""
    problems = []
    reserve = {(r.warehouse_id, r.material): r.available for r in supply.reserve}
    consignment = {c.id: c.available for c in supply.consignment}
    wanted_reserve: dict[tuple[str, str], int] = {}
    wanted_consignment: dict[int, int] = {}
    planned: dict[int, int] = {}
    for line in lines:
        if line.demand_line_id and line.kind != LineKind.UNMET:
            planned[line.demand_line_id] = planned.get(line.demand_line_id, 0) + line.quantity
        if line.kind == LineKind.RESERVE and line.demand_line_id:
            key = (line.warehouse_id or "", line.material_code)
            wanted_reserve[key] = wanted_reserve.get(key, 0) + line.quantity
        if line.kind == LineKind.CONSIGNMENT and line.consignment_id and line.demand_line_id:
            wanted_consignment[line.consignment_id] = (
                wanted_consignment.get(line.consignment_id, 0) + line.quantity
            )
    for (warehouse, material), quantity in sorted(wanted_reserve.items()):
        if reserve.get((warehouse, material), 0) < quantity:
            problems.append(
                f"{warehouse} {material}: 计划 {quantity}, 现可用 {reserve.get((warehouse, material), 0)}"
            )
    for consignment_id, quantity in sorted(wanted_consignment.items()):
        if consignment.get(consignment_id, 0) < quantity:
            problems.append(
                f"寄存 C:{consignment_id}: 计划 {quantity}, 现可用 {consignment.get(consignment_id, 0)}"
            )
    covered = commitments(session, planned)
    demand = {
        d.id: d
        for d in session.exec(select(DemandLine).where(col(DemandLine.id).in_(list(planned))))
    }
    for line_id, quantity in sorted(planned.items()):
        stored = demand[line_id]
        done = covered.get(line_id)
        left = (
            0
            if stored.status == DemandStatus.CANCELLED
            else stored.quantity - (done.covered if done else 0)
        )
        if left < quantity:
            problems.append(
                f"需求行 {stored.project_id}/{stored.line_no}: 计划 {quantity}, 尚缺 {left}"
            )
    if problems:
        raise Conflict(
            f"批次 {run.batch_id} 的计划运行后库存或需求已变化，请重新运行 / stock or demand changed "
            f"since the run of batch {run.batch_id}; re-run it (--rerun) before approving: "
            + "; ".join(problems[:10]),
            loc=("batch_id",),
        )
