"""A line the planner refuses (supply.limits) is refused the same way everywhere: in an urgent
request's answer (`over_limit`, its reason and nothing else), in the competing demand a request
is weighed against (it takes no one's stock), and in its package's pending cost — on SQLite and
PostgreSQL, through the real service.

In the small world MTR-1P (meters, 200 yuan, emergency 240) has 50 in central reserve (quota 20)
and 10 in vendor consignment at wendeng; DT-400 (a transformer, 45,000) is a catalog material.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogs.models import AgreementLine
from supply.core.money import MAX_EMERGENCY_PRICE
from supply.core.settings import Settings
from supply.core.units import MAX_QUANTITY
from supply.demand.models import DemandLine
from supply.demand.queries import open_demand
from supply.emergency import SWITCHED_OFF_EN, SWITCHED_OFF_ZH
from supply.limits import dearest_prices, largest_quantity, screen
from supply.packages.budget import package_figures
from supply.projects.models import Project
from supply.requests.models import SupplyRequestIn
from supply.requests.service import submit_request
from supply.weekly.models import PlanLine
from supply.weekly.run import run_weekly
from tests.packages.world import add_package
from tests.requests.conftest import FRIDAY, Ask, new_project
from tests.weekly.world import BEFORE_CUTOFF, CALENDAR, POLICY, add_project

PAST = 20_000_000_000  # meters: a line stored before the limits (the review's YK26-GQ-003/7)


def test_a_line_the_planner_refuses_takes_no_stock_from_a_request(
    ask: Ask, engine: Engine, world: Settings
) -> None:
    # A city-key project due earlier with 20 billion meters open: were it weighed, it would
    # take all 60 meters of reserve and consignment first, and the request would be told the
    # stock "was used up by P-BIG/1" and buy its meters in an emergency, 10 days late.
    with Session(engine) as session:
        add_project(session, "P-BIG", kind="lv_extension", approved=date(2026, 11, 20),
                    location="wendeng", voltage="0.4kV", priority="city_key",
                    lines=[("MTR-1P", PAST)])  # fmt: skip
    answer = ask(new_project("U-1", [("MTR-1P", 5)], kind="lv_extension"))
    [line] = answer.lines
    assert line.outcome == "held" and line.on_time, line
    assert {p.kind for p in line.allocations} <= {"reserve", "consignment"}
    assert line.reason is None
    # The weekly run refuses the same line, by the same rule.
    outcome = run_weekly(engine=engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部",
                         calendar=CALENDAR, policy=POLICY, settings=world)  # fmt: skip
    assert outcome.run.kpis["totals"]["refused_lines"] == 1


def test_an_over_limit_line_says_so_and_nothing_else_with_emergency_switched_off(
    engine: Engine, world: Settings
) -> None:
    # Emergency procurement of catalog materials switched off: a refused line never reached
    # the engine, so "emergency switched off" is not its reason (it was, beside over_limit).
    off = world.model_copy(update={"emergency_for_catalog_materials": False})
    body = new_project("U-2", [("DT-400", MAX_QUANTITY), ("DT-400", 1)], kind="mv_10kv")
    answer = submit_request(engine=engine, body=SupplyRequestIn.model_validate(body),
                            idempotency_key=None, now=FRIDAY, user="张经理", calendar=CALENDAR,
                            policy=POLICY, settings=off)  # fmt: skip
    big, small = answer.lines
    assert (big.outcome, big.cause) == ("unmet", "over_limit") and big.reason is not None
    assert SWITCHED_OFF_EN not in big.reason and SWITCHED_OFF_ZH not in (big.reason_zh or "")
    assert big.reason.startswith("需求行 U-2/1 按最贵来源") and big.reason.endswith(
        "correct or split the line, then plan again"
    )
    assert small.outcome == "held"


def test_the_budget_leaves_out_exactly_the_lines_planning_refuses(
    engine: Engine, world: Settings
) -> None:
    # DT-400's dearest price is its emergency price, 45,000 × 1.3 = 58,500: the largest line
    # planning takes is 170,940 (× 58,500 = 9,999,990,000), one more reaches 10 billion. The
    # line is priced for the budget at the standard price, 45,000 — below 10 billion either
    # way, so the budget used to count it while planning refused it.
    with Session(engine) as session:
        dearest = dearest_prices(session, {"DT-400"})
        largest = largest_quantity(dearest["DT-400"])
        assert (dearest["DT-400"].cost, largest) == (Decimal(58500), 170_940)
        add_package(session, "PK-1", "1000000")
        for project_id, quantity in (("P-IN", largest), ("P-OUT", largest + 1)):
            add_project(session, project_id, kind="mv_10kv", approved=date(2026, 11, 20),
                        location="wendeng", lines=[("DT-400", quantity)])  # fmt: skip
            project = session.get(Project, project_id)
            assert project is not None
            project.package_id = "PK-1"
            session.add(project)
        session.commit()
        [figures] = package_figures(session=session, package_ids=["PK-1"])
        pending = {p.project_id: p.pending for p in figures.projects}
        assert pending == {"P-IN": Decimal(45000) * largest, "P-OUT": Decimal(0)}
        lines = open_demand(session, cutoff=BEFORE_CUTOFF, materials={"DT-400"})
        kept, refused = screen(lines, dearest)
        assert {i.project_id for i in kept} >= {"P-IN"}
        assert [r.item.project_id for r in refused] == ["P-OUT"]
        stored = session.exec(select(DemandLine).where(DemandLine.project_id == "P-OUT")).one()
        assert stored.quantity == largest + 1


def _too_dear_to_plan_exactly(engine: Engine, lines: int) -> None:
    """An agreement line of DT-400 priced, before the limits, just below the dearest price an
    import can make, with six decimals (scaled by 10**6 in the engine), and a project with
    `lines` open lines of one transformer each: every line is within the limits on its own
    (1.1 billion each), but their network is past the engine's exact range."""
    with Session(engine) as session:
        agreement = session.exec(
            select(AgreementLine).where(AgreementLine.material_code == "DT-400")
        ).one()
        agreement.unit_price = MAX_EMERGENCY_PRICE - Decimal("0.000001")
        session.add(agreement)
        session.commit()
        add_project(session, "P-MANY", kind="mv_10kv", approved=date(2026, 11, 20),
                    location="wendeng", lines=[("DT-400", 1)] * lines)  # fmt: skip
        add_project(session, "P-METER", kind="lv_extension", approved=date(2026, 11, 20),
                    location="wendeng", voltage="0.4kV", lines=[("MTR-1P", 3)])  # fmt: skip


def test_a_material_the_engine_cannot_plan_exactly_is_refused_and_the_rest_planned(
    engine: Engine, world: Settings
) -> None:
    # 3,800 lines: the old check (copied constants, 2**62) let this network through and the flow
    # engine refused it (BAD_COST_RANGE): the week failed with a 500.
    _too_dear_to_plan_exactly(engine, 3800)
    outcome = run_weekly(engine=engine, at=BEFORE_CUTOFF, now=BEFORE_CUTOFF, user="物资部",
                         calendar=CALENDAR, policy=POLICY, settings=world)  # fmt: skip
    kpis = outcome.run.kpis["totals"]
    assert (kpis["refused_lines"], kpis["lines"], kpis["unmet_lines"]) == (3800, 1, 0)
    with Session(engine) as session:
        unmet = session.exec(
            select(PlanLine).where(PlanLine.run_id == outcome.run.id, PlanLine.kind == "unmet")
        ).all()
    assert len(unmet) == 3800 and {line.cause for line in unmet} == {"over_limit"}
    assert "material DT-400 cannot be planned exactly: A:SD-2026-01/1 unit_cost" in unmet[0].reason
    # An urgent request for the project's open lines is answered the same way, never a 500.
    answer = submit_request(
        engine=engine, body=SupplyRequestIn.model_validate({"project_id": "P-MANY"}),
        idempotency_key=None, now=FRIDAY, user="张经理", calendar=CALENDAR, policy=POLICY,
        settings=world,
    )  # fmt: skip
    assert {(line.outcome, line.cause) for line in answer.lines} == {("unmet", "over_limit")}
    assert "cannot be planned exactly" in (answer.lines[0].reason or "")
