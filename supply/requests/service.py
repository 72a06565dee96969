"""The urgent request: the engine's answer over current availability, held in one transaction.

1. **Prepare** (a read-only session): check the project and lines, read the supply of the
   materials asked for — on-hand less active holds (so reserve an approved weekly plan gave to
   another project is not there), agreement stock less what approved plans and earlier promises
   took, arriving per this moment's batch — and the other open demand of those materials, which
   the engine weighs against the request (grouped, so the instance stays small).
2. **Solve** outside any transaction (explaining only the request's lines).
3. **Write** in `write_session`: the rows of those materials are locked (PostgreSQL `SELECT …
   FOR UPDATE` in a fixed order; SQLite BEGIN IMMEDIATE), availability is read again, and only
   if every held or promised quantity is still there are the project, lines, request, holds and
   promises written, in that transaction. If something changed, the request is prepared and
   solved again inside the lock, so a request always gets an answer.

Idempotency: the answer is stored with the request; the same `Idempotency-Key` with the same
body gets the stored answer (`replayed`), with another body a 422.

This module is the entry (submit, look up, cancel); each step is a module of its own in
`supply.requests`: `rounds` (a round's tries, locks, retries, and its outcomes collected),
`prepare` (checking requests, the instance and its plan; R6), `check` (the re-check under lock,
which writes nothing), `budget` (R7), `write` (the rows), `answer` (the answer); `asks` holds
what they share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supply.auth.actor import ProjectScope
from supply.calendar import WorkCalendar
from supply.commitments import refresh_statuses
from supply.core.audit import record
from supply.core.db import write_session
from supply.core.errors import Conflict, NotFound
from supply.core.settings import Settings
from supply.holds.models import Hold, HoldStatus, Promise, PromiseStatus
from supply.holds.service import release
from supply.policy import DeadlinePolicy
from supply.projects.scope import visible_ids
from supply.requests.asks import Ask, Outcome, Round
from supply.requests.models import RequestAnswer, SupplyRequest, SupplyRequestIn
from supply.requests.rounds import answer_round

__all__ = [
    "Ask",
    "Outcome",
    "cancel_request",
    "fingerprint",
    "get_request",
    "submit_request",
    "submit_requests",
]


def fingerprint(body: SupplyRequestIn) -> str:
    """SHA-256 of the request body as parsed (the same request in any key order or spacing)."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def submit_request(
    *,
    engine: Engine,
    body: SupplyRequestIn,
    idempotency_key: str | None,
    now: datetime,
    user: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> RequestAnswer:
    """Answer one urgent request and hold what it is given; see the module docstring."""
    (outcome,) = submit_requests(
        engine=engine,
        asks=[Ask(body, idempotency_key, user)],
        now=now,
        calendar=calendar,
        policy=policy,
        settings=settings,
    )
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def submit_requests(
    *,
    engine: Engine,
    asks: Sequence[Ask],
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
) -> list[Outcome]:
    """Answer requests that arrived together by one solve, and hold what each is given.

    Returns, in order, each request's answer or the domain error that refused it: a bad request
    does not hold up the others. Requests sharing an idempotency key or a project are answered
    in turn (a repeat gets the first answer; a project's lines are never asked twice in one
    instance). A fault (a database error, a bug) is returned as the outcome of the requests it
    left unanswered; the answers committed before it stand.
    """
    outcomes: dict[int, Outcome] = {}
    prints = [fingerprint(ask.body) for ask in asks]
    r = Round(asks, prints, now, calendar, policy, settings)
    todo = list(range(len(asks)))
    while todo:
        round_, later = [], []
        keys: set[str] = set()
        projects: set[str] = set()
        for i in todo:
            key, project = asks[i].idempotency_key, asks[i].project_id
            if project in projects or (key is not None and key in keys):
                later.append(i)
                continue
            round_.append(i)
            projects.add(project)
            if key is not None:
                keys.add(key)
        outcomes.update(answer_round(engine, r, round_))  # a fault's outcomes included
        todo = later
    assert len(outcomes) == len(asks)
    return [outcomes[i] for i in range(len(asks))]


def _request_or_raise(session: Session, request_id: int) -> SupplyRequest:
    found = session.get(SupplyRequest, request_id)
    if found is None:
        raise NotFound(
            f"紧急需求 {request_id} 不存在 / request {request_id} does not exist",
            loc=("request_id",),
        )
    return found


def check_request_visible(session: Session, request_id: int, scope: ProjectScope | None) -> None:
    """NotFound, worded as for a missing request, for a request of a project `scope` does not
    reach (another unit's)."""
    if scope is None:
        return
    found = session.get(SupplyRequest, request_id)
    if found is not None and not visible_ids(session, [found.project_id], scope):
        raise NotFound(
            f"紧急需求 {request_id} 不存在 / request {request_id} does not exist",
            loc=("request_id",),
        )


def get_request(*, session: Session, request_id: int) -> RequestAnswer:
    """The answer a request got."""
    return RequestAnswer.model_validate_json(_request_or_raise(session, request_id).answer)


def cancel_request(
    *, engine: Engine, request_id: int, reason: str, now: datetime, user: str
) -> RequestAnswer:
    """The project manager withdraws a request: its holds are released, its promises cancelled."""
    with write_session(engine) as session:
        found = _request_or_raise(session, request_id)
        holds = session.exec(
            select(Hold)
            .where(Hold.request_id == request_id, Hold.status == HoldStatus.HELD)
            .order_by(col(Hold.id))
            .with_for_update()
        ).all()
        promises = session.exec(
            select(Promise).where(
                Promise.request_id == request_id, Promise.status == PromiseStatus.PROMISED
            )
        ).all()
        if not holds and not promises:
            raise Conflict(
                f"紧急需求 {request_id} 没有可取消的保留或承诺 / request {request_id} has nothing "
                "left to cancel (issued or already released)",
                loc=("request_id",),
            )
        for hold in holds:
            release(
                session,
                hold,
                reason=reason or "取消紧急需求 / request cancelled",
                now=now,
                user=user,
            )
        for promise in promises:
            promise.status = PromiseStatus.CANCELLED
            promise.closed_at, promise.closed_by = now, user[:100]
            session.add(promise)
        session.flush()
        refresh_statuses(
            session, {h.demand_line_id for h in holds} | {p.demand_line_id for p in promises}
        )
        record(
            session, actor=user, action="request.cancel", object_type="request",
            object_id=request_id, after={"reason": reason, "holds_released": len(holds),
                                          "promises_cancelled": len(promises)}, at=now,
        )  # fmt: skip
        session.commit()
        return RequestAnswer.model_validate_json(found.answer)
