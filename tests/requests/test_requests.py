"""Urgent requests on the database: the answer, the holds, R6, idempotency, the weekly plan."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from catalogs.models import AgreementLine
from supply.availability import load_supply
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.holds.models import Hold, HoldEvent, Promise
from supply.requests.models import SupplyRequest
from supply.requests.service import cancel_request, get_request
from supply.weekly.approval import approve_run
from supply.weekly.run import run_weekly
from tests.requests.conftest import FRIDAY, Ask, new_project
from tests.weekly.world import CALENDAR, POLICY, add_project


def _holds(engine: Engine) -> list[Hold]:
    with Session(engine) as session:
        return list(session.exec(select(Hold).order_by(col(Hold.id))))


def test_an_urgent_line_gets_reserve_held_with_its_dates(ask: Ask, engine: Engine) -> None:
    answer = ask(new_project("U-1", [("DT-400", 1)]))
    (line,) = answer.lines
    assert answer.project_created and answer.batch_id == "2026-W49"
    assert answer.province_match_on == date(2026, 12, 2)
    # area_capacity_increase approved 11-27: deadline 12-09, need-by 12-04 (3 install days).
    assert (line.need_by, line.deadline) == (date(2026, 12, 4), date(2026, 12, 9))
    (part,) = line.allocations
    assert part.kind == "reserve" and part.state == "held" and part.warehouse_id == "WH-WD"
    assert part.arrival == FRIDAY.date()  # on hand at the project's own store today
    assert line.outcome == "held" and line.on_time and line.meets_deadline
    assert part.expires_on == CALENDAR.add_working_days(FRIDAY.date(), 10)
    (hold,) = _holds(engine)
    assert (hold.id, hold.quantity, hold.status, hold.request_id) == (
        part.hold_id,
        1,
        "held",
        answer.request_id,
    )
    with Session(engine) as session:
        stored = session.get(DemandLine, line.demand_line_id)
        assert stored is not None and stored.status == "held"
        events = session.exec(select(HoldEvent).where(HoldEvent.hold_id == hold.id)).all()
        assert [(e.event, e.by) for e in events] == [("held", "张经理")]
        # Held stock is no longer available to anyone else.
        supply = load_supply(
            session=session,
            today=FRIDAY.date(),
            order_day=date(2026, 12, 2),
            central_warehouse="WH-CENTRAL",
        )
        reserve = {(r.warehouse_id, r.material): r for r in supply.reserve}
        assert reserve["WH-WD", "DT-400"].available == 1


def test_the_last_transformer_goes_to_one_request_only(ask: Ask, engine: Engine) -> None:
    first = ask(new_project("U-1", [("DT-400", 2)]))
    second = ask(new_project("U-2", [("DT-400", 1)]))
    assert first.lines[0].outcome == "held"
    (line,) = second.lines
    assert line.outcome == "promised" and not line.on_time and not line.meets_deadline
    assert all(p.kind in ("agreement", "emergency") for p in line.allocations)
    assert line.reason and line.earliest_possible == line.arrival
    assert line.late_days == (line.arrival - line.need_by).days  # type: ignore[operator]
    assert sum(h.quantity for h in _holds(engine)) == 2
    with Session(engine) as session:
        (promise,) = session.exec(select(Promise)).all()
        assert promise.demand_line_id == line.demand_line_id and promise.batch_id == "2026-W49"


def test_r6_an_agreement_in_time_beats_reserve_below_quota(ask: Ask, engine: Engine) -> None:
    # The agreement line for the transformer is dearer than reserve (46,000 vs 45,000) and, with
    # a 5-day lead, arrives 12-08 at central (12-09 at wendeng) — in time for an mv_10kv project
    # (need-by 12-16). Reserve sits at its quota (2 of 2): the agreement must serve.
    with Session(engine) as session:
        line = session.exec(select(AgreementLine).where(AgreementLine.line_no == 1)).one()
        line.lead_days, line.unit_price = 5, line.unit_price + 4000
        session.add(line)
        session.commit()
    answer = ask(new_project("U-MV", [("DT-400", 1)], kind="mv_10kv"))
    (line_answer,) = answer.lines
    (part,) = line_answer.allocations
    assert part.kind == "agreement" and part.agreement_no == "SD-2026-01"
    assert part.agreement_line_no == 1 and part.arrival == date(2026, 12, 8)
    assert line_answer.on_time and _holds(engine) == []
    # An urgent project (need-by 12-04) still gets the reserve: being on time comes first.
    urgent = ask(new_project("U-CAP", [("DT-400", 1)]))
    assert urgent.lines[0].allocations[0].kind == "reserve"


def test_an_approved_weekly_plan_keeps_its_reserve(
    ask: Ask, engine: Engine, world: Settings, tmp_path: Path
) -> None:
    with Session(engine) as session:
        add_project(
            session,
            "W-1",
            kind="area_capacity_increase",
            approved=date(2026, 11, 26),
            location="wendeng",
            lines=[("DT-400", 2)],
        )
    at = FRIDAY + timedelta(days=3, hours=1)  # Monday 11:00, before the cutoff
    run_weekly(
        engine=engine,
        at=at,
        now=at,
        user="计划员",
        calendar=CALENDAR,
        policy=POLICY,
        settings=world,
    )
    with Session(engine) as session:
        approve_run(
            session=session,
            batch_id="2026-W49",
            user="物资部",
            now=at,
            calendar=CALENDAR,
            policy=POLICY,
            settings=world,
        )
    answer = ask(new_project("U-1", [("DT-400", 1)]), now=at)
    assert all(p.kind != "reserve" for p in answer.lines[0].allocations)
    holds = _holds(engine)
    assert {h.plan_run_id is not None for h in holds} == {True}
    with Session(engine) as session:  # approval holds the same way: each with its event
        events = session.exec(select(HoldEvent)).all()
        assert sorted((e.hold_id, e.event, e.by) for e in events) == sorted(
            (h.id, "held", "物资部") for h in holds
        )


def test_other_open_demand_is_weighed_but_not_held(ask: Ask, engine: Engine) -> None:
    # A provincial key project already asked for both transformers (open, not yet planned) with
    # an earlier need-by; an urgent normal project asking now does not take them from it.
    with Session(engine) as session:
        add_project(
            session,
            "K-1",
            kind="lv_extension",
            approved=date(2026, 11, 26),
            location="wendeng",
            lines=[("DT-400", 2)],
            priority="provincial_key",
        )
    answer = ask(new_project("U-1", [("DT-400", 1)]))
    (line,) = answer.lines
    assert line.allocations[0].kind != "reserve" and not line.on_time
    assert "K-1" in (line.reason or "")
    assert _holds(engine) == []  # K-1's share is weighed, not held


def test_the_same_key_gets_the_same_answer_and_one_set_of_holds(ask: Ask, engine: Engine) -> None:
    body = new_project("U-1", [("DT-400", 1), ("MTR-1P", 30)])
    first = ask(body, key="abc-1")
    again = ask(body, key="abc-1")
    assert again.replayed and not first.replayed
    assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SupplyRequest)).one() == 1
    assert len(_holds(engine)) == sum(len(line.allocations) for line in first.lines)
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        ask(new_project("U-1", [("DT-400", 2)]), key="abc-1")


def test_an_existing_project_asks_for_its_outstanding_lines(ask: Ask, engine: Engine) -> None:
    with Session(engine) as session:
        add_project(
            session,
            "E-1",
            kind="lv_extension",
            approved=date(2026, 11, 27),
            location="wendeng",
            voltage="0.4kV",
            lines=[("MTR-1P", 15), ("MTR-1P", 5)],
        )
    answer = ask({"project_id": "E-1"})
    assert [(a.line_no, a.quantity) for a in answer.lines] == [(1, 15), (2, 5)]
    assert all(a.outcome == "held" and a.on_time for a in answer.lines)
    # Consignment at the project's own store (wendeng, 10 at 190) is held before central reserve.
    kinds = {p.kind: p.quantity for a in answer.lines for p in a.allocations}
    assert kinds.get("consignment") == 10
    with pytest.raises(InvalidInput, match="no outstanding"):
        ask({"project_id": "E-1"})
    with pytest.raises(NotFound):
        ask({"project_id": "NOPE"})


def test_bad_requests_change_nothing(ask: Ask, engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        ask(new_project("U-1", [("NO-SUCH", 1)]))
    ask(new_project("U-2", [("DT-400", 1)]))
    with pytest.raises(Conflict):
        ask(new_project("U-2", [("DT-400", 1)]))  # the project exists now
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SupplyRequest)).one() == 1
        assert session.exec(select(func.count()).select_from(DemandLine)).one() == 1
    assert len(_holds(engine)) == 1


def test_cancel_releases_holds_and_cancels_promises(ask: Ask, engine: Engine) -> None:
    answer = ask(new_project("U-1", [("DT-400", 3)]))  # 2 held, 1 promised
    states = sorted(p.state for p in answer.lines[0].allocations)
    assert states == ["held", "promised"]
    cancel_request(
        engine=engine, request_id=answer.request_id, reason="客户撤销", now=FRIDAY, user="张经理"
    )
    assert {h.status for h in _holds(engine)} == {"released"}
    with Session(engine) as session:
        assert {p.status for p in session.exec(select(Promise))} == {"cancelled"}
        line = session.get(DemandLine, answer.lines[0].demand_line_id)
        assert line is not None and line.status == "open"
        assert get_request(session=session, request_id=answer.request_id) == answer
    with pytest.raises(Conflict):
        cancel_request(
            engine=engine, request_id=answer.request_id, reason="", now=FRIDAY, user="张经理"
        )
    again = ask(new_project("U-2", [("DT-400", 2)]))  # the stock is free again
    assert again.lines[0].outcome == "held"


def test_agreement_promises_reduce_what_the_line_can_still_serve(ask: Ask, engine: Engine) -> None:
    def left() -> int:
        with Session(engine) as session:
            supply = load_supply(
                session=session,
                today=FRIDAY.date(),
                order_day=date(2026, 12, 2),
                central_warehouse="WH-CENTRAL",
            )
        return next(a.available for a in supply.agreements if a.material == "CB10-300")

    before = left()
    answer = ask(new_project("U-C", [("CB10-300", 800)], kind="mv_10kv"))
    promised = sum(p.quantity for p in answer.lines[0].allocations if p.kind == "agreement")
    assert promised == 800 and left() == before - 800


def _package(engine: Engine, budget: int) -> None:
    from supply.packages.models import PackageCreate
    from supply.packages.service import create_package

    with Session(engine) as session:
        create_package(
            session=session,
            package=PackageCreate(id="PK-1", name="业扩配套包", year=2026, budget=Decimal(budget)),
            now=FRIDAY,
            user="test",
        )


def test_a_request_over_its_package_relies_on_reserve_and_is_filed(
    ask: Ask, engine: Engine
) -> None:
    # As in the R6 test the agreement line (46,000, in time) would serve an mv_10kv project; but
    # its package has 10,000 left, so the request tips it over: it relies on reserve (R7).
    with Session(engine) as session:
        line = session.exec(select(AgreementLine).where(AgreementLine.line_no == 1)).one()
        line.lead_days, line.unit_price = 5, line.unit_price + 4000
        session.add(line)
        session.commit()
    _package(engine, 10_000)
    answer = ask(new_project("U-MV", [("DT-400", 1)], kind="mv_10kv", package_id="PK-1"))
    (warning,) = answer.budget_warnings
    assert warning.package_id == "PK-1" and warning.budget == Decimal(10_000)
    assert warning.forecast_after == Decimal(45_000)  # at reserve's standard price, after moving
    assert warning.overrun == Decimal(35_000)
    assert [p.project_id for p in warning.projects] == ["U-MV"]
    (part,) = answer.lines[0].allocations
    assert part.kind == "reserve" and part.state == "held" and answer.relied_on_reserve == 1
    assert "R7" in (answer.lines[0].note or "") and answer.lines[0].on_time
    (filing,) = answer.filings
    assert (filing.project_id, filing.due_on) == ("U-MV", date(2026, 12, 1))  # Fri + 2 WD


def test_a_request_within_its_package_gets_no_warning(ask: Ask, engine: Engine) -> None:
    _package(engine, 1_000_000)
    answer = ask(new_project("U-1", [("DT-400", 1)], package_id="PK-1"))
    assert answer.budget_warnings == [] and answer.filings == [] and answer.relied_on_reserve == 0


def test_promised_agreement_supply_goes_to_the_province_with_the_batch(
    ask: Ask, engine: Engine, world: Settings
) -> None:
    from openpyxl import load_workbook

    answer = ask(new_project("U-C", [("CB10-300", 800)], kind="mv_10kv"))
    assert answer.lines[0].allocations[0].kind == "agreement"
    at = FRIDAY + timedelta(days=3, hours=1)  # Monday 11:00, batch 2026-W49
    outcome = run_weekly(
        engine=engine, at=at, now=at, user="计划员", calendar=CALENDAR, policy=POLICY,
        settings=world,
    )  # fmt: skip
    book = load_workbook(outcome.exports["agreement_requirements"], read_only=True)
    cells = [
        [str(c) for c in row]
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]
    behind = [row for row in cells if "U-C" in row]
    assert behind and any("800" in row for row in behind)
    # It is not a line of this run's plan: the per-package summary leaves it out.
    packages = load_workbook(outcome.exports["packages"], read_only=True)
    assert not any(
        "U-C" in str(cell)
        for sheet in packages.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    )
    # The run itself does not plan the line again: the promise covers it.
    assert all(not a.demand.startswith("U-C/") for a in outcome.plan.allocations)
    with Session(engine) as session:
        line = session.get(DemandLine, answer.lines[0].demand_line_id)
        assert line is not None and line.status == "planned"
