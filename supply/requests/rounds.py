"""Answer one round of urgent requests (distinct idempotency keys and projects): its tries, its
locks and its retries, and the one place its outcomes are collected.

A try solves outside any transaction (`supply.requests.prepare`), then checks and writes in one
(`write_session`, `supply.requests.write`): the round's idempotency keys and existing projects
are locked first, in a fixed order and before any stock row, so that two rounds never deadlock;
requests answered meanwhile by another process get that answer; holds due to expire are
released. A request whose stock moved meanwhile (another process took it) is answered again in
the next try; from the last try on, requests are prepared and solved inside the lock, so a
request always gets an answer. A round the database chose as a deadlock's victim is tried again
(tenacity), up to `MAX_DEADLOCKS` times. If the round's instance cannot be matched, each of its
requests is answered alone.

Each step returns the outcomes it decides; `_Tries.settle` records them, and nothing else does.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select
from tenacity import before_sleep_log, retry, retry_if_exception, stop_after_attempt

from optimizer import Plan
from supply.availability import free_under_lock
from supply.core.clock import local_today
from supply.core.db import write_session
from supply.core.errors import InvalidInput
from supply.holds.service import expire_due_holds
from supply.projects.models import Project
from supply.requests.asks import Outcome, Round
from supply.requests.check import Free
from supply.requests.models import RequestAnswer, SupplyRequest
from supply.requests.prepare import Joint, prepare, solve_joint
from supply.requests.write import write_round

logger = logging.getLogger("gridsupply.requests")

MAX_ATTEMPTS = 3  # two optimistic tries; a request whose stock moved twice is solved under lock
MAX_DEADLOCKS = 5  # a round the database chose as a deadlock's victim is tried again this often
RETRY_STATES = ("40P01", "40001")  # PostgreSQL: deadlock detected, serialisation failure


def answer_round(engine: Engine, r: Round, live: list[int]) -> dict[int, Outcome]:
    """The outcome of each request of a round (requests with distinct keys and projects).

    A fault (a database error, a bug) is the outcome of the requests it left unanswered; the
    outcomes decided before it stand (answers committed, refusals, replays)."""
    tries = _Tries(engine, r, live)
    try:
        tries.run()
    except Exception as exc:
        return {i: tries.outcomes.get(i, exc) for i in live}
    return tries.outcomes


def _deadlocked(exc: BaseException) -> bool:
    """A PostgreSQL deadlock or serialisation failure: the round is tried again."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRY_STATES


class _Unsolvable(Exception):
    """The round's instance cannot be matched (its requests are then answered one by one)."""

    def __init__(self, joint: Joint, error: InvalidInput) -> None:
        super().__init__(error.message)
        self.joint = joint
        self.error = error


@dataclass
class _Tries:
    """A round being answered: the requests still to answer (`live`), the tries made, and the
    outcomes decided so far."""

    engine: Engine
    r: Round
    live: list[int]
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # shared with its `_alone` rounds
    attempt: int = 0

    def settle(self, outcomes: Mapping[int, Outcome]) -> None:
        """Record outcomes of the round's requests: the only place they are recorded."""
        self.outcomes.update(outcomes)

    def run(self) -> None:
        """Answer requests with distinct keys and projects: solve outside any transaction, then
        check and write in one. A request whose stock moved meanwhile (another process took it)
        is answered again; from the last try on, requests are prepared and solved inside the lock.

        The plan shares scarce supply among the round's requests; when one of them is not
        written as planned (answered meanwhile, refused, moved) what it was given is free again,
        so the requests after it are solved again rather than written with a share that is now
        too small. Each try under lock gives at least one request its outcome, so the tries end.
        """
        with Session(self.engine) as session:
            self.live, replayed = replays(session, self.r, self.live)
        self.settle(replayed)
        try:
            self._tries()
        except _Unsolvable as exc:
            self._alone(exc.joint, exc.error)

    @retry(
        retry=retry_if_exception(_deadlocked),
        stop=stop_after_attempt(MAX_DEADLOCKS + 1),
        before_sleep=before_sleep_log(logger, logging.WARNING),  # each retry in the server's log
        reraise=True,
    )
    def _tries(self) -> None:
        """Try until every request has its outcome. A deadlock's victim is tried again from
        where it stood (the tries it made count; the requests it answered stay answered)."""
        while self.live:
            if not self._try():
                return

    def _try(self) -> bool:
        """One try: the requests written, refused or answered meanwhile get their outcomes, the
        ones whose stock moved stay `live`. False if nothing was left to write (every request
        refused)."""
        r = self.r
        inside_lock = self.attempt >= MAX_ATTEMPTS - 1
        self.attempt += 1
        prepared: tuple[Joint, Plan] | None = None
        if not inside_lock:
            with Session(self.engine) as session:
                prepared = self._prepared(session, lock=False)
            if prepared is None:
                return False
        with write_session(self.engine) as session:
            lock_keys(session, {k for i in self.live if (k := r.asks[i].idempotency_key)})
            lock_projects(session, {r.asks[i].project_id for i in self.live
                                    if r.asks[i].body.project is None})  # fmt: skip
            planned = self.live
            self.live, replayed = replays(session, r, self.live)  # answered meanwhile elsewhere
            self.settle(replayed)
            expire_due_holds(session, today=local_today(r.now), now=r.now)
            free: Free | None = None
            if inside_lock:
                prepared = self._prepared(session, lock=True)
                if prepared is None:
                    return False
            assert prepared is not None
            joint, plan = prepared
            # A request answered meanwhile gives back its share of the plan.
            stale = any(joint.scarce(d, plan) for d in joint.drafts
                        if d.index in planned and d.index not in self.live)  # fmt: skip
            if not inside_lock:
                joint.drafts = [d for d in joint.drafts if d.index in self.live]
                free = free_under_lock(
                    session=session,
                    materials={item.material for d in joint.drafts for item in d.items},
                    order_day=joint.batch.province_match,
                )
            written, moved = write_round(session, r, joint, plan, free, stale=stale)
            session.commit()
        self.settle(written)
        self.live = moved
        return True

    def _prepared(self, session: Session, *, lock: bool) -> tuple[Joint, Plan] | None:
        """The round's instance and its plan (None if every request was refused; the refusals
        are settled); raises `_Unsolvable` if the instance cannot be matched."""
        joint, refused = prepare(session, self.r, self.live, lock=lock)
        self.settle(refused)
        if joint is None:
            return None
        try:
            return joint, solve_joint(joint)
        except InvalidInput as exc:
            raise _Unsolvable(joint, exc) from exc

    def _alone(self, joint: Joint, exc: InvalidInput) -> None:
        """The joint instance cannot be matched: that is one request's error, so answer each
        request of it alone (one alone gets the error)."""
        if len(joint.drafts) == 1:
            self.settle({joint.drafts[0].index: exc})
            return
        for draft in joint.drafts:
            _Tries(self.engine, self.r, [draft.index], self.outcomes).run()


def lock_projects(session: Session, project_ids: set[str]) -> None:
    """Lock the existing projects of a round (no one adds lines to them or closes them until
    this commits), sorted, before any stock row, so that two rounds never deadlock."""
    if project_ids:
        session.exec(
            select(Project.id)
            .where(col(Project.id).in_(sorted(project_ids)))
            .order_by(col(Project.id))
            .with_for_update()
        ).all()


def lock_keys(session: Session, keys: Collection[str]) -> None:
    """Serialise requests carrying the same key until this transaction ends (PostgreSQL; SQLite
    is serialised already by BEGIN IMMEDIATE), so the second one sees the first's answer. The
    keys' locks are taken in one statement, in a fixed order."""
    if keys and session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) "
                "AS h FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS ordered"
            ),
            {"keys": sorted(keys)},
        )


def replays(session: Session, r: Round, live: list[int]) -> tuple[list[int], dict[int, Outcome]]:
    """The requests whose key was not answered yet, and the outcomes of those whose key was: its
    answer (`replayed`), or a 422 if the body differs."""
    keys = {r.asks[i].idempotency_key for i in live} - {None}
    if not keys:
        return live, {}
    found = {
        row.idempotency_key: row
        for row in session.exec(
            select(SupplyRequest).where(col(SupplyRequest.idempotency_key).in_(sorted(keys)))  # type: ignore[type-var]
        )
    }
    rest: list[int] = []
    answered: dict[int, Outcome] = {}
    for i in live:
        row = found.get(r.asks[i].idempotency_key or "")
        if row is None:
            rest.append(i)
        elif row.fingerprint != r.prints[i]:
            answered[i] = InvalidInput(
                "此幂等键已用于另一个请求 / this Idempotency-Key was used for a different "
                "request: use a new key for a new request",
                loc=("header", "Idempotency-Key"),
            )
        else:
            answered[i] = RequestAnswer.model_validate_json(row.answer).model_copy(
                update={"replayed": True}
            )
    return rest, answered
