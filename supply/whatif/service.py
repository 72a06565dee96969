"""What-if on a weekly plan: one use case, three steps, as the weekly run does them.

1. **Read** (one session that writes nothing): the base — a run's instance and plan, or the
   current state — the world the changes are checked against, and the extra projects checked by
   the projects import's rules (`supply.whatif.base`, `supply.whatif.projects`).
2. **Apply, solve, compare** (no session): the changes (`supply.whatif.apply`), the engine
   (`optimizer.solve`, within the planner's limits; a plan the independent checker rejects is
   never saved), the weekly run's KPIs and lines (`supply.whatif.compare`).
3. **Save** (one short transaction): the scenario's row, its folder
   (`GRIDSUPPLY_RUNS_DIR/scenarios/<id>/`: changes, both instances and plans, KPIs, lines) and
   its audit event `scenario.create`. Nothing else in the database changes.

A scenario can be read again (`get_scenario`), listed, and replayed (`replay_scenario`: its saved
instance solved again, compared with its saved plan).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from optimizer import Plan, check_plan, instance_to_json, plan_to_json, solve, tiers_close
from supply.calendar import WorkCalendar
from supply.core.audit import record
from supply.core.clock import local_today
from supply.core.errors import ImportRejected, InvalidInput, NotFound, RowProblem
from supply.core.paging import Page, paginate
from supply.core.settings import Settings, check_runs_dir, runs_dir_unusable
from supply.core.sheets.read import Sheet as ReadSheet
from supply.demand.service import catalogued_materials, material_refs
from supply.limits import solve_within_limits, with_refusals
from supply.packages.models import Package
from supply.planning import MatchingProblem
from supply.policy import DeadlinePolicy
from supply.projects.files import SheetKind
from supply.projects.models import Project
from supply.projects.service import known_locations
from supply.projects.workbook import WorkbookContext
from supply.whatif import base as bases
from supply.whatif.apply import apply_changes
from supply.whatif.changes import ExtraProjects, Located, as_json, rejected
from supply.whatif.compare import changed_lines, compare_kpis, effect_json, plan_kpis, side
from supply.whatif.files import no_changes
from supply.whatif.models import (
    EffectPublic,
    LineChange,
    Scenario,
    ScenarioPublic,
    ScenarioReplay,
    ScenarioSummary,
)
from supply.whatif.projects import Arrivals, arrivals, specs_from_sheets

FOLDER = "scenarios"  # under GRIDSUPPLY_RUNS_DIR
FILES = (
    "changes.json",
    "base-instance.json",
    "base-plan.json",
    "instance.json",
    "plan.json",
    "kpis.json",
    "lines.json",
)


@dataclass(frozen=True)
class WhatIf:
    """A what-if to make: on which batch, from which base, the changes, its name; and the
    sheets of extra projects in the projects import format (a workbook's 项目, 需求明细)."""

    batch_id: str
    changes: Sequence[Located] = ()
    base: str = bases.RUN
    run_id: int | None = None
    name: str = ""
    projects: Mapping[SheetKind, ReadSheet] = field(default_factory=dict)
    projects_file: str = ""
    problems: Sequence[RowProblem] = ()  # of changes that could not be read: named with the rest


def create_scenario(
    *,
    engine: Engine,
    what: WhatIf,
    now: datetime,
    user: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> ScenarioPublic:
    """Apply the changes to the base, solve, compare with the base, save the scenario (audited
    `scenario.create`); nothing else in the database changes. Raises `ImportRejected` naming
    every bad change, `NotFound` for a batch without a run (base `run`)."""
    check_runs_dir(settings)
    clock = time.perf_counter
    started = clock()
    with Session(engine) as session:
        base = bases.read_base(
            session, batch_id=what.batch_id, base=what.base, run_id=what.run_id,
            calendar=calendar, policy=policy, settings=settings,
        )  # fmt: skip
        changes = list(what.changes)
        if what.projects:
            changes.append(_from_workbook(session, what, now, calendar, policy, len(changes) + 1))
        if not changes and not what.problems:
            raise no_changes()
        arrived, problems = _arrivals(session, changes, now, calendar, policy)
        session.rollback()
    read = clock()
    problems = [*what.problems, *problems]
    try:
        applied = apply_changes(base.problem, changes, base.world, arrived)
    except ImportRejected as refused:
        raise rejected(sorted([*problems, *refused.problems], key=_by_row)) from None
    if problems:
        raise rejected(sorted(problems, key=_by_row))
    applied_at = clock()
    if base.plan is None:  # the current state: its plan made now, as the weekly run would
        base.problem, base.plan = _solve_checked(base.problem)
    problem, plan = _solve_checked(applied.problem)
    solved = clock()
    world = base.world
    prices = {code: m.standard_price for code, m in world.supply.materials.items()}
    types = {**base.names.project_types}
    names = {**base.names.project_names}
    for found in arrived.values():
        types.update(found.project_types)
        names.update(found.project_names)
    kpis = {
        "base": plan_kpis(base.problem, base.plan, prices=prices, project_types=types),
        "scenario": plan_kpis(problem, plan, prices=prices, project_types=types),
    }
    sides = [
        side(
            p,
            q,
            world.supply,
            world.catalogued,
            emergency_for_catalog_materials=world.emergency_for_catalog_materials,
        )
        for p, q in ((base.problem, base.plan), (problem, plan))
    ]
    lines = changed_lines(
        sides[0], sides[1], applied.effects, project_names=names, materials=base.names.materials
    )
    compared = clock()
    kpis["seconds"] = {
        "read": round(read - started, 3),
        "apply": round(applied_at - read, 3),
        "solve": round(solved - applied_at, 3),
        "compare": round(compared - solved, 3),
    }
    saved_changes = as_json(changes)
    row = Scenario(
        name=what.name,
        batch_id=base.batch.id,
        base=what.base,
        base_run_id=base.run_id,
        plan_date=problem.instance.plan_date,
        changes=saved_changes,
        effects=[effect_json(e) for e in applied.effects],
        kpis=kpis,
        solve_status=plan.status,
        lines_changed=len(lines),
        created_by=user,
        created_at=now,
        folder="",
    )
    files = {
        "changes.json": json.dumps(saved_changes, ensure_ascii=False, indent=1),
        "base-instance.json": instance_to_json(base.problem.instance),
        "base-plan.json": plan_to_json(base.plan),
        "instance.json": instance_to_json(problem.instance),
        "plan.json": plan_to_json(plan),
        "kpis.json": json.dumps(kpis, ensure_ascii=False, indent=1),
        "lines.json": json.dumps(
            [line.model_dump(mode="json") for line in lines], ensure_ascii=False, indent=1
        ),
    }
    saved = _save(engine, row, files, settings=settings, user=user, now=now)
    return public_of(saved, lines)


_SHEETS = {"变更": 0, "项目包": 1, "项目": 2, "需求明细": 3}


def _by_row(problem: RowProblem) -> tuple[int, int]:
    return _SHEETS.get(problem.sheet_zh, 4), problem.row or 0


def _context(session: Session, now: datetime) -> WorkbookContext:
    """What extra projects are checked against, as the projects import checks them."""
    return WorkbookContext(
        materials=material_refs(session=session),
        catalogued=catalogued_materials(session=session, today=local_today(now)),
        locations=known_locations(session=session),
        packages=frozenset(session.exec(select(Package.id))),
    )


def _from_workbook(
    session: Session,
    what: WhatIf,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    number: int,
) -> Located:
    """The extra projects of a workbook as a change (kept as JSON, so that it replays)."""
    specs = specs_from_sheets(
        what.projects, _context(session, now),
        existing=frozenset(session.exec(select(Project.id))), calendar=calendar, policy=policy,
    )  # fmt: skip
    change = ExtraProjects(kind="extra_projects", projects=specs, file=what.projects_file[:200])
    return Located(change, number)


def _arrivals(
    session: Session,
    changes: Sequence[Located],
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> tuple[dict[int, Arrivals], list[RowProblem]]:
    """The extra projects' lines, checked by the projects import's rules, by the change's place;
    and the problems of those that fail."""
    wanted = [(i, c) for i, c in enumerate(changes) if isinstance(c.change, ExtraProjects)]
    if not wanted:
        return {}, []
    context = _context(session, now)
    existing = frozenset(session.exec(select(Project.id)))
    found: dict[int, Arrivals] = {}
    problems: list[RowProblem] = []
    for index, located in wanted:
        try:
            found[index] = arrivals(
                located.change, located.row, context, existing=existing, calendar=calendar,
                policy=policy,
            )  # fmt: skip
        except ImportRejected as refused:
            problems += refused.problems
    return found, problems


def _solve_checked(problem: MatchingProblem) -> tuple[MatchingProblem, Plan]:
    """Solve within the planner's limits; refuse an invalid instance, never keep a plan the
    independent checker rejects. The plan lists refused lines as unmet, with the reason."""
    problem, plan, refused = solve_within_limits(problem, solve)
    if plan.status == "invalid":
        raise InvalidInput(
            "匹配实例无效 / the matching instance is invalid: "
            + "; ".join(f"{e.id} {e.field}: {e.message}" for e in plan.errors[:10]),
            loc=("changes",),
        )
    report = check_plan(problem.instance, plan)
    if not report.feasible:
        raise RuntimeError(
            "the plan failed the independent check: " + "; ".join(report.problems[:5])
        )
    return problem, with_refusals(plan, refused)


def _save(
    engine: Engine,
    row: Scenario,
    files: dict[str, str],
    *,
    settings: Settings,
    user: str,
    now: datetime,
) -> Scenario:
    """Save the row, write its folder and record the event in one transaction; a save that
    fails leaves no folder behind."""
    root = Path(settings.runs_dir).expanduser() / FOLDER
    with Session(engine) as session:
        session.add(row)
        session.flush()
        folder = root / str(row.id)
        try:
            # A folder of this id is one a failed save left (its id was never committed).
            shutil.rmtree(folder, ignore_errors=True)
            try:
                folder.mkdir(parents=True)
                for name, text in files.items():
                    (folder / name).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise runs_dir_unusable(settings, f"{folder}: {exc.strerror or exc}") from None
            row.folder = str(folder.resolve())
            session.add(row)
            record(
                session, actor=user, action="scenario.create", object_type="scenario",
                object_id=row.id or "",
                after={"batch_id": row.batch_id, "base": row.base, "base_run_id": row.base_run_id,
                       "changes": len(row.changes), "lines_changed": row.lines_changed,
                       "name": row.name},
                at=now,
            )  # fmt: skip
            session.commit()
        except BaseException:
            session.rollback()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        session.refresh(row)
        return row


# ------------------------------------------------------------------ reads


def _figures(row: Scenario, key: str) -> tuple[Any, Any]:
    base, scenario = row.kpis.get("base", {}), row.kpis.get("scenario", {})
    if key == "spend":
        return base.get("spend", 0), scenario.get("spend", 0)
    return base.get("totals", {}).get(key, 0), scenario.get("totals", {}).get(key, 0)


def summary_of(row: Scenario) -> ScenarioSummary:
    """A scenario as a list shows it."""
    assert row.id is not None
    return ScenarioSummary(
        id=row.id,
        name=row.name,
        batch_id=row.batch_id,
        base=row.base,
        base_run_id=row.base_run_id,
        plan_date=row.plan_date,
        created_by=row.created_by,
        created_at=row.created_at,
        solve_status=row.solve_status,
        changes=len(row.changes),
        lines_changed=row.lines_changed,
        on_time_lines=_figures(row, "on_time_lines"),
        late_lines=_figures(row, "late_lines"),
        unmet_lines=_figures(row, "unmet_lines"),
        spend=_figures(row, "spend"),
    )


def public_of(row: Scenario, lines: list[LineChange]) -> ScenarioPublic:
    """A scenario whole: its changes, what each did, the KPIs side by side, the changed lines."""
    folder = Path(row.folder)
    return ScenarioPublic(
        **summary_of(row).model_dump(),
        change_list=row.changes,
        effects=[EffectPublic.model_validate(e) for e in row.effects],
        kpis=compare_kpis(row.kpis["base"], row.kpis["scenario"]),
        lines=lines,
        files=[name for name in FILES if (folder / name).is_file()],
    )


def get_scenario_row(*, session: Session, scenario_id: int) -> Scenario:
    """The scenario's row, or NotFound."""
    row = session.get(Scenario, scenario_id)
    if row is None:
        raise NotFound(
            f"没有第 {scenario_id} 号假设分析 / no scenario #{scenario_id}", loc=("scenario_id",)
        )
    return row


def get_scenario(*, session: Session, scenario_id: int) -> ScenarioPublic:
    """A saved scenario with its KPIs side by side and the lines that changed (read from its
    folder; NotFound, saying so, when the folder is gone)."""
    row = get_scenario_row(session=session, scenario_id=scenario_id)
    path = Path(row.folder) / "lines.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound(
            f"第 {scenario_id} 号假设分析的文件不在了 / the files of scenario #{scenario_id} are "
            f"gone ({path}); make it again from its changes",
            loc=("scenario_id",),
        ) from None
    return public_of(row, [LineChange.model_validate(line) for line in data])


def list_scenarios(
    *, session: Session, offset: int, limit: int, batch_id: str | None = None
) -> Page[ScenarioSummary]:
    """Saved scenarios, newest first (of one batch, if given)."""
    statement = select(Scenario)
    if batch_id:
        statement = statement.where(Scenario.batch_id == batch_id)
    return paginate(
        session, statement, order_by=[col(Scenario.created_at).desc(), col(Scenario.id).desc()],
        offset=offset, limit=limit, convert=summary_of,
    )  # fmt: skip


def scenario_file(*, session: Session, scenario_id: int, name: str) -> Path:
    """One of a scenario's files (`FILES`), or NotFound."""
    row = get_scenario_row(session=session, scenario_id=scenario_id)
    path = Path(row.folder) / name
    if name not in FILES or not path.is_file():
        raise NotFound(
            f"第 {scenario_id} 号假设分析没有文件 {name[:60]} / scenario #{scenario_id} has no "
            f"file {name[:60]!r}; files: {', '.join(FILES)}",
            loc=("name",),
        )
    return path


def replay_scenario(*, session: Session, scenario_id: int) -> ScenarioReplay:
    """Solve a scenario's saved instance again and compare the plan with the saved one."""
    row = get_scenario_row(session=session, scenario_id=scenario_id)
    session.rollback()  # nothing is written: the read ends before the solve
    folder = Path(row.folder)
    instance = bases.read_saved_instance(folder / "instance.json")
    saved = bases.read_saved_plan(folder / "plan.json")
    started = time.perf_counter()
    plan = solve(instance)
    seconds = time.perf_counter() - started
    mine, theirs = _allocations(plan), _allocations(saved)
    keys = mine.keys() | theirs.keys()
    differences = sum(1 for k in keys if mine.get(k) != theirs.get(k))
    tiers = [
        (o.unmet_weighted, o.lateness_weighted, o.cost) for o in (plan.objective, saved.objective)
    ]
    assert row.id is not None
    return ScenarioReplay(
        id=row.id,
        same=differences == 0 and tiers_close(tiers[0], tiers[1]),
        differences=differences,
        saved=saved.objective.model_dump(),
        replayed=plan.objective.model_dump(),
        seconds=round(seconds, 3),
    )


def _allocations(plan: Plan) -> dict[str, tuple[Any, ...]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for a in plan.allocations:
        found.setdefault(a.demand, []).append((a.source, a.quantity, a.arrival))
    for u in plan.unmet:
        found.setdefault(u.demand, []).append(("", u.quantity, None))
    return {k: tuple(sorted(v, key=repr)) for k, v in found.items()}
