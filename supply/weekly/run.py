"""The weekly run (Monday 12:00): open demand and replenishment → instance → plan → saved, exported.

`run_weekly` works in three steps so that no transaction stays open during the solve: read
(one session: demand, supply, names — `supply.weekly.inputs`), solve and check (no session),
save (one session: the run, its lines, superseding the batch's previous draft —
`supply.weekly.save`). Between the solve and the save it writes the run's folder: the instances
and plans as JSON, the KPIs and the exports. Approval is `supply.weekly.approval`.
"""

from __future__ import annotations

import gc
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from optimizer import Plan, check_plan, instance_to_json, plan_to_json, solve
from supply.availability import SupplyState
from supply.calendar import WorkCalendar
from supply.core.clock import utc
from supply.core.errors import InvalidInput
from supply.core.observe import SolveKind, solving
from supply.core.settings import Settings, check_runs_dir, runs_dir_unusable
from supply.limits import Refusal, solve_within_limits, with_refusals
from supply.planning import MatchingProblem, after_plan, build_instance, replenishment_demands
from supply.policy import DeadlinePolicy
from supply.weekly.export import write_exports
from supply.weekly.export_rows import export_rows
from supply.weekly.inputs import RunInputs, read_inputs
from supply.weekly.kpis import compute_kpis
from supply.weekly.lines import LineRow, plan_lines
from supply.weekly.models import PlanRunPublic
from supply.weekly.save import BackgroundSave

Progress = Callable[[str], None]


@dataclass
class RunOutcome:
    """A saved run and where its files are."""

    run: PlanRunPublic
    run_dir: Path
    exports: dict[str, Path]
    plan: Plan


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
    with _collector_paused():
        return _run_weekly(
            engine=engine,
            at=at,
            now=now,
            user=user,
            calendar=calendar,
            policy=policy,
            settings=settings,
            rerun=rerun,
            progress=progress,
        )


def _run_weekly(
    *,
    engine: Engine,
    at: datetime,
    now: datetime,
    user: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
    rerun: bool,
    progress: Progress | None,
) -> RunOutcome:
    step = progress or (lambda _: None)
    step("读取需求与库存 / reading demand and supply")
    with Session(engine) as session:
        read = read_inputs(
            session, at=at, rerun=rerun, calendar=calendar, policy=policy, settings=settings
        )
    count = len(read.problem.instance.demands)
    step(f"求解 {count} 行项目需求 / solving {count} project demand lines")
    read.problem, solved, baseline, too_big = _solve_checked(read.problem, SolveKind.WEEKLY)
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
    replenish, replenish_solved, replenish_baseline, replenish_refused = _solve_checked(
        replenish, SolveKind.REPLENISHMENT
    )
    replenish_plan, replenish_baseline = (
        with_refusals(p, replenish_refused) for p in (replenish_solved, replenish_baseline)
    )

    step("写出计划与报表 / writing the plan and exports")
    run_dir = _new_run_dir(settings, read.batch.id, now)
    try:  # a run that is not saved leaves no folder behind, half-written or whole
        projects = read.problem  # the problem solved (read.problem becomes the merged view)
        lines, kpis = _results(
            read,
            (plan, baseline),
            (replenish, replenish_plan, replenish_baseline),
            left=left,
            refused=(
                {r.item.key for r in read.refused},
                {r.item.key for r in replenish_refused},
            ),
            settings=settings,
        )
        # The run is saved while its files are written (the database works on its own, and
        # SQLite's writes and the exports' compression without the interpreter lock); it is
        # committed only once they are all written.
        saving = BackgroundSave(
            engine, read=read, plan=plan, lines=lines, kpis=kpis, run_dir=run_dir, now=now,
            user=user,
        )  # fmt: skip
        try:
            files = _write_files(
                run_dir,
                read,
                ((projects, solved), (replenish, replenish_solved)),
                lines=lines,
                kpis=kpis,
                settings=settings,
            )
        except BaseException:
            saving.abandon()
            raise
        saved = saving.commit()
        step("保存 / saving the run")  # saved: only now may a step write (SQLite has one writer)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return RunOutcome(run=saved, run_dir=run_dir, exports=files, plan=plan)


class _CollectorPause:
    """Automatic cyclic garbage collection paused while a weekly run works, and resumed when the
    last run in the process ends (runs on several threads count; a collector someone else had
    switched off stays off).

    A province-sized run builds a heap of millions of objects, nearly all freed by reference
    counting as it goes; the collector, seeing the heap grow, walks all of it again and again
    (a dozen full collections, a fifth of the run at 50,000 lines). What cycles a run leaves
    are collected once it is over."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._runs = 0
        self._resume = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._runs == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0 and self._resume:
                    gc.enable()


_collector_paused = _CollectorPause()


def _results(
    read: RunInputs,
    projects: tuple[Plan, Plan],
    replenishment: tuple[MatchingProblem, Plan, Plan],
    *,
    left: SupplyState,
    refused: tuple[set[str], set[str]],
    settings: Settings,
) -> tuple[list[LineRow], dict[str, Any]]:
    """The run's plan lines and KPIs: the projects' (the plan with refusals, the baseline)
    and the replenishment's (its problem, plan and baseline); `left` is the supply the projects
    leave, `refused` the refused keys of each. `read.problem` becomes both problems in one."""
    plan, baseline = projects
    replenish, replenish_plan, replenish_baseline = replenishment
    prices = {code: m.standard_price for code, m in read.supply.materials.items()}
    kpis = compute_kpis(
        read.problem, plan, baseline, read.project_types, prices=prices, refused=refused[0]
    )
    kpis["replenishment"] = compute_kpis(
        replenish, replenish_plan, replenish_baseline, {}, prices=prices, refused=refused[1]
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
    return lines, kpis


def _write_files(
    run_dir: Path,
    read: RunInputs,
    solved: tuple[tuple[MatchingProblem, Plan], tuple[MatchingProblem, Plan]],
    *,
    lines: list[LineRow],
    kpis: dict[str, Any],
    settings: Settings,
) -> dict[str, Path]:
    """Write the run's instances and the engine's plans of them (projects', replenishment's),
    its KPIs and its exports into `run_dir`; return the exports by name."""
    for name, (problem, written) in zip(("", "replenishment-"), solved, strict=True):
        (run_dir / f"{name}instance.json").write_text(
            instance_to_json(problem.instance), encoding="utf-8"
        )
        (run_dir / f"{name}plan.json").write_text(plan_to_json(written), encoding="utf-8")
    (run_dir / "kpis.json").write_text(
        json.dumps(kpis, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return write_exports(
        run_dir,
        export_rows(lines, read),
        batch_id=read.batch.id,
        warehouse_names=read.warehouses,
        packages={d.project_id: d.package for d in read.problem.demands.values()},
        promised=read.promised,
        city=settings.city,
    )


def _solve_checked(
    problem: MatchingProblem, kind: SolveKind
) -> tuple[MatchingProblem, Plan, Plan, list[Refusal]]:
    """Solve (and the baseline); refuse an invalid instance or a plan the checker rejects.

    A material the engine cannot plan exactly leaves the instance, its lines refused with the
    reason (`supply.limits.solve_within_limits`): returns the problem solved, its plan, the
    baseline (without reasons) and those refusals. The solve (not the check, nor the baseline) is measured as
    `kind` for whoever listens (`supply.core.observe`)."""
    with solving(kind, lines=len(problem.instance.demands)):
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
    # The baseline is only counted (supply.weekly.kpis reads outcomes from its allocations):
    # its lines' reasons would never be read.
    baseline = solve(problem.instance, method="greedy", explain_only=())
    return problem, plan, baseline, refused


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
