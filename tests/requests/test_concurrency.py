"""The invariant ERPs break, through a real server: 50 simultaneous requests at scarce stock.

`gridsupply serve --workers 2` runs two server processes on 127.0.0.1 (so no lock in Python
memory could help), on SQLite and on PostgreSQL. Afterwards the database itself is checked: for every stock row on-hand
≥ 0 and Σ held ≤ on-hand; every agreement line within its band; every request answered exactly
once (duplicates with the same Idempotency-Key get the first answer).
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogs.models import AgreementLine, Consignment, ReserveStock
from supply.core.settings import Settings
from supply.holds.models import Hold, Promise
from supply.requests.models import SupplyRequest
from tests.requests.conftest import FRIDAY, new_project
from tests.served import serving
from tests.signin import EVERY_ROLE, bearer, make_user

DISTINCT = 40
REPEATS = 10  # sent again, concurrently, with the same key and body


@pytest.fixture
def server(db_url: str, world: Settings, tmp_path: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "GRIDSUPPLY_DATABASE_URL": db_url,
        "GRIDSUPPLY_RUNS_DIR": str(tmp_path / "runs"),
        "GRIDSUPPLY_CALENDAR_DIR": str(tmp_path / "calendars"),
        "GRIDSUPPLY_FROZEN_NOW": FRIDAY.isoformat(),
    }
    with serving(env, tmp_path / "server.log", workers=2) as (base, _):
        yield base


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
        holds = session.exec(select(Hold).where(Hold.status == "held")).all()
        held: dict[tuple[str, str], int] = defaultdict(int)
        held_consignment: dict[int, int] = defaultdict(int)
        for h in holds:
            if h.consignment_id is None:
                held[h.warehouse_id, h.material_code] += h.quantity
            else:
                held_consignment[h.consignment_id] += h.quantity
        for stock in session.exec(select(ReserveStock)):
            key = (stock.warehouse_id, stock.material_code)
            assert 0 <= held[key] <= stock.quantity, key
        for row in session.exec(select(Consignment)):
            assert 0 <= held_consignment[row.id or 0] <= row.quantity
        promised: dict[int, int] = defaultdict(int)
        for p in session.exec(select(Promise).where(Promise.status == "promised")):
            if p.agreement_line_id is not None:
                promised[p.agreement_line_id] += p.quantity
        for line in session.exec(select(AgreementLine)):
            upper = line.estimated_quantity * line.band_high_pct // 100
            assert line.ordered_quantity + promised[line.id or 0] <= upper, line.id
        # The last transformers: exactly two requests hold one each; everyone else was promised.
        transformer = [h for h in holds if h.material_code == "DT-400"]
        assert sorted(h.quantity for h in transformer) == [1, 1]
        assert len({h.request_id for h in transformer}) == 2
        # Scarce cable: the agreement line was shared out up to its band, never beyond it.
        cable = session.exec(select(AgreementLine).where(AgreementLine.line_no == 2)).one()
        assert promised[cable.id or 0] == 6000  # 5,000 estimated × 120 %
