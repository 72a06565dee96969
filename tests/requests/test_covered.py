"""Each demand line keeps its covered quantity beside its status (the competing-demand query
reads it instead of summing holds and promises); the migration that adds it fills it in."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supply.commitments import commitments
from supply.core import migrate
from supply.demand.models import DemandLine
from supply.requests.service import cancel_request
from tests.requests.conftest import FRIDAY, Ask, new_project


def _stored(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(DemandLine.material_code, DemandLine.covered)).all()
    return dict(rows)


def _summed(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        found = commitments(session)
        lines = session.exec(select(DemandLine.id, DemandLine.material_code)).all()
    return {code: found[i].covered if i in found else 0 for i, code in lines}


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
