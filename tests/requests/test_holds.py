"""The life of a hold: issue (partial, consignment settlement), release, expiry, its events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogs.models import Consignment, ReserveStock
from supply.core.clock import SHANGHAI
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.demand.models import DemandLine
from supply.demand.service import cancel_line
from supply.holds.models import ConsignmentSettlement, Hold, HoldStatus
from supply.holds.service import expire_holds, hold_detail, issue_hold, list_holds, release_hold
from tests.requests.conftest import FRIDAY, Ask, new_project
from tests.weekly.world import CALENDAR

TODAY = FRIDAY.date()
EARLY = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday


def _on_hand(engine: Engine, warehouse: str, material: str) -> int:
    with Session(engine) as session:
        row = session.exec(
            select(ReserveStock).where(
                ReserveStock.warehouse_id == warehouse, ReserveStock.material_code == material
            )
        ).one()
        return row.quantity


def test_a_partial_issue_takes_stock_and_leaves_the_rest_held(ask: Ask, engine: Engine) -> None:
    answer = ask(new_project("U-1", [("DT-400", 2)]))
    hold_id = answer.lines[0].allocations[0].hold_id
    assert hold_id is not None
    issued = issue_hold(
        engine=engine, hold_id=hold_id, quantity=1, now=FRIDAY, user="库管员", today=TODAY
    )
    assert (issued.status, issued.quantity, issued.closed_by) == ("issued", 1, "库管员")
    assert [e.event for e in issued.events] == ["held", "issued"]
    assert _on_hand(engine, "WH-WD", "DT-400") == 1
    with Session(engine) as session:
        rest = session.exec(select(Hold).where(Hold.status == "held")).one()
        assert rest.quantity == 1 and rest.expires_on == answer.lines[0].allocations[0].expires_on
        line = session.get(DemandLine, answer.lines[0].demand_line_id)
        assert line is not None and line.status == "held"  # one issued, one still held
    assert rest.id is not None
    issue_hold(
        engine=engine, hold_id=rest.id, quantity=None, now=FRIDAY, user="库管员", today=TODAY
    )
    assert _on_hand(engine, "WH-WD", "DT-400") == 0
    with Session(engine) as session:
        line = session.get(DemandLine, answer.lines[0].demand_line_id)
        assert line is not None and line.status == "issued"
    with pytest.raises(Conflict, match="already issued"):
        issue_hold(engine=engine, hold_id=hold_id, quantity=None, now=FRIDAY, user="x", today=TODAY)


def test_issuing_consignment_settles_with_the_vendor(ask: Ask, engine: Engine) -> None:
    answer = ask(new_project("U-M", [("MTR-1P", 10)], kind="lv_extension", voltage_class="0.4kV"))
    (part,) = answer.lines[0].allocations
    assert part.kind == "consignment" and part.hold_id is not None
    detail = issue_hold(
        engine=engine, hold_id=part.hold_id, quantity=4, now=FRIDAY, user="库管员", today=TODAY
    )
    assert detail.settlement_amount == Decimal("760")  # 4 × 190
    with Session(engine) as session:
        row = session.exec(select(Consignment)).one()
        assert row.quantity == 6  # the vendor's stock fell by what passed to the company
        (settlement,) = session.exec(select(ConsignmentSettlement)).all()
        assert (settlement.supplier, settlement.project_id, settlement.quantity) == (
            "泰开电气",
            "U-M",
            4,
        )


def test_release_frees_the_stock_for_the_next_request(ask: Ask, engine: Engine) -> None:
    first = ask(new_project("U-1", [("DT-400", 2)]))
    hold_id = first.lines[0].allocations[0].hold_id
    assert hold_id is not None
    released = release_hold(
        engine=engine, hold_id=hold_id, reason="方案变更", now=FRIDAY, user="张经理", today=TODAY
    )
    assert released.status == "released" and released.events[-1].note == "方案变更"
    assert _on_hand(engine, "WH-WD", "DT-400") == 2  # nothing left the warehouse
    second = ask(new_project("U-2", [("DT-400", 2)]))
    assert second.lines[0].outcome == "held"
    with pytest.raises(Conflict):
        release_hold(engine=engine, hold_id=hold_id, reason="", now=FRIDAY, user="x", today=TODAY)
    with pytest.raises(NotFound), Session(engine) as session:
        hold_detail(session=session, hold_id=999)
    with pytest.raises(InvalidInput):
        issue_hold(
            engine=engine,
            hold_id=second.lines[0].allocations[0].hold_id or 0,
            quantity=3,
            now=FRIDAY,
            user="x",
            today=TODAY,
        )


def test_holds_expire_after_the_working_days_and_free_the_stock(ask: Ask, engine: Engine) -> None:
    answer = ask(new_project("U-1", [("DT-400", 2)], approved="2026-11-02"), now=EARLY)
    expires = answer.lines[0].allocations[0].expires_on
    assert expires == CALENDAR.add_working_days(EARLY.date(), 10) == date(2026, 11, 16)
    on_the_day = EARLY + timedelta(days=14)
    assert expire_holds(engine=engine, today=on_the_day.date(), now=on_the_day) == []
    day_after = on_the_day + timedelta(days=1)
    (released,) = expire_holds(engine=engine, today=day_after.date(), now=day_after)
    with Session(engine) as session:
        detail = hold_detail(session=session, hold_id=released)
        assert detail.status == "released" and detail.events[-1].event == "expired"
        assert detail.events[-1].by == "system"
        line = session.get(DemandLine, answer.lines[0].demand_line_id)
        assert line is not None and line.status == "open"
    with Session(engine) as session:  # U-1 no longer needs it
        cancel_line(session=session, project_id="U-1", line_no=1, now=FRIDAY, user="test")
    again = ask(new_project("U-2", [("DT-400", 2)], approved=str(day_after.date())), now=day_after)
    assert again.lines[0].outcome == "held"


def test_a_request_expires_due_holds_before_it_checks(ask: Ask, engine: Engine) -> None:
    ask(new_project("U-1", [("DT-400", 2)], approved="2026-11-02"), now=EARLY)
    later = EARLY + timedelta(days=20)
    # Nobody ran the expiry: the request releases what is due before it reads availability.
    answer = ask(new_project("U-2", [("DT-400", 1)], approved=str(later.date())), now=later)
    with Session(engine) as session:
        (old,) = list_holds(session=session, project_id="U-1").items
        assert old.status == "released" and old.closed_by == "system"
        assert hold_detail(session=session, hold_id=old.id).events[-1].event == "expired"
        held = list_holds(session=session, status=HoldStatus.HELD).items
        assert sum(h.quantity for h in held) <= 2
        assert {h.request_id for h in held} <= {answer.request_id}
