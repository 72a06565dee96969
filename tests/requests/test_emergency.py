"""Emergency procurement labelled for what it is, and the setting that keeps it to listed materials.

In the small world the transformer DT-400 is a catalog material (reserve at wendeng, one
agreement line of 10 × 120 %); SPECIAL-1 is in no catalog and must be listed at the feasibility
stage. Twenty transformers are more than reserve and the agreement line hold.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogs.importing import import_catalog
from catalogs.models import CatalogKind
from supply.core.settings import Settings
from supply.emergency import SWITCHED_OFF_EN, SWITCHED_OFF_ZH
from supply.holds.models import Promise
from supply.weekly.models import PlanLine
from supply.weekly.run import run_weekly
from tests.conftest import csv_bytes
from tests.requests.conftest import Ask, new_project
from tests.weekly.world import BEFORE_CUTOFF, CALENDAR, LOADED, POLICY, add_project

SPECIAL = [
    ["物料编码", "物料名称", "计量单位", "电压等级", "标准单价", "储备目录",
     "紧急采购周期(天)", "紧急采购溢价(%)"],
    ["SPECIAL-1", "特殊定制开关柜", "台", "10kV", 90000, "否", 40, 30],
]  # fmt: skip


def add_special(engine: Engine) -> None:
    with Session(engine) as session:
        import_catalog(
            session=session,
            kind=CatalogKind.MATERIALS,
            content=csv_bytes(SPECIAL),
            file_name="special.csv",
            imported_by="tester",
            now=LOADED,
        )


def test_a_request_says_why_each_line_is_bought_in_an_emergency(ask: Ask, engine: Engine) -> None:
    add_special(engine)
    body = new_project("U-E", [("DT-400", 20), ("SPECIAL-1", 1)])
    body["lines"][1]["feasibility_listed"] = True
    answer = ask(body)
    transformer, special = answer.lines
    emergency = [p for p in transformer.allocations if p.kind == "emergency"]
    assert emergency and all(p.emergency_cause == "agreement_exhausted" for p in emergency)
    assert emergency[0].emergency_cause_zh == "协议库存已用完 (agreement_exhausted)"
    # Reserve and the whole agreement line went first; only the rest is bought.
    assert sum(p.quantity for p in transformer.allocations if p.kind != "emergency") == 2 + 12
    [part] = special.allocations
    assert (part.kind, part.emergency_cause) == ("emergency", "listed")
    assert all(p.emergency_cause is None for p in transformer.allocations if p.kind != "emergency")
    with Session(engine) as session:
        stored = session.exec(
            select(Promise.material_code, Promise.emergency_cause)
            .where(Promise.kind == "emergency")
            .order_by(col(Promise.id))
        ).all()
    assert sorted(set(stored)) == [("DT-400", "agreement_exhausted"), ("SPECIAL-1", "listed")]


def test_switched_off_catalog_materials_go_unmet_with_the_reason(
    ask: Ask, engine: Engine, world: Settings
) -> None:
    add_special(engine)
    body = new_project("U-F", [("DT-400", 20), ("SPECIAL-1", 1)])
    body["lines"][1]["feasibility_listed"] = True
    off = world.model_copy(update={"emergency_for_catalog_materials": False})
    from supply.requests.models import SupplyRequestIn
    from supply.requests.service import submit_request

    answer = submit_request(
        engine=engine,
        body=SupplyRequestIn.model_validate(body),
        idempotency_key=None,
        now=BEFORE_CUTOFF,
        user="张经理",
        calendar=CALENDAR,
        policy=POLICY,
        settings=off,
    )
    transformer, special = answer.lines
    assert transformer.outcome == "unmet" and transformer.unmet_quantity == 20 - 2 - 12
    assert all(p.kind != "emergency" for p in transformer.allocations)
    assert transformer.reason is not None and transformer.reason.endswith(SWITCHED_OFF_EN)
    assert transformer.reason_zh is not None and transformer.reason_zh.endswith(SWITCHED_OFF_ZH)
    # The listed material outside the catalogs still goes to emergency procurement (R1.4).
    assert [(p.kind, p.emergency_cause) for p in special.allocations] == [("emergency", "listed")]


def test_the_weekly_plan_marks_and_switches_emergency_lines(
    engine: Engine, world: Settings, tmp_path: Path
) -> None:
    add_special(engine)
    with Session(engine) as session:
        add_project(session, "P-E", kind="area_new", approved=date(2026, 11, 26),
                    location="huancui", lines=[("DT-400", 20)])  # fmt: skip
    on = run_weekly(engine=engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部",
                    calendar=CALENDAR, policy=POLICY, settings=world)  # fmt: skip
    off = run_weekly(
        engine=engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部", calendar=CALENDAR,
        policy=POLICY, rerun=True,
        settings=world.model_copy(update={"emergency_for_catalog_materials": False}),
    )  # fmt: skip
    with Session(engine) as session:

        def lines(run_id: int) -> list[PlanLine]:
            return list(session.exec(select(PlanLine).where(PlanLine.run_id == run_id)))

        bought = [line for line in lines(on.run.id) if line.kind == "emergency"]
        assert bought and {line.emergency_cause for line in bought} == {"agreement_exhausted"}
        assert all(line.demand_key == "P-E/1" for line in bought)
        after = lines(off.run.id)
        assert not [line for line in after if line.kind == "emergency"]
        [unmet] = [line for line in after if line.kind == "unmet" and line.demand_key == "P-E/1"]
        assert unmet.quantity == sum(line.quantity for line in bought)
        assert unmet.reason.endswith(SWITCHED_OFF_EN) and unmet.reason_zh.endswith(SWITCHED_OFF_ZH)
        assert unmet.cause == "used_up"
