"""The weekly run end to end on a real database (SQLite and PostgreSQL): what it plans, what it
writes, the cutoff, re-runs and approval, and the province's matching result."""

from __future__ import annotations

import gc
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from catalogs.models import AgreementLine, ImportKind, ImportRecord
from optimizer import parse_instance, solve
from supply.commitments import refresh_statuses
from supply.core.clock import SHANGHAI
from supply.core.errors import Conflict, ImportRejected
from supply.demand.models import DemandLine, DemandStatus
from supply.holds.models import Hold, StockKind
from supply.weekly.approval import approve_run
from supply.weekly.models import PlanLine, PlanRun, RunStatus
from supply.weekly.province import import_province_match
from supply.weekly.run import RunOutcome, run_weekly
from tests.conftest import sheet_rows, xlsx_bytes
from tests.weekly.world import (
    BEFORE_CUTOFF,
    CALENDAR,
    POLICY,
    add_project,
    load_world,
    settings_for,
)


@pytest.fixture
def world(session: Session) -> Session:
    """The small supply world and three projects for batch 2026-W49."""
    load_world(session)
    # 8 working days from Thu 11-26: deadline Tue 12-08, need-by 3 working days before: 12-03.
    add_project(
        session,
        "P-CAP",
        kind="area_capacity_increase",
        approved=date(2026, 11, 26),
        location="wendeng",
        lines=[("DT-400", 1)],
    )
    # 15 working days from Fri 11-20: deadline Fri 12-11, need-by 5 working days before: 12-04.
    add_project(
        session,
        "P-NEW",
        kind="area_new",
        approved=date(2026, 11, 20),
        location="huancui",
        lines=[("DT-400", 1)],
    )
    # 5 working days from Fri 11-27: deadline Fri 12-04, need-by 2 working days before: 12-02.
    add_project(
        session,
        "P-LV",
        kind="lv_extension",
        approved=date(2026, 11, 27),
        location="wendeng",
        voltage="0.4kV",
        lines=[("MTR-1P", 5)],
    )
    return session


def run(
    session: Session,
    tmp_path: Path,
    *,
    at: datetime = BEFORE_CUTOFF,
    rerun: bool = False,
    **settings: object,
) -> RunOutcome:
    config = settings_for(session, str(tmp_path / "runs")).model_copy(update=settings)
    return run_weekly(
        engine=session.get_bind(),
        at=at,
        now=at,
        user="物资部 李工",  # type: ignore[arg-type]
        calendar=CALENDAR,
        policy=POLICY,
        settings=config,
        rerun=rerun,
    )


def saved_lines(session: Session, run_id: int) -> set[tuple[object, ...]]:
    return {
        (
            line.project_id or f"REPL {line.replenish_warehouse_id}",
            line.material_code,
            line.kind,
            line.warehouse_id,
            line.quantity,
            line.late_days,
        )
        for line in session.exec(select(PlanLine).where(PlanLine.run_id == run_id))
    }


def test_the_monday_run_plans_saves_and_exports(world: Session, tmp_path: Path) -> None:
    outcome = run(world, tmp_path)
    r = outcome.run
    assert (r.batch_id, r.status, r.province_match_on) == ("2026-W49", "draft", date(2026, 12, 2))
    assert r.cutoff == datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    assert (r.demand_lines, r.replenishment_lines) == (3, 1)
    # Both urgent transformers from the wendeng reserve (on time beats the quota), meters from
    # consignment (190 < 200), and the drained reserve refilled from the agreement line.
    assert saved_lines(world, r.id) == {
        ("P-CAP", "DT-400", "reserve", "WH-WD", 1, 0),
        ("P-NEW", "DT-400", "reserve", "WH-WD", 1, 0),
        ("P-LV", "MTR-1P", "consignment", "WH-WD", 5, 0),
        ("REPL WH-WD", "DT-400", "agreement", "WH-CENTRAL", 2, 0),
    }
    assert float(r.cost) == 2 * 45000 + 5 * 190 + 2 * 200  # two transformers below quota
    assert r.kpis["totals"]["on_time_lines"] == 3
    assert r.kpis["baseline"]["objective"]["cost"] >= r.kpis["objective"]["cost"]

    folder = outcome.run_dir
    assert {p.name for p in folder.iterdir()} >= {
        "instance.json",
        "plan.json",
        "replenishment-instance.json",
        "replenishment-plan.json",
        "kpis.json",
    }
    requirements = sheet_rows(outcome.exports["agreement_requirements"], "需求汇总")
    assert requirements[0][:8] == (
        "批次",
        "地市",
        "物料编码",
        "物料名称",
        "单位",
        "交货仓库",
        "交货仓库名称",
        "需求数量",
    )
    assert [row[:8] for row in requirements[1:-1]] == [
        (
            "2026-W49",
            "威海",
            "DT-400",
            "10kV油浸式配电变压器 400kVA",
            "台",
            "WH-CENTRAL",
            "物资中心库",
            2,
        )
    ]
    assert requirements[-1][0] == "合计 / total (1 行)"
    issues = sheet_rows(outcome.exports["issue_list"], "WH-WD 文登周转库")
    assert sorted((row[0], row[2], row[5], row[6]) for row in issues[1:-1]) == [
        ("P-CAP", "DT-400", 1, "实物储备"),
        ("P-LV", "MTR-1P", 5, "供应商寄存"),
        ("P-NEW", "DT-400", 1, "实物储备"),
    ]
    assert len(sheet_rows(outcome.exports["emergency"], "紧急采购")) == 1  # header only
    assert len(sheet_rows(outcome.exports["late_unmet"], "延迟与未满足")) == 1
    refill = sheet_rows(outcome.exports["replenishment"], "补库")
    assert [(row[0], row[1], row[4], row[5]) for row in refill[1:-1]] == [
        ("WH-WD", "DT-400", 2, "协议库存")
    ]


def test_a_replayed_instance_reproduces_the_saved_plan(world: Session, tmp_path: Path) -> None:
    outcome = run(world, tmp_path)
    instance = parse_instance((outcome.run_dir / "instance.json").read_bytes())
    assert not isinstance(instance, list)
    replayed = json.loads(solve(instance).model_dump_json())
    saved = json.loads((outcome.run_dir / "plan.json").read_text(encoding="utf-8"))
    assert replayed["allocations"] == saved["allocations"]
    assert replayed["objective"] == saved["objective"]


def test_only_lines_submitted_strictly_before_the_cutoff_are_planned(
    world: Session, tmp_path: Path
) -> None:
    add_project(
        world,
        "P-IN",
        kind="lv_extension",
        approved=date(2026, 11, 27),
        location="wendeng",
        voltage="0.4kV",
        lines=[("MTR-1P", 1)],
        submitted=datetime(2026, 11, 30, 11, 59, 59, tzinfo=SHANGHAI),
    )
    add_project(
        world,
        "P-OUT",
        kind="lv_extension",
        approved=date(2026, 11, 27),
        location="wendeng",
        voltage="0.4kV",
        lines=[("MTR-1P", 1)],
        submitted=datetime(2026, 11, 30, 4, 0, tzinfo=UTC),
    )
    projects = {line[0] for line in saved_lines(world, run(world, tmp_path).run.id)}
    assert "P-IN" in projects
    assert "P-OUT" not in projects  # 04:00 UTC is 12:00:00 in Shanghai: next week's batch


def test_one_run_per_batch_unless_rerun_and_approval_freezes_it(
    world: Session, tmp_path: Path
) -> None:
    first = run(world, tmp_path)
    with pytest.raises(Conflict, match="already has a run"):
        run(world, tmp_path)
    second = run(world, tmp_path, rerun=True)
    assert second.run.supersedes_id == first.run.id
    statuses = dict(world.exec(select(PlanRun.id, PlanRun.status)).all())
    assert statuses == {first.run.id: RunStatus.SUPERSEDED, second.run.id: RunStatus.DRAFT}

    approved = approve_run(
        session=world,
        batch_id="2026-W49",
        user="物资部主任",
        now=BEFORE_CUTOFF,
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path)),
    )
    assert (approved.id, approved.status, approved.approved_by) == (
        second.run.id,
        "approved",
        "物资部主任",
    )
    with pytest.raises(Conflict, match="approved"):
        run(world, tmp_path, rerun=True)
    with pytest.raises(Conflict, match="already approved"):
        approve_run(
            session=world,
            batch_id="2026-W49",
            user="x",
            now=BEFORE_CUTOFF,
            calendar=CALENDAR,
            policy=POLICY,
            settings=settings_for(world, str(tmp_path)),
        )


def test_approval_holds_the_stock_and_next_week_plans_only_what_is_left(
    world: Session, tmp_path: Path
) -> None:
    run(world, tmp_path)
    approve_run(
        session=world,
        batch_id="2026-W49",
        user="主任",
        now=BEFORE_CUTOFF,
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path)),
    )
    world.expire_all()
    holds = sorted(
        (h.stock_kind, h.warehouse_id, h.material_code, h.quantity)
        for h in world.exec(select(Hold))
    )
    assert holds == [
        (StockKind.CONSIGNMENT, "WH-WD", "MTR-1P", 5),
        (StockKind.RESERVE, "WH-WD", "DT-400", 1),
        (StockKind.RESERVE, "WH-WD", "DT-400", 1),
    ]
    assert {line.status for line in world.exec(select(DemandLine))} == {DemandStatus.HELD}

    add_project(
        world,
        "P-NEXT",
        kind="area_new",
        approved=date(2026, 12, 1),
        location="wendeng",
        lines=[("DT-400", 1)],
        submitted=datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI),
    )
    nxt = run(
        world,
        tmp_path,
        at=datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI),
        replenishment_working_days=5,
    )
    lines = saved_lines(world, nxt.run.id)
    assert {line[0] for line in lines} == {"P-NEXT"}  # held lines are not planned again
    # The wendeng reserve is held in full and its refill (ordered last week) is still on its way:
    # no second replenishment. The new transformer (need-by 12-15) comes from the agreement line:
    # matched 12-09, 20 days, a day to wendeng = 12-30, 15 days late — emergency is later still.
    assert lines == {("P-NEXT", "DT-400", "agreement", "WH-CENTRAL", 1, 15)}
    assert nxt.run.replenishment_lines == 0


def test_approval_is_refused_when_stock_changed_since_the_run(
    world: Session, tmp_path: Path
) -> None:
    run(world, tmp_path)
    line = world.exec(select(DemandLine).where(DemandLine.project_id == "P-LV")).one()
    # An urgent request took the wendeng transformers meanwhile (a hold for another line).
    world.add(
        Hold(
            demand_line_id=line.id or 0,
            stock_kind=StockKind.RESERVE,
            warehouse_id="WH-WD",
            material_code="DT-400",
            quantity=2,
            created_at=BEFORE_CUTOFF,
            created_by="项目经理",
        )
    )
    world.flush()
    refresh_statuses(world, [line.id or 0])  # as the request service keeps it
    world.commit()
    with pytest.raises(Conflict, match="re-run"):
        approve_run(
            session=world,
            batch_id="2026-W49",
            user="主任",
            now=BEFORE_CUTOFF,
            calendar=CALENDAR,
            policy=POLICY,
            settings=settings_for(world, str(tmp_path)),
        )
    world.rollback()
    assert world.exec(select(PlanRun)).one().status == RunStatus.DRAFT
    assert len(list(world.exec(select(Hold)))) == 1  # nothing of the plan was held


MATCH_HEADER = ["物料编码", "交货仓库", "协议编号", "行号", "供应商", "数量", "预计到货日期"]


def test_province_matching_updates_ordered_quantity_and_arrivals(
    world: Session, tmp_path: Path
) -> None:
    run(world, tmp_path)
    approve_run(
        session=world,
        batch_id="2026-W49",
        user="主任",
        now=BEFORE_CUTOFF,
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings_for(world, str(tmp_path)),
    )
    bad = xlsx_bytes(
        [
            MATCH_HEADER,
            ["DT-400", "WH-CENTRAL", "SD-2026-01", 1, "特变电工", 3, "2026-12-20"],
            ["DT-400", "WH-CENTRAL", "SD-2026-01", 9, "", 1, "2026-12-20"],
        ]
    )
    with pytest.raises(ImportRejected) as rejected:
        import_province_match(
            session=world,
            batch_id="2026-W49",
            content=bad,
            file_name="m.xlsx",
            user="省公司",
            now=BEFORE_CUTOFF,
        )
    texts = [p.text for p in rejected.value.problems]
    assert any("第 3 行 协议编号" in t and "SD-2026-01/9" in t for t in texts)
    assert any("3 matched, more than the 2 required" in t for t in texts)
    world.rollback()
    assert (
        world.exec(select(AgreementLine).where(AgreementLine.line_no == 1)).one().ordered_quantity
        == 0
    )

    good = xlsx_bytes(
        [MATCH_HEADER, ["DT-400", "WH-CENTRAL", "SD-2026-01", 1, "特变电工", 2, "2026-12-20"]]
    )
    result = import_province_match(
        session=world,
        batch_id="2026-W49",
        content=good,
        file_name="m.xlsx",
        user="省公司",
        now=BEFORE_CUTOFF,
    )
    assert (result.rows, result.agreement_lines, result.plan_lines) == (1, 1, 1)
    world.expire_all()
    assert (
        world.exec(select(AgreementLine).where(AgreementLine.line_no == 1)).one().ordered_quantity
        == 2
    )
    refill = world.exec(
        select(PlanLine).where(col(PlanLine.replenish_warehouse_id).is_not(None))
    ).one()
    # Planned at central on 12-22 (matching 12-02 + 20 days), now 12-20: wendeng a day later.
    assert refill.arrival == date(2026, 12, 21)
    with pytest.raises(Conflict, match="already imported"):
        import_province_match(
            session=world,
            batch_id="2026-W49",
            content=good,
            file_name="m.xlsx",
            user="省公司",
            now=BEFORE_CUTOFF,
        )
    # Both attempts are on record: the rejected one with its problems, the accepted one after.
    records = world.exec(
        select(ImportRecord)
        .where(ImportRecord.kind == ImportKind.PROVINCE_MATCH)
        .order_by(col(ImportRecord.id))
    ).all()
    assert [(r.status, r.imported_by, r.rows) for r in records] == [
        ("rejected", "省公司", 2),
        ("accepted", "省公司", 1),
    ]
    assert records[0].problems == len(texts) and "SD-2026-01/9" in records[0].first_problems
    assert records[1].note.startswith("批次 batch 2026-W49")


def test_a_run_whose_exports_fail_is_not_saved_and_leaves_no_folder(
    world: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run is saved while its exports are written: it is committed only if they are.
    def broken(directory: Path, *args: object, **kwargs: object) -> dict[str, Path]:
        (directory / "half-written.xlsx").write_bytes(b"PK")
        raise OSError("disk full")

    monkeypatch.setattr("supply.weekly.run.write_exports", broken)
    with pytest.raises(OSError, match="disk full"):
        run(world, tmp_path)
    assert world.exec(select(PlanRun)).all() == []
    assert list((tmp_path / "runs").rglob("*")) in ([], [tmp_path / "runs" / "2026-W49"])
    assert gc.isenabled()  # the collector paused during the run works again
    monkeypatch.undo()
    assert run(world, tmp_path).run.batch_id == "2026-W49"  # nothing was left locked


def test_a_run_saved_meanwhile_by_another_is_a_conflict_and_leaves_no_folder(
    world: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(world, tmp_path)
    # Another re-run of the batch saved while this one was solving: it supersedes a draft that
    # is no longer the live one, and is refused (the save fails on its thread, said here).
    monkeypatch.setattr("supply.weekly.save.live_run", lambda session, batch: None)
    with pytest.raises(Conflict):
        run(world, tmp_path, rerun=True)
    assert [r.id for r in world.exec(select(PlanRun))] == [first.run.id]
    assert [p.name for p in (tmp_path / "runs" / "2026-W49").iterdir()] == [first.run_dir.name]
