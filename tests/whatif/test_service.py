"""A what-if end to end on a real database (SQLite and PostgreSQL): a supplier's delay turns
specific lines late, with a reason that names the delay, and the base plan is untouched; the
scenario is saved (row, folder, one audit event) and replays to the same plan; every kind of
change; the current state as the base; every bad change named, nothing saved."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from optimizer import parse_instance, read_plan, solve
from supply.core.audit import AuditEvent
from supply.core.db import import_models
from supply.core.errors import ImportRejected, NotFound
from supply.demand.models import DemandLine
from supply.holds.models import Hold
from supply.projects.models import Project
from supply.weekly.models import PlanLine, PlanRun
from supply.whatif import (
    Scenario,
    WhatIf,
    get_scenario,
    list_scenarios,
    read_changes,
    replay_scenario,
)
from supply.whatif.models import LineChange
from tests.audit import events, last_id
from tests.whatif.conftest import Planned
from tests.whatif.test_changes import workbook
from tests.whatif.world import CABLE_LINE, CABLE_SUPPLIER, NEED_BY

DELAY = {"kind": "supplier_delay", "supplier": CABLE_SUPPLIER, "days": 10}


def _state(session: Session) -> dict[str, Any]:
    """Everything a what-if must leave as it is: the plan lines, the runs, projects, lines,
    holds, in full."""
    import_models()
    session.expire_all()
    return {
        "plan_lines": sorted(
            repr(sorted(line.model_dump().items())) for line in session.exec(select(PlanLine))
        ),
        "runs": sorted(
            (r.id, r.status, r.batch_id, str(r.cost)) for r in session.exec(select(PlanRun))
        ),
        "projects": sorted((p.id, p.need_by, p.deadline) for p in session.exec(select(Project))),
        "lines": sorted((d.id, d.status, d.covered) for d in session.exec(select(DemandLine))),
        "holds": session.exec(select(func.count()).select_from(Hold)).one(),
    }


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _line(lines: list[LineChange], demand: str) -> LineChange:
    [found] = [line for line in lines if line.demand == demand]
    return found


def test_a_supplier_delay_turns_its_lines_late_and_says_why(planned: Planned) -> None:
    session = planned.session
    before, files = _state(session), _digest(planned.run.run_dir)
    after_event = last_id(session.get_bind())  # type: ignore[arg-type]

    scenario = planned.what_if([DELAY], name="电缆延迟")

    # The line that was on time from the cable supplier's agreement line is now late: the
    # agreement line comes 10 days later, so emergency procurement (12-26) is the earliest.
    cable = _line(scenario.lines, "P-CABLE/1")
    assert cable.base is not None
    assert (cable.base.outcome, cable.base.parts[0].source_id) == ("on_time", f"A:{CABLE_LINE}")
    assert (cable.base.arrival, cable.need_by) == (date(2026, 12, 18), NEED_BY)
    assert cable.scenario.outcome == "late" and cable.verdict == "worse"
    assert [p.source_id for p in cable.scenario.parts] == ["E:CB10-300"]
    assert (cable.scenario.arrival, cable.scenario.late_days) == (date(2026, 12, 26), 4)
    # The reason names the delay: which change, which supplier, which line, by how much ...
    assert cable.changes == [1]
    assert f"供应商 {CABLE_SUPPLIER} 交货延迟 10 天" in cable.note
    assert f"协议库存 A:{CABLE_LINE} 可供日期 2026-12-17 → 2026-12-27" in cable.note
    assert f"supplier {CABLE_SUPPLIER} delivers 10 days late" in cable.note_en
    # ... and the engine's reason says what would have been on time and what served it.
    assert cable.cause == "none_in_time"
    assert "需到货 12-22" in cable.reason and "E:CB10-300" in cable.reason
    assert "needed by 12-22" in cable.reason_en
    # The already late line gets later; the transformer line, of another supplier, is untouched.
    late = _line(scenario.lines, "P-LATE/1")
    assert late.verdict == "worse" and late.changes == [1]
    assert {line.demand for line in scenario.lines} == {"P-CABLE/1", "P-LATE/1"}
    # KPIs side by side: one line fewer on time, emergency spend up, agreement spend down.
    kpis = {k.key: k for k in scenario.kpis}
    assert (kpis["on_time_lines"].base, kpis["on_time_lines"].scenario) == (2, 1)
    assert kpis["on_time_lines"].verdict == "worse" and kpis["late_lines"].delta == 1
    assert kpis["spend.emergency"].delta > 0 > kpis["spend.agreement"].delta
    [effect] = scenario.effects
    assert effect.sources == [f"协议库存 A:{CABLE_LINE} 可供日期 2026-12-17 → 2026-12-27"]

    # Nothing in the database changed but the scenario and its one audit event; the run's
    # files are as they were.
    assert _state(session) == before
    assert _digest(planned.run.run_dir) == files
    engine = session.get_bind()
    [event] = events(engine, after_id=after_event)  # type: ignore[arg-type]
    assert (event.action, event.object_type, event.object_id) == (
        "scenario.create",
        "scenario",
        str(scenario.id),
    )
    assert event.actor == "物资部 李工" and event.after is not None
    assert event.after["changes"] == 1 and event.after["lines_changed"] == 2


def test_the_scenario_is_saved_shared_and_replays_to_the_same_plan(planned: Planned) -> None:
    scenario = planned.what_if([DELAY], name="电缆延迟")
    session = planned.session
    row = session.get(Scenario, scenario.id)
    assert row is not None and row.base == "run" and row.base_run_id == planned.run.run.id
    assert row.changes == [DELAY] and row.lines_changed == 2
    folder = Path(row.folder)
    assert folder.parent == (Path(planned.settings.runs_dir) / "scenarios").resolve()
    assert set(scenario.files) == {p.name for p in folder.iterdir()}
    # The files are the matching contract's: the instance solves to the saved plan again.
    instance = parse_instance((folder / "instance.json").read_bytes())
    assert not isinstance(instance, list)
    saved = read_plan((folder / "plan.json").read_bytes())
    assert solve(instance).allocations == saved.allocations
    ready = {s.id: s.ready for s in instance.sources}
    assert ready[f"A:{CABLE_LINE}"] == date(2026, 12, 27)
    base = parse_instance((folder / "base-instance.json").read_bytes())
    assert not isinstance(base, list)
    assert {s.id: s.ready for s in base.sources}[f"A:{CABLE_LINE}"] == date(2026, 12, 17)
    assert json.loads((folder / "changes.json").read_text()) == [DELAY]

    again = get_scenario(session=session, scenario_id=scenario.id)
    assert again.model_dump() == scenario.model_dump()
    replayed = replay_scenario(session=session, scenario_id=scenario.id)
    assert replayed.same and replayed.differences == 0
    assert replayed.replayed == replayed.saved

    listed = list_scenarios(session=session, offset=0, limit=10)
    assert [s.id for s in listed.items] == [scenario.id]
    assert listed.items[0].on_time_lines == (2, 1) and listed.items[0].name == "电缆延迟"


def test_the_current_state_as_the_base_plans_it_as_the_run_would(planned: Planned) -> None:
    before = _state(planned.session)
    scenario = planned.what_if([DELAY], base="current")
    assert scenario.base == "current" and scenario.base_run_id is None
    assert {line.demand for line in scenario.lines} == {"P-CABLE/1", "P-LATE/1"}
    assert _state(planned.session) == before


def test_every_kind_of_change_does_what_it_says(planned: Planned) -> None:
    scenario = planned.what_if(
        [
            {"kind": "agreement_expired", "agreement": CABLE_LINE},
            {"kind": "stock_change", "warehouse": "WH-WD", "material": "DT-400", "quantity": -1},
            {"kind": "quota_change", "warehouse": "WH-WD", "material": "DT-400", "quota": 0},
            {"kind": "transport_days", "from": "WH-CENTRAL", "to": "wendeng", "days": 3},
            {
                "kind": "stock_change",
                "warehouse": "WH-CENTRAL",
                "material": "MTR-1P",
                "quantity": 5,
            },
        ]
    )
    effects = {e.number: e for e in scenario.effects}
    assert effects[1].sources == [f"协议库存 A:{CABLE_LINE} 失效（原可供 6000）"]
    assert effects[2].sources == ["实物储备 R:WH-WD:DT-400 数量 2 → 1"]
    assert effects[3].sources == ["实物储备 R:WH-WD:DT-400 定额 2 → 0"]
    assert effects[4].sources == ["lingang → wendeng 运输 1 → 3 天"]
    # No line of the base needs meters: the stock added changes nothing, and says so.
    assert effects[5].sources == [] and effects[5].idle == "没有需求行需要 MTR-1P"
    # Without the agreement line, both cable lines go to emergency procurement.
    cable = _line(scenario.lines, "P-CABLE/1")
    assert [p.kind for p in cable.scenario.parts] == ["emergency"]
    assert cable.changes == [1] and "失效" in cable.note


def test_a_closed_warehouse_takes_its_stock_and_sends_deliveries_to_the_centre(
    planned: Planned,
) -> None:
    scenario = planned.what_if([{"kind": "warehouse_closed", "warehouse": "WH-WD"}])
    [effect] = scenario.effects
    assert "实物储备 R:WH-WD:DT-400 随仓库关闭不可用" in effect.sources
    capacity = _line(scenario.lines, "P-CAP/1")  # its transformer was in the wendeng reserve
    assert capacity.base is not None and capacity.base.parts[0].source_id == "R:WH-WD:DT-400"
    assert "R:WH-WD:DT-400" not in {p.source_id for p in capacity.scenario.parts}
    assert capacity.changes == [1]


def test_extra_projects_arrive_with_their_lines(planned: Planned) -> None:
    extra = {
        "kind": "extra_projects",
        "projects": [
            {"id": "P-NEW-1", "name": "新增台区", "project_type": "area_new",
             "location": "wendeng", "approved_on": "2026-11-27",
             "lines": [{"material_code": "DT-400", "quantity": 2},
                       {"material_code": "MTR-1P", "quantity": 30}]},
        ],
    }  # fmt: skip
    scenario = planned.what_if([extra])
    added = [line for line in scenario.lines if line.verdict == "new"]
    assert {line.demand for line in added} == {"P-NEW-1/1", "P-NEW-1/2"}
    assert all(line.base is None and line.changes == [1] for line in added)
    assert scenario.effects[0].added == 2
    kpis = {k.key: k for k in scenario.kpis}
    assert kpis["on_time_lines"].scenario + kpis["late_lines"].scenario == 5
    # They compete for the reserve transformers: the line that had them may lose them.
    assert planned.session.exec(select(Project).where(Project.id == "P-NEW-1")).first() is None


def test_every_bad_change_is_named_and_nothing_is_saved(planned: Planned) -> None:
    engine = planned.session.get_bind()
    after_event = last_id(engine)  # type: ignore[arg-type]
    with pytest.raises(ImportRejected) as refused:
        planned.what_if(
            [
                {"kind": "supplier_delay", "supplier": "没有这家", "days": 3},
                {"kind": "agreement_expired", "agreement": "SD-2099-01/1"},
                {"kind": "stock_change", "warehouse": "WH-X", "material": "NOPE", "quantity": 1},
                {
                    "kind": "stock_change",
                    "warehouse": "WH-WD",
                    "material": "DT-400",
                    "quantity": -5,
                },
                {"kind": "agreement_exhausted", "agreement": CABLE_LINE, "left": 6000},
                {"kind": "warehouse_closed", "warehouse": "WH-CENTRAL"},
                {"kind": "transport_days", "from": "lingang", "to": "nowhere", "days": 2},
            ]
        )
    found = [(p.row, p.column_en) for p in refused.value.problems]
    assert found == [
        (1, "supplier"),
        (2, "agreement"),
        (3, "warehouse"),
        (3, "material"),
        (4, "quantity"),
        (5, "left"),
        (6, "warehouse"),
        (7, "to"),
    ]
    texts = [p.text for p in refused.value.problems]
    assert "没有供应商 没有这家" in texts[0] and CABLE_SUPPLIER in texts[0]
    assert "只有 2 可用的 DT-400" in texts[4]
    assert all(t.startswith("变更表 第 ") for t in texts)
    assert planned.session.exec(select(func.count()).select_from(Scenario)).one() == 0
    assert events(engine, after_id=after_event) == []  # type: ignore[arg-type]
    assert not (Path(planned.settings.runs_dir) / "scenarios").exists() or not any(
        (Path(planned.settings.runs_dir) / "scenarios").iterdir()
    )


def test_a_malformed_change_list_names_each_item_and_field(planned: Planned) -> None:
    with pytest.raises(ImportRejected) as refused:
        planned.what_if(
            [
                {"kind": "supplier_delay", "supplier": CABLE_SUPPLIER, "days": 0},
                {"kind": "teleport"},
                {"kind": "stock_change", "warehouse": "WH-WD", "material": "DT-400"},
            ]
        )
    assert [(p.row, p.column_en) for p in refused.value.problems] == [
        (1, "days"),
        (2, ""),
        (3, "quantity"),
    ]
    assert "应不小于 1" in refused.value.problems[0].text
    assert "supplier_delay" in refused.value.problems[1].message_en


def test_a_batch_without_a_run_is_not_found_and_a_given_run_can_be_the_base(
    planned: Planned,
) -> None:
    with pytest.raises(NotFound, match="2026-W50"):
        planned.what_if([DELAY], batch="2026-W50")
    run_id = planned.run.run.id
    scenario = planned.what_if([DELAY], run_id=run_id)
    assert scenario.base_run_id == run_id
    with pytest.raises(NotFound, match="#999"):
        planned.what_if([DELAY], run_id=999)
    rows = planned.session.exec(select(Scenario).order_by(col(Scenario.id))).all()
    assert [r.base_run_id for r in rows] == [run_id]


def test_the_audit_trail_holds_one_event_per_scenario(planned: Planned) -> None:
    engine = planned.session.get_bind()
    first = last_id(engine)  # type: ignore[arg-type]
    planned.what_if([DELAY])
    planned.what_if([DELAY], base="current")
    found = events(engine, after_id=first)  # type: ignore[arg-type]
    assert [e.action for e in found] == ["scenario.create", "scenario.create"]
    assert planned.session.exec(select(func.count()).select_from(AuditEvent)).one() > 2


PROJECTS = ["项目编号", "项目名称", "工程类型", "所在地点", "行政审批日期"]
LINES = ["项目编号", "行号", "物料编码", "需求数量"]


def test_extra_projects_come_in_the_projects_import_format(planned: Planned) -> None:
    content = workbook(
        {
            "项目": [PROJECTS, ["P-NEW-2", "新建台区 2", "新建台区", "wendeng", "2026-11-27"]],
            "需求明细": [LINES, ["P-NEW-2", 1, "DT-400", 1], ["P-NEW-2", 2, "MTR-1P", 12]],
        }
    )
    found = read_changes(content, "新增项目.xlsx")
    scenario = planned.make(
        WhatIf("2026-W49", found.changes, projects=found.projects, projects_file="新增项目.xlsx")
    )
    [change] = scenario.change_list
    assert change["kind"] == "extra_projects" and change["file"] == "新增项目.xlsx"
    assert change["projects"][0]["project_type"] == "area_new"
    assert {line.demand for line in scenario.lines if line.verdict == "new"} == {
        "P-NEW-2/1",
        "P-NEW-2/2",
    }
    # Kept as JSON, the what-if replays without the workbook.
    again = planned.what_if(scenario.change_list)
    assert [k.model_dump() for k in again.kpis] == [k.model_dump() for k in scenario.kpis]


def test_bad_extra_projects_are_named_by_sheet_row_and_column(planned: Planned) -> None:
    content = workbook(
        {
            "项目": [PROJECTS, ["P-CAP", "已有项目", "新建台区", "wendeng", "2026-11-27"],
                     ["P-NEW-3", "新项目", "新建台区", "mars", "2026-11-27"]],
            "需求明细": [LINES, ["P-CAP", 1, "DT-400", 1], ["P-NEW-3", 1, "NOPE", 2]],
        }
    )  # fmt: skip
    found = read_changes(content, "新增项目.xlsx")
    with pytest.raises(ImportRejected) as refused:
        planned.make(WhatIf("2026-W49", found.changes, projects=found.projects))
    named = {(p.sheet_zh, p.row, p.column_zh) for p in refused.value.problems}
    assert ("项目", 3, "所在地点") in named  # no such place
    assert ("需求明细", 3, "物料编码") in named  # no such material
    assert ("项目", 2, "项目编号") in named  # stored already: a what-if adds new projects only
    json_change = {
        "kind": "extra_projects",
        "projects": [{"id": "P-NEW-4", "name": "x", "project_type": "area_new",
                      "location": "wendeng", "approved_on": "2026-11-27",
                      "lines": [{"material_code": "NOPE", "quantity": 1}]}],
    }  # fmt: skip
    with pytest.raises(ImportRejected) as refused:
        planned.what_if([DELAY, json_change])
    [problem] = refused.value.problems
    assert (problem.row, problem.column_en) == (2, "projects[0].lines[0].material_code")
