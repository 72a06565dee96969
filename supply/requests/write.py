"""Write a round's requests under its lock: each is checked (`supply.requests.check`, which writes
nothing) and, if it passes, written — its new project, lines, request, holds (with their `held`
events) and promises, the line statuses, and the filings its budget check made due — with its
answer (`supply.requests.answer`).

A refused request leaves the others be: each is written in a savepoint of its own, except the
requests creating a project outside any package, which write nothing before their check and
are written together, one statement per table. A request creating a project in a package has
the project written first (in its savepoint), so that the package's figures count it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from optimizer import Plan
from supply.commitments import Commitment, refresh_statuses, status_of
from supply.core.audit import record_many
from supply.core.db import insert_rows
from supply.core.errors import Conflict
from supply.demand.models import DemandLine
from supply.demand.service import line_values
from supply.holds.models import Promise, StockKind
from supply.holds.service import SYSTEM_USER, NewHold, hold_stock
from supply.projects.models import Project
from supply.requests.answer import HELD_KINDS, answer, emergency_causes_of
from supply.requests.asks import Outcome, Round
from supply.requests.budget import file_overrun
from supply.requests.check import Entry, Free, Moved, check
from supply.requests.models import RequestAnswer, SupplyRequest
from supply.requests.prepare import Draft, Joint


def write_round(
    session: Session,
    r: Round,
    joint: Joint,
    plan: Plan,
    free: Free | None,
    *,
    stale: bool,
) -> tuple[dict[int, Outcome], list[int]]:
    """Check and write the round's requests in order; return their outcomes and the requests to
    solve again. A refused request leaves the others be (the others each write in a savepoint
    of their own); once one is not written as planned, the requests after it are solved again
    (`stale`: what it was given is free again). Requests that write nothing before their check
    are written together at the end; if that clashes with a row written meanwhile (a project
    created by someone else), each is written on its own, and once one of those fails the rest
    of them are solved again (the requests written on their own meanwhile keep their answers)."""
    written: dict[int, Outcome] = {}
    moved: list[int] = []
    together: list[Entry] = []
    for draft in joint.drafts:
        if stale:  # solved again, with what the requests before it gave back
            moved.append(draft.index)
            continue
        alone = not _writes_nothing_first(draft)
        try:
            if alone:
                with session.begin_nested():
                    if draft.ask.body.project is not None:  # in a package: first, so that its
                        _insert_projects(session, r, [draft])  # package's figures count it
                    entry = check(session, r, joint, draft, plan, free)
                    (done,) = _store(session, r, joint, [entry])
                written[draft.index] = done
            else:
                entry = check(session, r, joint, draft, plan, free)
                together.append(entry)
        except Moved:
            moved.append(draft.index)
        except Exception as exc:
            written[draft.index] = _refusal(draft, exc)
        else:
            plan = entry.plan
            if free is not None:
                for place, quantity in entry.taken.items():
                    free[place] -= quantity
            continue
        stale = joint.scarce(draft, plan)  # not written: its share is free again
    if together:
        try:
            with session.begin_nested():
                answers = _store(session, r, joint, together)
        except Exception as exc:  # written one by one below, each with its own outcome
            if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
                raise
        else:
            written.update(zip((e.draft.index for e in together), answers, strict=True))
            return written, moved
        gave_back = False
        for entry in together:
            if gave_back:
                moved.append(entry.draft.index)
                continue
            try:
                with session.begin_nested():
                    (written[entry.draft.index],) = _store(session, r, joint, [entry])
            except Exception as exc:
                written[entry.draft.index] = _refusal(entry.draft, exc)
            else:
                continue
            gave_back = joint.scarce(entry.draft, entry.plan)
    return written, moved


def _changed_meanwhile(draft: Draft, exc: IntegrityError) -> Conflict:
    """A unique key or reference that held when checked was broken by a concurrent writer."""
    project = draft.project.id
    return Conflict(
        f"项目 {project} 或其需求行刚被他人修改 / project {project} or its lines were changed by "
        f"someone else meanwhile ({type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}): "
        "look it up, then ask again",
        loc=("project", "id") if draft.ask.body.project is not None else ("project_id",),
    )


def _refusal(draft: Draft, exc: Exception) -> Outcome:
    """The outcome of a request whose check or write raised `exc` (re-raised if it is the whole
    transaction's: a database error other than a broken key, such as a deadlock, is tried again
    for the round)."""
    if isinstance(exc, IntegrityError):  # a row written meanwhile by someone else
        return _changed_meanwhile(draft, exc)
    if isinstance(exc, DBAPIError):
        raise exc
    return exc  # its refusal (a DomainError), or a fault in this request only


def _writes_nothing_first(draft: Draft) -> bool:
    """A request creating a project outside any package writes nothing before its check passes:
    such requests are written together, one statement per table."""
    return draft.ask.body.project is not None and draft.project.package_id is None


def _insert_projects(session: Session, r: Round, drafts: Sequence[Draft]) -> None:
    """Write new projects (their rows only; their lines are written with their requests)."""
    if drafts:
        session.connection().execute(
            insert(Project.__table__),  # type: ignore[attr-defined]
            [{**d.project.model_dump(), "created_at": r.now, "created_by": d.ask.user[:100],
              "updated_at": r.now} for d in drafts],
        )  # fmt: skip


def _store(
    session: Session, r: Round, joint: Joint, entries: Sequence[Entry]
) -> list[RequestAnswer]:
    """Write checked requests — their filings, new projects, lines, requests, holds and promises,
    one statement per table for all of them — and return their answers, in order.

    Rows are inserted without ORM objects: this is the hot path of the service. A project
    created meanwhile by someone else fails on its key (IntegrityError).
    """
    now = r.now
    filings = [file_overrun(session, r, joint, e.draft, e.budget) for e in entries]
    _insert_projects(session, r, [e.draft for e in entries if _writes_nothing_first(e.draft)])
    held: dict[str, int] = defaultdict(int)  # by key: keys are unique in a round
    promised: dict[str, int] = defaultdict(int)
    for e in entries:
        for a, ref in zip(e.allocations, e.refs, strict=True):
            kept = ref.kind in HELD_KINDS
            (held if kept else promised)[a.demand] += int(a.quantity)
    # New lines: nothing but their request covers them, so their status is known.
    new_lines = [
        (e, key, line_values(
            e.project.id, e.line_numbers[key], line, now=now, user=e.draft.ask.user,
            status=status_of(line.quantity, Commitment(held=held[key], planned=promised[key])),
            covered=held[key] + promised[key],
        ))
        for e in entries if e.draft.ask.body.lines
        for key, line in zip(e.draft.keys, e.draft.ask.body.lines, strict=True)
    ]  # fmt: skip
    line_ids = {key: i for e in entries for key, i in e.draft.existing_lines.items()}
    ids = insert_rows(session, DemandLine, [values for _, _, values in new_lines])
    line_ids.update(zip((key for _, key, _ in new_lines), ids, strict=True))
    request_ids = insert_rows(
        session,
        SupplyRequest,
        [{"project_id": e.project.id, "idempotency_key": e.draft.ask.idempotency_key,
          "fingerprint": e.draft.fingerprint, "answer": "", "created_at": now,
          "created_by": e.draft.ask.user[:100]} for e in entries],
    )  # fmt: skip
    expires = r.calendar.add_working_days(joint.today, r.settings.hold_expiry_working_days)
    holds, promises = [], []
    causes = emergency_causes_of(joint, entries)
    for e, request_id in zip(entries, request_ids, strict=True):
        for a, ref in zip(e.allocations, e.refs, strict=True):
            if ref.kind in HELD_KINDS:
                holds.append(
                    NewHold(
                        demand_line_id=line_ids[a.demand],
                        stock_kind=StockKind(ref.kind),
                        warehouse_id=ref.warehouse_id or "",
                        material_code=ref.material,
                        consignment_id=ref.consignment_id,
                        quantity=int(a.quantity),
                        request_id=request_id,
                        expires_on=expires,
                        by=e.draft.ask.user,
                    )
                )
            else:
                promises.append(
                    {"request_id": request_id, "demand_line_id": line_ids[a.demand],
                     "kind": ref.kind, "material_code": ref.material,
                     "agreement_line_id": ref.agreement_line_id, "quantity": int(a.quantity),
                     "unit_cost": ref.unit_cost, "arrival": a.arrival, "batch_id": joint.batch.id,
                     "created_at": now, "created_by": e.draft.ask.user[:100],
                     "emergency_cause": causes.get((a.demand, a.source), "")}
                )  # fmt: skip
    hold_ids = iter(hold_stock(session, holds, now=now, user=SYSTEM_USER))
    promise_ids = iter(insert_rows(session, Promise, promises))
    answers = []
    for e, request_id, filed in zip(entries, request_ids, filings, strict=True):
        mine = {key: line_ids[key] for key in e.draft.keys}
        if not e.draft.ask.body.lines:
            refresh_statuses(session, mine.values())
        answers.append(answer(session, r, joint, e, request_id, mine, expires,
                              hold_ids, promise_ids, causes, filed))  # fmt: skip
    record_many(
        session,
        [
            {"actor": e.draft.ask.user, "action": "request.create", "object_type": "request",
             "object_id": a.request_id,
             "after": {"project_id": e.project.id, "lines": len(a.lines),
                       "outcomes": dict(Counter(line.outcome for line in a.lines))}}
            for e, a in zip(entries, answers, strict=True)
        ],
        at=now,
    )  # fmt: skip
    session.connection().execute(
        update(SupplyRequest.__table__)  # type: ignore[attr-defined]
        .where(SupplyRequest.__table__.c.id == bindparam("request_id"))  # type: ignore[attr-defined]
        .values(answer=bindparam("answer")),
        [{"request_id": a.request_id, "answer": a.model_dump_json()} for a in answers],
    )
    return answers
