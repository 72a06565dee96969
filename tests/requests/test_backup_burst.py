"""A backup taken in the middle of a burst of urgent requests is the database as of one moment.

`gridsupply serve --workers 2` answers urgent requests that eight clients send back to back,
while a ninth issues the holds the answers name (goods issue: on-hand falls), on SQLite and on
PostgreSQL. `gridsupply db backup` runs while they do; the burst goes on after it. The backup,
restored with `gridsupply db restore` into an empty database, must keep every invariant
(`tests/requests/invariants.py`): on-hand never negative and equal to the catalogue as imported
less what was issued; Σ held ≤ on-hand; every agreement line within its band; every hold and
promise belonging to existing lines and requests, every request whole; each request's and each
issue's audit event; each line's covered quantity what covers it. And it must be one moment:
every request and issue answered before the backup started is in it, none sent after it ended.

Run with `-s` to see the figures (requests answered per second during the backup and overall).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supply.core.db import make_engine
from supply.holds.models import Hold, HoldStatus
from supply.requests.models import SupplyRequest
from tests.backups import empty_database, gridsupply, kind_of, require_pg_tools
from tests.conftest import assert_coverage_kept
from tests.requests.conftest import FRIDAY, new_project
from tests.requests.invariants import (
    Catalogue,
    assert_audited,
    assert_catalogue_less_issued,
    assert_nothing_dangles,
    assert_stock_within_bounds,
    catalogue,
)
from tests.signin import EVERY_ROLE, bearer, make_user

CLIENTS = 8
BEFORE = 16  # requests answered before the backup starts
AFTER = 24  # requests answered after the backup ended, before the burst stops
LIMIT = 600  # requests at most, whatever happens
LINES = [("DT-400", 1), ("MTR-1P", 3), ("CB10-300", 200)]


@dataclass(frozen=True)
class Call:
    """One HTTP call of the burst: when it was sent and answered (monotonic seconds), its status
    and what it made (a request's id, or the issued hold's)."""

    sent: float
    answered: float
    status: int
    made: int | None
    said: str


class Burst:
    """Eight clients asking, one issuing, until told to stop."""

    def __init__(self, base: str, auth: dict[str, str]) -> None:
        self.base, self.auth = base, auth
        self.requests: list[Call] = []
        self.issues: list[Call] = []
        self.numbers = itertools.count()
        self.held: queue.Queue[int] = queue.Queue()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._ask) for _ in range(CLIENTS)]
        self.threads.append(threading.Thread(target=self._issue))

    def __enter__(self) -> Burst:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=300)

    def answered_after(self, moment: float) -> int:
        with self.lock:
            return sum(1 for c in self.requests if c.answered > moment)

    def wait_for(self, count: int, *, after: float = 0.0) -> None:
        deadline = time.monotonic() + 300
        while self.answered_after(after) < count and not self.stop.is_set():
            assert time.monotonic() < deadline, "the burst stalled"
            assert all(t.is_alive() for t in self.threads), "a client died"
            time.sleep(0.01)

    def _ask(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self.stop.is_set():
                number = next(self.numbers)
                if number >= LIMIT:
                    return
                sent = time.monotonic()
                response = client.post(
                    "/api/v1/requests",
                    json=new_project(f"B-{number:03d}", LINES),
                    headers={"Idempotency-Key": f"burst-{number}", **self.auth},
                )
                made = response.json()["request_id"] if response.status_code == 201 else None
                with self.lock:
                    self.requests.append(
                        Call(sent, time.monotonic(), response.status_code, made, response.text)
                    )
                if response.status_code == 201:
                    for line in response.json()["lines"]:
                        for part in line["allocations"]:
                            if part["hold_id"] is not None:
                                self.held.put(part["hold_id"])

    def _issue(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not (self.stop.is_set() and self.held.empty()):
                try:
                    hold = self.held.get(timeout=0.05)
                except queue.Empty:
                    continue
                sent = time.monotonic()
                response = client.post(f"/api/v1/holds/{hold}/issue", json={}, headers=self.auth)
                with self.lock:
                    self.issues.append(
                        Call(sent, time.monotonic(), response.status_code, hold, response.text)
                    )


def _check_invariants(engine: Engine, imported: Catalogue) -> None:
    with Session(engine) as session:
        assert_stock_within_bounds(session)
        assert_catalogue_less_issued(session, imported)
        assert_nothing_dangles(session)
        assert_audited(session)
    assert_coverage_kept(engine)


@pytest.mark.slow
def test_a_backup_during_a_burst_of_requests_restores_to_one_consistent_moment(
    server: str, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    require_pg_tools(db_url)
    make_user(engine, "pm", EVERY_ROLE, now=FRIDAY)
    with Session(engine) as session:
        imported = catalogue(session)
    file = tmp_path / ("burst.db" if kind_of(db_url) == "sqlite" else "burst.dump")

    with Burst(server, bearer("pm", now=FRIDAY)) as burst:
        burst.wait_for(BEFORE)
        started = time.monotonic()
        done = gridsupply(["db", "backup", str(file)], db_url)
        ended = time.monotonic()
        burst.wait_for(AFTER, after=ended)

    assert done.returncode == 0, done.stderr
    failed = [c.said for c in burst.requests + burst.issues if c.status not in (200, 201)]
    assert failed == []
    during = [c for c in burst.requests if started < c.answered < ended]
    assert during, "no request was answered while the backup ran"
    assert burst.issues, "no hold was issued"
    seconds = max(c.answered for c in burst.requests) - min(c.sent for c in burst.requests)
    print(
        f"\n{kind_of(db_url)}: {len(burst.requests)} requests in {seconds:.1f} s "
        f"({len(burst.requests) / seconds:.1f}/s), {len(burst.issues)} holds issued; "
        f"`db backup` took {ended - started:.2f} s (the command), during which "
        f"{len(during)} requests were answered ({len(during) / (ended - started):.1f}/s)\n"
        + done.stdout
    )

    with empty_database(tmp_path, kind_of(db_url)) as target:
        restored = gridsupply(["db", "restore", str(file)], target)
        assert restored.returncode == 0, restored.stderr
        copy = make_engine(target)
        try:
            _check_invariants(copy, imported)
            with Session(copy) as session:
                kept = set(session.exec(select(SupplyRequest.id)))
                issued = set(session.exec(select(Hold.id).where(Hold.status == HoldStatus.ISSUED)))
        finally:
            copy.dispose()

    # One moment: everything answered before it began is in it, nothing sent after it ended.
    assert {c.made for c in burst.requests if c.answered < started} <= kept
    assert not {c.made for c in burst.requests if c.sent > ended} & kept
    assert {c.made for c in burst.issues if c.answered < started} <= issued
    assert not {c.made for c in burst.issues if c.sent > ended} & issued
    assert kept <= {c.made for c in burst.requests}
    assert len(kept) < len(burst.requests)  # the burst went on after the backup
    # The live database, after the whole burst, keeps them too.
    _check_invariants(engine, imported)
