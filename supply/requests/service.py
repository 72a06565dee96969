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

R6: a project that can wait for agreement stock must not drain reserve below its quota, so the
request's instance prices reserve below quota above the dearest agreement alternative: an
agreement line that arrives in time always wins over reserve below quota, while reserve still
beats lateness (the first tiers) and emergency procurement when that is dearer.

Idempotency: the answer is stored with the request; the same `Idempotency-Key` with the same
body gets the stored answer (`replayed`), with another body a 422.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from optimizer import Plan, solve
from supply.availability import SupplyState, free_under_lock, load_supply
from supply.calendar import CalendarError, WorkCalendar
from supply.commitments import Commitment, refresh_statuses, status_for
from supply.core.clock import local_today
from supply.core.db import write_session
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.demand.service import check_lines, new_lines
from supply.holds.models import (
    Hold,
    HoldStatus,
    Promise,
    PromiseStatus,
    StockKind,
    SupplyRequest,
)
from supply.holds.service import expire_due_holds, hold_stock, release
from supply.packages.budget import BudgetWarning, check_additions, package_figures
from supply.packages.filings import filing_public, record_filings
from supply.packages.models import Filing
from supply.planning import (
    DemandItem,
    MatchingProblem,
    arrival_at,
    build_instance,
    line_key,
    prefer_reserve,
    transport_days,
)
from supply.policy import (
    Batch,
    BuildDeadline,
    DeadlinePolicy,
    batch_for,
    build_deadline,
    outcome_if_arriving,
)
from supply.projects.models import PRIORITY_WEIGHT, Priority, Project, ProjectStatus
from supply.projects.service import check_new_project, get_project_or_raise, new_project
from supply.requests.models import AllocationAnswer, LineAnswer, RequestAnswer, SupplyRequestIn
from supply.weekly.service import open_demand

MAX_ATTEMPTS = 2  # one optimistic try; if the stock moved meanwhile, solve again inside the lock


@dataclass
class _Draft:
    """A request prepared for solving: its lines as demand, among the other open demand."""

    today: date
    batch: Batch
    project: Project  # transient when the request creates it
    deadline: BuildDeadline
    keys: list[str]  # the request's instance ids, in line order
    line_numbers: dict[str, int]
    existing_lines: dict[str, int]  # key -> demand line id (asking for a project's open lines)
    outstanding: dict[str, int]  # key -> quantity asked
    problem: MatchingProblem


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
    """Answer an urgent request and hold what it is given; see the module docstring."""
    print_ = fingerprint(body)
    if idempotency_key is not None:
        with Session(engine) as session:
            earlier = _replay(session, idempotency_key, print_)
        if earlier is not None:
            return earlier
    prepare = partial(_prepare, body=body, now=now, calendar=calendar, policy=policy,
                      settings=settings)  # fmt: skip
    for attempt in range(MAX_ATTEMPTS):
        inside_lock = attempt == MAX_ATTEMPTS - 1
        plan: Plan | None = None
        if not inside_lock:
            with Session(engine) as session:
                draft = prepare(session, lock=False)
            plan = _solve(draft)
        try:
            with write_session(engine) as session:
                if idempotency_key is not None:
                    _lock_key(session, idempotency_key)
                    earlier = _replay(session, idempotency_key, print_)
                    if earlier is not None:
                        return earlier
                expire_due_holds(session, today=local_today(now), now=now)
                if inside_lock:
                    draft = prepare(session, lock=True)
                    plan = _solve(draft)
                assert plan is not None
                answer = _write(
                    session,
                    body,
                    draft,
                    plan,
                    idempotency_key=idempotency_key,
                    fingerprint=print_,
                    now=now,
                    user=user,
                    calendar=calendar,
                    policy=policy,
                    settings=settings,
                    recheck=not inside_lock,
                )
                session.commit()
                return answer
        except _Moved:
            continue  # the stock moved since it was read: solve again, inside the lock
        except IntegrityError:
            if idempotency_key is None:
                raise
            with Session(engine) as session:  # the same key was answered meanwhile
                earlier = _replay(session, idempotency_key, print_)
            if earlier is None:
                raise
            return earlier
        except DBAPIError as exc:  # a PostgreSQL deadlock or serialisation failure: try again
            if getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001") or inside_lock:
                raise
    raise AssertionError("unreachable: the last attempt answers or raises")


def _lock_key(session: Session, key: str) -> None:
    """Serialise requests carrying the same key until this transaction ends (PostgreSQL; SQLite
    is serialised already by BEGIN IMMEDIATE), so the second one sees the first's answer."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )


class _Moved(Exception):
    """What the plan gives the request is no longer free: roll back and solve again."""


def _replay(session: Session, key: str, print_: str) -> RequestAnswer | None:
    found = session.exec(select(SupplyRequest).where(SupplyRequest.idempotency_key == key)).first()
    if found is None:
        return None
    if found.fingerprint != print_:
        raise InvalidInput(
            "此幂等键已用于另一个请求 / this Idempotency-Key was used for a different request: "
            "use a new key for a new request",
            loc=("header", "Idempotency-Key"),
        )
    return RequestAnswer.model_validate_json(found.answer).model_copy(update={"replayed": True})


# --- prepare ----------------------------------------------------------------------------------


def _prepare(
    session: Session,
    *,
    body: SupplyRequestIn,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
    lock: bool,
) -> _Draft:
    today = local_today(now)
    batch = batch_for(now, calendar=calendar, policy=policy)
    if body.project is not None:
        derived = check_new_project(
            session=session, project=body.project, calendar=calendar, policy=policy
        )
        project = Project(
            **body.project.model_dump(exclude={"voltage_class"}),
            voltage_class=derived.voltage_class,
            deadline=derived.deadline,
            need_by=derived.need_by,
            status=ProjectStatus.ACTIVE,
        )
    else:
        assert body.project_id is not None
        project = get_project_or_raise(session=session, project_id=body.project_id)
    weight = PRIORITY_WEIGHT[Priority(project.priority)]
    items: list[DemandItem] = []
    line_numbers: dict[str, int] = {}
    existing: dict[str, int] = {}
    if body.lines:
        numbers = check_lines(
            session=session,
            project=project,
            lines=body.lines,
            today=today,
            taken=set() if body.project is not None else None,
        )
        for number, line in zip(numbers, body.lines, strict=True):
            key = line_key(project.id, number)
            line_numbers[key] = number
            items.append(
                DemandItem(
                    key=key,
                    project_id=project.id,
                    material=line.material_code,
                    quantity=line.quantity,
                    need_by=line.need_by_override or project.need_by,
                    voltage_class=project.voltage_class,
                    location=project.location,
                    weight=weight,
                    package=project.package_id,
                )
            )
    else:
        if project.status != ProjectStatus.ACTIVE:
            raise InvalidInput(
                f"项目 {project.id} 状态为 {project.status} / project {project.id} is "
                f"{project.status}: nothing can be requested for it",
                loc=("project_id",),
            )
        items = open_demand(session, cutoff=now, project_id=project.id)
        if not items:
            raise InvalidInput(
                f"项目 {project.id} 没有待供应的需求行 / project {project.id} has no outstanding "
                "lines: add lines to the request",
                loc=("lines",),
            )
        for item in items:
            assert item.demand_line_id is not None
            existing[item.key] = item.demand_line_id
            line_numbers[item.key] = int(item.key.rsplit("/", 1)[1])
    wanted = {item.material for item in items}
    supply = load_supply(
        session=session,
        today=today,
        order_day=batch.province_match,
        central_warehouse=settings.default_delivery_warehouse,
        lock=lock,
        materials=wanted,
    )
    mine = {item.key for item in items}
    # The other open demand that competes with the request: lines of the same materials needed
    # no later than the request's own. Lines needed later have more time for agreement stock
    # and emergency procurement, and the weekly run plans them; leaving them out keeps the
    # instance small (an answer in well under a second).
    until = max(item.need_by for item in items)
    others = [
        d
        for d in open_demand(session, cutoff=now, materials=wanted, need_by_until=until)
        if d.key not in mine
    ]
    deadline = build_deadline(
        project.project_type,
        approved=project.approved_on,
        completion=project.completion_date,
        calendar=calendar,
        policy=policy,
    )
    problem = build_instance(
        demands=items + grouped(others, today=today),
        supply=supply,
        plan_date=today,
        order_day=batch.province_match,
        penalty=r6_penalty(supply, wanted, settings.reserve_below_quota_penalty),
    )
    return _Draft(
        today=today,
        batch=batch,
        project=project,
        deadline=deadline,
        keys=[item.key for item in items],
        line_numbers=line_numbers,
        existing_lines=existing,
        outstanding={item.key: item.quantity for item in items},
        problem=problem,
    )


def grouped(demands: list[DemandItem], *, today: date) -> list[DemandItem]:
    """Merge demand the engine cannot tell apart (material, place, need-by, weight, voltage).

    Lines already past their need-by are merged as if due yesterday: nothing arrives before
    today, so each is late whatever it gets and every day earlier saves it the same weighted
    day. Emergency procurement serves every line in full, so only a constant changes in the
    lateness tier: the engine's choices stay the same, and the instance is much smaller.
    """
    overdue = today - timedelta(days=1)
    groups: dict[tuple[str, str, date, int, str], list[DemandItem]] = defaultdict(list)
    for d in demands:
        due = max(d.need_by, overdue)
        groups[d.material, d.location, due, d.weight, d.voltage_class].append(d)
    merged = []
    for members in groups.values():
        first = members[0]
        key = first.key if len(members) == 1 else f"{first.key}+{len(members) - 1}"
        merged.append(
            DemandItem(
                key=key,
                project_id=first.project_id,
                material=first.material,
                quantity=sum(m.quantity for m in members),
                need_by=max(first.need_by, overdue),
                voltage_class=first.voltage_class,
                location=first.location,
                weight=first.weight,
            )
        )
    return merged


def r6_penalty(supply: SupplyState, materials: set[str], base: Decimal) -> Decimal:
    """A below-quota penalty no agreement price difference can outweigh (R6)."""
    dearer = [
        a.unit_price - supply.materials[a.material].standard_price
        for a in supply.agreements
        if a.material in materials
    ]
    return max([base, *(d + 1 for d in dearer)])


def _solve(draft: _Draft) -> Plan:
    """Solve the request's instance, explaining only the request's own lines.

    The plan is not put through the independent checker here, unlike the weekly run's: the
    engine is checked against it in the test suite, and what matters for a promise — that every
    held or promised quantity is really free — is checked again under lock before it is written.
    """
    plan = solve(draft.problem.instance, explain_only=draft.keys)
    if plan.status == "invalid":
        raise InvalidInput(
            "无法建立匹配实例 / the request cannot be matched: "
            + "; ".join(f"{e.id} {e.field}: {e.message}" for e in plan.errors[:5]),
            loc=("lines",),
        )
    return plan


# --- check and write ----------------------------------------------------------------------------


def _taken(draft: _Draft, plan: Plan) -> dict[str, int]:
    mine = set(draft.keys)
    taken: dict[str, int] = defaultdict(int)
    for a in plan.allocations:
        if a.demand in mine:
            taken[a.source] += int(a.quantity)
    return taken


def _still_there(session: Session, draft: _Draft, plan: Plan, *, now: datetime) -> bool:
    """Read availability again under lock: is everything the plan gives the request still free,
    and is every existing line still as outstanding as it was?"""
    free = free_under_lock(
        session=session,
        materials={draft.problem.demands[k].material for k in draft.keys},
        order_day=draft.batch.province_match,
    )
    for source_id, quantity in _taken(draft, plan).items():
        ref = draft.problem.sources[source_id]
        if ref.kind == "emergency":
            continue
        where: object = {
            "reserve": (ref.warehouse_id, ref.material),
            "consignment": ref.consignment_id,
            "agreement": ref.agreement_line_id,
        }[ref.kind]
        if free.get((ref.kind, where), 0) < quantity:
            return False
    if draft.existing_lines:
        again = open_demand(session, cutoff=now, project_id=draft.project.id)
        now_outstanding = {d.key: d.quantity for d in again}
        if any(now_outstanding.get(k, 0) != q for k, q in draft.outstanding.items()):
            return False
    return True


def _write(
    session: Session,
    body: SupplyRequestIn,
    draft: _Draft,
    plan: Plan,
    *,
    idempotency_key: str | None,
    fingerprint: str,
    now: datetime,
    user: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
    recheck: bool,
) -> RequestAnswer:
    """Write the project, lines, request, holds and promises; check the package budget first
    (R7: an over-budget project relies on reserve the plan left free) and, for a plan solved
    outside the lock, that everything it gives is still free (else `_Moved`)."""
    created_project = body.project is not None
    if body.project is not None:
        project = new_project(
            session=session,
            project=body.project,
            calendar=calendar,
            policy=policy,
            now=now,
            user=user,
        )
        numbers = [draft.line_numbers[key] for key in draft.keys]  # a new project: all free
    else:  # lock the project: no one adds lines to it or closes it until this commits
        project = session.exec(
            select(Project).where(Project.id == draft.project.id).with_for_update()
        ).one()
        if project.status != ProjectStatus.ACTIVE:
            raise Conflict(
                f"项目 {project.id} 已{project.status} / project {project.id} is {project.status}",
                loc=("project_id",),
            )
        numbers = None
    line_ids = dict(draft.existing_lines)
    added: list[DemandLine] = []
    if body.lines:
        added = new_lines(
            session=session,
            project=project,
            lines=body.lines,
            now=now,
            user=user,
            numbers=numbers,
        )
        for key, line in zip(draft.keys, added, strict=True):
            assert line.id is not None
            line_ids[key] = line.id
            draft.line_numbers[key] = line.line_no
    warnings, moved, filings = _budget(
        session, draft, plan, project=project, now=now, user=user, calendar=calendar, policy=policy
    )
    if moved:
        plan, relied = moved
    else:
        relied = 0
    if recheck and not _still_there(session, draft, plan, now=now):
        raise _Moved
    request = SupplyRequest(
        project_id=project.id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        answer="",
        created_at=now,
        created_by=user[:100],
    )
    session.add(request)
    session.flush()  # a key answered meanwhile fails here, before anything is held
    assert request.id is not None
    expires = calendar.add_working_days(draft.today, settings.hold_expiry_working_days)
    given: dict[str, list[AllocationAnswer]] = defaultdict(list)
    rows: list[tuple[AllocationAnswer, Hold | Promise]] = []
    mine = set(draft.keys)
    for a in plan.allocations:
        if a.demand not in mine:
            continue
        ref = draft.problem.sources[a.source]
        quantity = int(a.quantity)
        part = AllocationAnswer(
            kind=ref.kind,  # type: ignore[arg-type]
            source_id=a.source,
            state="held" if ref.kind in ("reserve", "consignment") else "promised",
            quantity=quantity,
            arrival=a.arrival,
            unit_cost=ref.unit_cost,
            warehouse_id=ref.warehouse_id,
            supplier=ref.supplier,
            consignment_id=ref.consignment_id,
        )
        row: Hold | Promise
        if ref.kind in ("reserve", "consignment"):
            row = Hold(
                demand_line_id=line_ids[a.demand],
                stock_kind=StockKind(ref.kind),
                warehouse_id=ref.warehouse_id or "",
                material_code=ref.material,
                consignment_id=ref.consignment_id,
                quantity=quantity,
                request_id=request.id,
                expires_on=expires,
                created_at=now,
                created_by=user[:100],
            )
            part.expires_on = expires
        else:
            row = Promise(
                request_id=request.id,
                demand_line_id=line_ids[a.demand],
                kind=ref.kind,
                material_code=ref.material,
                agreement_line_id=ref.agreement_line_id,
                quantity=quantity,
                unit_cost=ref.unit_cost,
                arrival=a.arrival,
                batch_id=draft.batch.id,
                created_at=now,
                created_by=user[:100],
            )
            if ref.agreement_line_id is not None:
                no, line_no = a.source.removeprefix("A:").rsplit("/", 1)
                part.agreement_no, part.agreement_line_no = no, int(line_no)
        rows.append((part, row))
        given[a.demand].append(part)
    hold_stock(session, [row for _, row in rows if isinstance(row, Hold)], now=now, user=user)
    session.add_all([row for _, row in rows if isinstance(row, Promise)])
    session.flush()
    for part, row in rows:
        if isinstance(row, Hold):
            part.hold_id = row.id
        else:
            part.promise_id = row.id
    if added:  # new lines: nothing but this request covers them, so their status is known here
        for key, line in zip(draft.keys, added, strict=True):
            line.status = status_for(
                line,
                Commitment(
                    held=sum(p.quantity for p in given[key] if p.state == "held"),
                    planned=sum(p.quantity for p in given[key] if p.state == "promised"),
                ),
            )
            session.add(line)
        session.flush()
    else:
        refresh_statuses(session, line_ids.values())
    answer = RequestAnswer(
        request_id=request.id,
        project_id=project.id,
        project_created=created_project,
        batch_id=draft.batch.id,
        province_match_on=draft.batch.province_match,
        answered_at=now,
        answered_by=user[:100],
        lines=_line_answers(draft, plan, given, line_ids, calendar=calendar),
        budget_warnings=warnings,
        relied_on_reserve=relied,
        filings=[filing_public(session, f, today=draft.today) for f in filings],
    )
    if relied:
        for answered in answer.lines:
            if any(p.kind == "reserve" for p in answered.allocations):
                answered.note = (
                    "项目包超预算: 优先使用实物储备 / over its package's budget: served from "
                    "physical reserve where possible (R7)"
                )
    request.answer = answer.model_dump_json()
    session.add(request)
    session.flush()
    return answer


def _request_cost(draft: _Draft, plan: Plan) -> Decimal:
    mine = set(draft.keys)
    return sum(
        (
            draft.problem.sources[a.source].unit_cost * int(a.quantity)
            for a in plan.allocations
            if a.demand in mine
        ),
        Decimal(0),
    )


def _budget(
    session: Session,
    draft: _Draft,
    plan: Plan,
    *,
    project: Project,
    now: datetime,
    user: str,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> tuple[list[BudgetWarning], tuple[Plan, int] | None, list[Filing]]:
    """The budget check before the promise (R7): warnings, the plan moved onto reserve and the
    quantity moved if the project is over its package's budget (None if not, or if no reserve
    was free), and the filings due for it."""
    if project.package_id is None:
        return [], None, []
    figures = package_figures(session=session, package_ids=[project.package_id])  # read once
    warnings = check_additions(figures, {project.id: _request_cost(draft, plan)})
    if not any(p.project_id == project.id for w in warnings for p in w.projects):
        return warnings, None, []
    moved, quantity = prefer_reserve(draft.problem, plan, draft.keys)
    if quantity:
        warnings = check_additions(figures, {project.id: _request_cost(draft, moved)})
    filings = record_filings(
        session=session,
        warnings=warnings,
        review_date=draft.today,
        now=now,
        by=user,
        calendar=calendar,
        policy=policy,
    )
    return warnings, (moved, quantity) if quantity else None, filings


def _line_answers(
    draft: _Draft,
    plan: Plan,
    given: dict[str, list[AllocationAnswer]],
    line_ids: dict[str, int],
    *,
    calendar: WorkCalendar,
) -> list[LineAnswer]:
    late = {entry.demand: entry for entry in plan.late}
    unmet = {entry.demand: entry for entry in plan.unmet}
    earliest = _earliest_arrivals(draft) if (late.keys() | unmet.keys()) & set(draft.keys) else {}
    answers = []
    for key in draft.keys:
        demand = draft.problem.demands[key]
        parts = given.get(key, [])
        short = int(unmet[key].quantity) if key in unmet else 0
        held = sum(p.quantity for p in parts if p.state == "held")
        arrival = max((p.arrival for p in parts), default=None)
        outcome, note = None, None
        if arrival is not None:
            try:
                outcome = outcome_if_arriving(draft.deadline, arrival, calendar=calendar)
            except CalendarError as exc:  # arriving in a year whose calendar is not loaded yet
                note = exc.message
        reason = None
        if key in unmet:
            reason = unmet[key].reason
        elif key in late:
            reason = late[key].reason
        answers.append(
            LineAnswer(
                line_no=draft.line_numbers[key],
                demand_line_id=line_ids[key],
                material_code=demand.material,
                quantity=demand.quantity,
                outcome="unmet"
                if short
                else "held"
                if held == demand.quantity
                else "promised"
                if held == 0
                else "partly_held",
                need_by=demand.need_by,
                deadline=draft.deadline.deadline,
                arrival=arrival,
                on_time=not short and arrival is not None and arrival <= demand.need_by,
                late_days=late[key].late_days if key in late else 0,
                earliest_completion=outcome.earliest_completion if outcome else None,
                meets_deadline=not short and outcome is not None and outcome.on_time,
                unmet_quantity=short,
                reason=reason,
                earliest_possible=earliest.get(key),
                note=note,
                allocations=parts,
            )
        )
    return answers


def _earliest_arrivals(draft: _Draft) -> dict[str, date]:
    """For each of the request's lines, the earliest arrival of any eligible source that has
    stock at all (what would be possible if no one else took it), by the engine's own rules."""
    instance = draft.problem.instance
    days = transport_days(instance)
    keys = set(draft.keys)
    earliest = {}
    for demand in instance.demands:
        if demand.id not in keys:
            continue
        arrivals = [
            arrival
            for s in instance.sources
            if s.quantity != 0 and (arrival := arrival_at(s, demand, days)) is not None
        ]
        if arrivals:
            earliest[demand.id] = min(arrivals)
    return earliest


def _request_or_raise(session: Session, request_id: int) -> SupplyRequest:
    found = session.get(SupplyRequest, request_id)
    if found is None:
        raise NotFound(
            f"紧急需求 {request_id} 不存在 / request {request_id} does not exist",
            loc=("request_id",),
        )
    return found


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
        session.commit()
        return RequestAnswer.model_validate_json(found.answer)
