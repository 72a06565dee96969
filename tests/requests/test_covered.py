"""Each demand line keeps its covered quantity beside its status (the competing-demand query
reads it instead of summing holds and promises); the migration that adds it fills it in."""

from __future__ import annotations

import contextlib
import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supply import commitments as commitments_module
from supply.commitments import commitments, refresh_statuses
from supply.core import migrate
from supply.core.errors import Conflict
from supply.core.settings import Settings
from supply.demand.models import DemandLine, DemandLineUpdate
from supply.demand.service import cancel_line, update_line
from supply.holds.models import Hold, StockKind
from supply.holds.service import NewHold, hold_stock, release_hold
from supply.projects.service import cancel_project
from supply.requests.service import cancel_request
from tests.requests.conftest import FRIDAY, Ask, new_project
from tests.weekly.world import add_project


def _stored(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(DemandLine.material_code, DemandLine.covered)).all()
    return dict(rows)


def _summed(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        found = commitments(session)
        lines = session.exec(select(DemandLine.id, DemandLine.material_code)).all()
    return {code: found[i].covered if i in found else 0 for i, code in lines}


def _hold_five(session: Session, line_id: int) -> None:
    """Hold 5 meters of central reserve for a line (as a weekly plan holds part of one)."""
    hold_stock(session, [NewHold(demand_line_id=line_id, stock_kind=StockKind.RESERVE,
                                 warehouse_id="WH-CENTRAL", material_code="MTR-1P", quantity=5,
                                 expires_on=date(2026, 12, 31))], now=FRIDAY, user="t")  # fmt: skip
    refresh_statuses(session, [line_id])
    session.commit()


def _seventy_meters(session: Session, project_id: str) -> int:
    """A project with one open line of 70 meters, 5 of them held; the line's id."""
    add_project(session, project_id, kind="lv_extension", approved=date(2026, 11, 27),
                location="wendeng", voltage="0.4kV", lines=[("MTR-1P", 70)])  # fmt: skip
    line_id = session.exec(select(DemandLine.id).where(DemandLine.project_id == project_id)).one()
    assert line_id is not None
    _hold_five(session, line_id)
    return line_id


def test_a_request_and_its_cancellation_keep_covered(ask: Ask, engine: Engine) -> None:
    # 2 transformers in reserve: 1 held; 60 meters to hold of 70 asked, the rest promised;
    # cable promised from the agreement.
    answer = ask(new_project("U-1", [("DT-400", 1), ("MTR-1P", 70), ("CB10-300", 200)]))
    assert _stored(engine) == _summed(engine) == {"DT-400": 1, "MTR-1P": 70, "CB10-300": 200}
    cancel_request(engine=engine, request_id=answer.request_id, reason="项目延期", now=FRIDAY,
                   user="张经理")  # fmt: skip
    assert _stored(engine) == _summed(engine) == {"DT-400": 0, "MTR-1P": 0, "CB10-300": 0}


def test_the_migration_fills_in_covered_from_holds_and_promises(
    ask: Ask, engine: Engine, db_url: str
) -> None:
    ask(new_project("U-1", [("DT-400", 1), ("MTR-1P", 70), ("CB10-300", 200)]))
    before = _stored(engine)
    migrate.downgrade(db_url, "0004")
    migrate.upgrade(db_url)
    assert _stored(engine) == before == _summed(engine)
    assert before == {"DT-400": 1, "MTR-1P": 70, "CB10-300": 200}


def test_two_releases_of_one_line_at_once_keep_covered(
    ask: Ask, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A line held twice (by its request, then by a second hold); both holds are released at the
    # same moment by two project managers. Each release sums what covers the line once it has it
    # locked, so the one that goes second sees the first's release: covered ends at 0. (Were the
    # sums read before the lock, both would read 15 and the last writer would store 5.)
    answer = ask(new_project("U-1", [("MTR-1P", 10)]))
    line_id = answer.lines[0].demand_line_id
    with Session(engine) as session:
        _hold_five(session, line_id)
        holds = session.exec(select(Hold.id).where(Hold.demand_line_id == line_id)).all()
    assert len(holds) == 2
    both_read = threading.Barrier(2, timeout=1)  # how long the first waits for the second
    summed = commitments_module.commitments

    def meet_after_reading(session: Session, *args: Any, **kwargs: Any) -> Any:
        found = summed(session, *args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return found

    monkeypatch.setattr(commitments_module, "commitments", meet_after_reading)
    errors: list[Exception] = []

    def release(hold_id: int) -> None:
        try:
            release_hold(engine=engine, hold_id=hold_id, reason="项目改期", now=FRIDAY,
                         user="张经理", today=FRIDAY.date())  # fmt: skip
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=release, args=(h,)) for h in holds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.undo()
    assert errors == []
    with Session(engine) as session:
        line = session.get(DemandLine, line_id)
        assert line is not None and (line.covered, line.status) == (0, "open")


def test_a_partly_held_line_keeps_its_material_and_cannot_be_cancelled(
    engine: Engine, world: Settings
) -> None:
    # An open line of 70 meters with 5 held for it (a weekly plan held part of it): it is still
    # open, but its material cannot change, its quantity cannot fall below 5, and neither it nor
    # its project can be cancelled until the hold is released. Raising the quantity is fine.
    with Session(engine) as session:
        line_id = _seventy_meters(session, "E-1")

        def change(**fields: Any) -> DemandLine:
            return update_line(session=session, project_id="E-1", line_no=1,
                               changes=DemandLineUpdate(**fields), now=FRIDAY, user="test")  # fmt: skip

        with pytest.raises(Conflict, match="its material cannot change") as refused:
            change(material_code="DT-400")
        assert refused.value.loc == ("material_code",)
        with pytest.raises(Conflict, match="cannot go below 5"):
            change(quantity=4)
        with pytest.raises(Conflict, match="5 held and 0 issued: release the hold"):
            cancel_line(session=session, project_id="E-1", line_no=1, now=FRIDAY, user="test")
        with pytest.raises(Conflict, match="release the holds"):
            cancel_project(session=session, project_id="E-1", now=FRIDAY, user="test")
        raised = change(quantity=80)
        assert (raised.quantity, raised.covered, raised.status) == (80, 5, "open")
        session.rollback()
    # Once the hold is gone, the line is free to change and to cancel.
    with Session(engine) as session:
        (hold_id,) = session.exec(select(Hold.id).where(Hold.demand_line_id == line_id)).all()
    release_hold(engine=engine, hold_id=hold_id or 0, reason="方案变更", now=FRIDAY, user="张经理",
                 today=FRIDAY.date())  # fmt: skip
    with Session(engine) as session:
        assert update_line(session=session, project_id="E-1", line_no=1,
                           changes=DemandLineUpdate(material_code="DT-400"),
                           now=FRIDAY, user="test").material_code == "DT-400"  # fmt: skip
        assert (
            cancel_line(
                session=session, project_id="E-1", line_no=1, now=FRIDAY, user="test"
            ).status
            == "cancelled"
        )


def test_lowering_a_covered_line_to_what_covers_it_updates_its_status(
    engine: Engine, world: Settings
) -> None:
    # 5 of 70 held; lowering the quantity to 5 is allowed (not below) and the line is then held.
    with Session(engine) as session:
        _seventy_meters(session, "E-2")
        line = update_line(session=session, project_id="E-2", line_no=1,
                           changes=DemandLineUpdate(quantity=5), now=FRIDAY, user="test")  # fmt: skip
        assert (line.quantity, line.covered, line.status) == (5, 5, "held")
