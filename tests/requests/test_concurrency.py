"""The invariant ERPs break, through a real server: 50 simultaneous requests at scarce stock.

`gridsupply serve --workers 2` runs two server processes on 127.0.0.1 (so no lock in Python
memory could help), on SQLite and on PostgreSQL. Afterwards the database itself is checked: for every stock row on-hand
≥ 0 and Σ held ≤ on-hand; every agreement line within its band; every request answered exactly
once (duplicates with the same Idempotency-Key get the first answer), whole, and audited
(`tests/requests/invariants.py`, which a backup restored after a burst is checked against too).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogs.models import AgreementLine
from supply.holds.models import Hold, Promise
from supply.requests.models import SupplyRequest
from tests.requests.conftest import FRIDAY, new_project
from tests.requests.invariants import (
    assert_audited,
    assert_nothing_dangles,
    assert_stock_within_bounds,
)
from tests.signin import EVERY_ROLE, bearer, make_user

DISTINCT = 40
REPEATS = 10  # sent again, concurrently, with the same key and body


def _bodies() -> list[tuple[str, dict[str, Any]]]:
    """40 projects, each wanting a transformer (2 in stock) and meters (50 + 10 consignment)."""
    bodies = [
        (f"key-{i}", new_project(f"C-{i:02d}", [("DT-400", 1), ("MTR-1P", 3), ("CB10-300", 200)]))
        for i in range(DISTINCT)
    ]
    return bodies + bodies[:REPEATS]


@pytest.mark.slow
def test_fifty_simultaneous_requests_never_hand_out_the_same_stock_twice(
    server: str, engine: Engine
) -> None:
    work = _bodies()
    start = threading.Barrier(len(work))
    make_user(engine, "pm", EVERY_ROLE, now=FRIDAY)
    auth = bearer("pm", now=FRIDAY)

    def send(item: tuple[str, dict[str, Any]]) -> httpx.Response:
        key, body = item
        with httpx.Client(base_url=server, timeout=120) as client:
            start.wait()
            return client.post(
                "/api/v1/requests", json=body, headers={"Idempotency-Key": key, **auth}
            )

    with ThreadPoolExecutor(len(work)) as pool:
        responses = list(pool.map(send, work))

    assert [r.status_code for r in responses if r.status_code not in (200, 201)] == [], [
        r.text for r in responses if r.status_code not in (200, 201)
    ]
    by_key: dict[str, set[int]] = defaultdict(set)
    for (key, _), response in zip(work, responses, strict=True):
        by_key[key].add(response.json()["request_id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # a repeat gets the first answer
    assert len({next(iter(ids)) for ids in by_key.values()}) == DISTINCT
    assert Counter(r.status_code for r in responses)[201] == DISTINCT

    with Session(engine) as session:
        assert len(session.exec(select(SupplyRequest)).all()) == DISTINCT  # none lost, none twice
        assert_stock_within_bounds(session)
        assert_nothing_dangles(session)
        assert_audited(session)
        holds = session.exec(select(Hold).where(Hold.status == "held")).all()
        promised: dict[int, int] = defaultdict(int)
        for p in session.exec(select(Promise).where(Promise.status == "promised")):
            if p.agreement_line_id is not None:
                promised[p.agreement_line_id] += p.quantity
        # The last transformers: exactly two requests hold one each; everyone else was promised.
        transformer = [h for h in holds if h.material_code == "DT-400"]
        assert sorted(h.quantity for h in transformer) == [1, 1]
        assert len({h.request_id for h in transformer}) == 2
        # Scarce cable: the agreement line was shared out up to its band, never beyond it.
        cable = session.exec(select(AgreementLine).where(AgreementLine.line_no == 2)).one()
        assert promised[cable.id or 0] == 6000  # 5,000 estimated × 120 %
