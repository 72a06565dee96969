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
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from optimizer import Plan, solve
from optimizer.contract import Allocation
from supply.availability import (
    SupplyState,
    catalogued_materials,
    free_under_lock,
    load_supply,
)
from supply.calendar import CalendarError, WorkCalendar
from supply.commitments import Commitment, refresh_statuses, status_of
from supply.core.clock import local_today
from supply.core.db import insert_rows, write_session
from supply.core.errors import (
    Conflict,
    ConflictingInput,
    DomainError,
    InvalidInput,
    NotFound,
)
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.demand.queries import competing_demand, open_demand
from supply.demand.service import LineFacts, check_lines, line_facts, line_values
from supply.emergency import EmergencyCause, emergency_causes, emergency_materials
from supply.holds.models import (
    Hold,
    HoldStatus,
    Promise,
    PromiseStatus,
    StockKind,
)
from supply.holds.service import SYSTEM_USER, NewHold, expire_due_holds, hold_stock, release
from supply.labels import cause_label, emergency_cause_label
from supply.limits import (
    Refusal,
    dearest_prices,
    largest_quantities,
    refused_by_key,
    screen,
    solve_within_limits,
    with_refusals,
)
from supply.packages.budget import BudgetWarning, check_additions, package_figures
from supply.packages.filings import filing_public, record_filings
from supply.packages.models import Filing
from supply.planning import (
    DemandItem,
    MatchingProblem,
    SourceRef,
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
from supply.projects.service import (
    ProjectFacts,
    check_new_project,
    get_project_or_raise,
    project_facts,
)
from supply.requests.models import (
    AllocationAnswer,
    LineAnswer,
    RequestAnswer,
    SupplyRequest,
    SupplyRequestIn,
)
from supply.weekly.lines import unmet_cause

MAX_ATTEMPTS = 3  # two optimistic tries; a request whose stock moved twice is solved under lock
MAX_DEADLOCKS = 5  # a round the database chose as a deadlock's victim is tried again this often
HELD_KINDS = ("reserve", "consignment")  # sources whose stock a request holds (others: promised)


@dataclass(frozen=True)
class Ask:
    """One urgent request as it arrives: what is asked, its idempotency key, and who asks."""

    body: SupplyRequestIn
    idempotency_key: str | None = None
    user: str = "anonymous"

    @property
    def project_id(self) -> str:
        if self.body.project is not None:
            return self.body.project.id
        assert self.body.project_id is not None
        return self.body.project_id


Outcome = RequestAnswer | DomainError | Exception  # a fault (not the user's) is an Exception


@dataclass
class _Draft:
    """One request prepared for solving: its lines as demand."""

    index: int  # its place among the asks answered together
    ask: Ask
    fingerprint: str
    project: Project  # transient when the request creates it
    deadline: BuildDeadline
    items: list[DemandItem]
    line_numbers: dict[str, int]
    existing_lines: dict[str, int]  # key -> demand line id (asking for a project's open lines)

    @property
    def keys(self) -> list[str]:
        """The request's instance ids, in line order."""
        return [item.key for item in self.items]


@dataclass
class _Joint:
    """Requests answered together: one instance holding all their lines among the other open
    demand of their materials."""

    today: date
    batch: Batch
    drafts: list[_Draft]
    problem: MatchingProblem
    known: LineFacts  # what line checks read about the round's materials
    supply: SupplyState  # the supply of the round's materials, as the instance was built
    catalogued: frozenset[str]  # which of them a catalog serves (supply.availability)
    refused: list[Refusal] = field(default_factory=list)  # lines the planner cannot take

    @property
    def keys(self) -> list[str]:
        return [key for draft in self.drafts for key in draft.keys]


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
    outcomes: list[Outcome | None] = [None] * len(asks)
    prints = [fingerprint(ask.body) for ask in asks]
    r = _Round(asks, prints, outcomes, now, calendar, policy, settings)
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
        try:
            _answer_round(engine, r, round_)
        except Exception as exc:  # a fault: those it left unanswered get it, the rest stand
            for i in round_:
                if outcomes[i] is None:
                    outcomes[i] = exc
        todo = later
    answered = [outcome for outcome in outcomes if outcome is not None]
    assert len(answered) == len(asks)
    return answered


@dataclass
class _Round:
    """What every step of answering a round of requests needs."""

    asks: Sequence[Ask]
    prints: list[str]
    outcomes: list[Outcome | None]
    now: datetime
    calendar: WorkCalendar
    policy: DeadlinePolicy
    settings: Settings


def _answer_round(engine: Engine, r: _Round, live: list[int]) -> None:
    """Answer requests with distinct keys and projects: solve outside any transaction, then
    check and write in one. A request whose stock moved meanwhile (another process took it) is
    answered again; from the last try on, requests are prepared and solved inside the lock.

    The plan shares scarce supply among the round's requests; when one of them is not written
    as planned (answered meanwhile, refused, moved) what it was given is free again, so the
    requests after it are solved again rather than written with a share that is now too small.
    Each try under lock gives at least one request its outcome, so the tries end."""
    with Session(engine) as session:
        live = _replays(session, r, live)
    attempt = deadlocks = 0
    while live:
        inside_lock = attempt >= MAX_ATTEMPTS - 1
        attempt += 1
        prepared: tuple[_Joint, Plan] | None = None
        written: dict[int, Outcome] = {}
        moved: list[int] = []
        try:
            if not inside_lock:
                with Session(engine) as session:
                    prepared = _prepare_and_solve(session, r, live, lock=False)
                if prepared is None:
                    return
            with write_session(engine) as session:
                _lock_keys(session, {k for i in live if (k := r.asks[i].idempotency_key)})
                _lock_projects(session, {r.asks[i].project_id for i in live
                                         if r.asks[i].body.project is None})  # fmt: skip
                planned = live
                live = _replays(session, r, live)  # answered meanwhile by another process
                expire_due_holds(session, today=local_today(r.now), now=r.now)
                free: dict[tuple[str, object], int] | None = None
                if inside_lock:
                    prepared = _prepare_and_solve(session, r, live, lock=True)
                    if prepared is None:
                        return
                assert prepared is not None
                joint, plan = prepared
                # A request answered meanwhile gives back its share of the plan.
                stale = any(_scarce(joint, d, plan) for d in joint.drafts
                            if d.index in planned and d.index not in live)  # fmt: skip
                if not inside_lock:
                    joint.drafts = [d for d in joint.drafts if d.index in live]
                    free = free_under_lock(
                        session=session,
                        materials={item.material for d in joint.drafts for item in d.items},
                        order_day=joint.batch.province_match,
                    )
                written, moved = _write_round(session, r, joint, plan, free, stale=stale)
                session.commit()
        except _Unsolvable as exc:
            _alone(engine, r, exc.joint, exc.error)
            return
        except DBAPIError as exc:  # a PostgreSQL deadlock or serialisation failure: try again
            deadlocks += 1
            if (
                getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001")
                or deadlocks > MAX_DEADLOCKS
            ):
                raise
            continue
        for i, outcome in written.items():
            r.outcomes[i] = outcome
        live = moved


def _scarce(joint: _Joint, draft: _Draft, plan: Plan) -> bool:
    """Whether the plan gives the request anything another could use: stock or an agreement
    line's quantity (emergency procurement is not shared out)."""
    return any(
        joint.problem.sources[a.source].kind != "emergency" for a in _given(draft.keys, plan)
    )


def _changed_meanwhile(draft: _Draft, exc: IntegrityError) -> Conflict:
    """A unique key or reference that held when checked was broken by a concurrent writer."""
    project = draft.project.id
    return Conflict(
        f"项目 {project} 或其需求行刚被他人修改 / project {project} or its lines were changed by "
        f"someone else meanwhile ({type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}): "
        "look it up, then ask again",
        loc=("project", "id") if draft.ask.body.project is not None else ("project_id",),
    )


def _prepare_and_solve(
    session: Session, r: _Round, live: list[int], *, lock: bool
) -> tuple[_Joint, Plan] | None:
    """The round's instance and its plan (None if every request was refused); raises
    `_Unsolvable` if the instance cannot be matched."""
    joint = _prepare(session, r, live, lock=lock)
    if joint is None:
        return None
    try:
        return joint, _solve(joint)
    except InvalidInput as exc:
        raise _Unsolvable(joint, exc) from exc


def _alone(engine: Engine, r: _Round, joint: _Joint, exc: InvalidInput) -> None:
    """The joint instance cannot be matched: that is one request's error, so answer each
    request of it alone (one alone gets the error)."""
    if len(joint.drafts) == 1:
        r.outcomes[joint.drafts[0].index] = exc
        return
    for draft in joint.drafts:
        _answer_round(engine, r, [draft.index])


def _lock_projects(session: Session, project_ids: set[str]) -> None:
    """Lock the existing projects of a round (no one adds lines to them or closes them until
    this commits), sorted, before any stock row, so that two rounds never deadlock."""
    if project_ids:
        session.exec(
            select(Project.id)
            .where(col(Project.id).in_(sorted(project_ids)))
            .order_by(col(Project.id))
            .with_for_update()
        ).all()


def _lock_keys(session: Session, keys: Collection[str]) -> None:
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


class _Moved(Exception):
    """What the plan gives a request is no longer free: roll it back and solve it again."""


class _Unsolvable(Exception):
    """The round's instance cannot be matched (its requests are then answered one by one)."""

    def __init__(self, joint: _Joint, error: InvalidInput) -> None:
        super().__init__(error.message)
        self.joint = joint
        self.error = error


def _replays(session: Session, r: _Round, live: list[int]) -> list[int]:
    """Answer the requests whose key was answered already (with that answer, or a 422 if the
    body differs); return the others."""
    keys = {r.asks[i].idempotency_key for i in live} - {None}
    if not keys:
        return live
    found = {
        row.idempotency_key: row
        for row in session.exec(
            select(SupplyRequest).where(col(SupplyRequest.idempotency_key).in_(sorted(keys)))  # type: ignore[type-var]
        )
    }
    rest = []
    for i in live:
        row = found.get(r.asks[i].idempotency_key or "")
        if row is None:
            rest.append(i)
        elif row.fingerprint != r.prints[i]:
            r.outcomes[i] = InvalidInput(
                "此幂等键已用于另一个请求 / this Idempotency-Key was used for a different "
                "request: use a new key for a new request",
                loc=("header", "Idempotency-Key"),
            )
        else:
            r.outcomes[i] = RequestAnswer.model_validate_json(row.answer).model_copy(
                update={"replayed": True}
            )
    return rest


# --- prepare ----------------------------------------------------------------------------------


def _prepare(session: Session, r: _Round, live: list[int], *, lock: bool) -> _Joint | None:
    """Check each request (a refused one gets its error) and build one instance for the rest:
    their lines, the supply of their materials, and the other open demand competing for it."""
    today = local_today(r.now)
    batch = batch_for(r.now, calendar=r.calendar, policy=r.policy)
    known = line_facts(
        session=session,
        today=today,
        codes={line.material_code for i in live for line in r.asks[i].body.lines},
    )
    new = [project.id for i in live if (project := r.asks[i].body.project) is not None]
    projects = project_facts(session=session, ids=new) if new else None
    drafts = []
    for i in live:
        try:
            drafts.append(_draft(session, r, i, today=today, known=known, projects=projects))
        except DomainError as exc:
            r.outcomes[i] = exc
    if not drafts:
        return None
    items = [item for draft in drafts for item in draft.items]
    wanted = {item.material for item in items}
    supply = load_supply(
        session=session,
        today=today,
        order_day=batch.province_match,
        central_warehouse=r.settings.default_delivery_warehouse,
        lock=lock,
        materials=wanted,
    )
    # The other open demand that competes with the requests: lines of the same materials needed
    # no later than the requests' own, summed where the engine cannot tell them apart. Lines
    # needed later have more time for agreement stock and emergency procurement, and the weekly
    # run plans them; leaving them out keeps the instance small. A line the planner refuses
    # (supply.limits: the same rule as the weekly run) competes with no one.
    dearest = dearest_prices(session, wanted)
    others = competing_demand(
        session,
        cutoff=r.now,
        materials=wanted,
        need_by_until=max(item.need_by for item in items),
        today=today,
        largest=largest_quantities(dearest, wanted),
        except_projects={d.project.id for d in drafts if d.existing_lines},
    )
    mine = {item.key for item in items}  # a line added meanwhile may bear a new line's key
    others = [replace(d, key=f"{d.key}(open)") if d.key in mine else d for d in others]
    penalty = r6_penalty(supply, wanted, r.settings.reserve_below_quota_penalty)
    # A line the planner cannot take is answered unmet with the reason (supply.limits).
    items, refused = screen(items, dearest)
    # The line checks read which of the lines' materials a catalog serves; an existing project's
    # outstanding lines may bring others.
    catalogued = known[1] | catalogued_materials(
        session=session, today=today, among=wanted - known[0].keys()
    )
    problem = build_instance(
        demands=items + others,
        supply=supply,
        plan_date=today,
        order_day=batch.province_match,
        penalty=penalty,
        emergency_for=emergency_materials(
            wanted, catalogued, for_catalog_materials=r.settings.emergency_for_catalog_materials
        ),
    )
    problem.demands.update(refused_by_key(refused))
    return _Joint(
        today=today,
        batch=batch,
        drafts=drafts,
        problem=problem,
        known=known,
        supply=supply,
        catalogued=catalogued,
        refused=refused,
    )


def _draft(
    session: Session,
    r: _Round,
    index: int,
    *,
    today: date,
    known: LineFacts,
    projects: ProjectFacts | None,
) -> _Draft:
    """Check one request: its project (existing, or new and creatable) and its lines."""
    ask = r.asks[index]
    body = ask.body
    if body.project is not None:
        derived = check_new_project(
            session=session,
            project=body.project,
            calendar=r.calendar,
            policy=r.policy,
            known=projects,
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
            known=known,
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
                    listed=line.feasibility_listed,
                )
            )
    else:
        if project.status != ProjectStatus.ACTIVE:
            raise ConflictingInput(
                f"项目 {project.id} 状态为 {project.status} / project {project.id} is "
                f"{project.status}: nothing can be requested for it",
                loc=("project_id",),
            )
        items = open_demand(session, cutoff=r.now, project_id=project.id)
        if not items:
            raise ConflictingInput(
                f"项目 {project.id} 没有待供应的需求行 / project {project.id} has no outstanding "
                "lines: add lines to the request",
                loc=("lines",),
            )
        for item in items:
            assert item.demand_line_id is not None
            existing[item.key] = item.demand_line_id
            line_numbers[item.key] = int(item.key.rsplit("/", 1)[1])
    deadline = build_deadline(
        project.project_type,
        approved=project.approved_on,
        completion=project.completion_date,
        calendar=r.calendar,
        policy=r.policy,
    )
    return _Draft(
        index=index,
        ask=ask,
        fingerprint=r.prints[index],
        project=project,
        deadline=deadline,
        items=items,
        line_numbers=line_numbers,
        existing_lines=existing,
    )


def r6_penalty(supply: SupplyState, materials: set[str], base: Decimal) -> Decimal:
    """A below-quota penalty no agreement price difference can outweigh (R6)."""
    dearer = [
        a.unit_price - supply.materials[a.material].standard_price
        for a in supply.agreements
        if a.material in materials
    ]
    return max([base, *(d + 1 for d in dearer)])


def _solve(joint: _Joint) -> Plan:
    """Solve the instance, explaining only the requests' own lines.

    The plan is not put through the independent checker here, unlike the weekly run's: the
    engine is checked against it in the test suite, and what matters for a promise — that every
    held or promised quantity is really free — is checked again under lock before it is written.

    A material the engine cannot plan exactly (supply.limits.solve_within_limits) leaves the
    instance: the requests' lines of it are refused with the reason (`joint.refused`), the other
    demand of it is left out.
    """
    keys = joint.keys
    joint.problem, plan, too_big = solve_within_limits(
        joint.problem, lambda instance: solve(instance, explain_only=keys), lines=set(keys)
    )
    joint.refused += too_big
    if plan.status == "invalid":
        raise InvalidInput(
            "无法建立匹配实例 / the request cannot be matched: "
            + "; ".join(f"{e.id} {e.field}: {e.message}" for e in plan.errors[:5]),
            loc=("lines",),
        )
    return with_refusals(plan, joint.refused)


# --- check and write ----------------------------------------------------------------------------


def _given(keys: Collection[str], plan: Plan) -> list[Allocation]:
    mine = set(keys)
    return [a for a in plan.allocations if a.demand in mine]


def _take(
    session: Session,
    r: _Round,
    joint: _Joint,
    draft: _Draft,
    given: list[Allocation],
    free: dict[tuple[str, object], int],
) -> dict[tuple[str, object], int]:
    """What the plan gives the request, by place, if it is all in what is free under lock (read
    once for the round, less what the requests written before it took), else raise `_Moved`;
    and check that each existing line is still as outstanding as it was."""
    wanted: dict[tuple[str, object], int] = defaultdict(int)
    for a in given:
        ref = joint.problem.sources[a.source]
        if ref.kind == "emergency":
            continue
        where: object = {
            "reserve": (ref.warehouse_id, ref.material),
            "consignment": ref.consignment_id,
            "agreement": ref.agreement_line_id,
        }[ref.kind]
        wanted[ref.kind, where] += int(a.quantity)
    if any(free.get(place, 0) < quantity for place, quantity in wanted.items()):
        raise _Moved
    if draft.existing_lines:
        again = open_demand(session, cutoff=r.now, project_id=draft.project.id)
        now_outstanding = {d.key: d.quantity for d in again}
        if any(now_outstanding.get(item.key, 0) != item.quantity for item in draft.items):
            raise _Moved
    return wanted


@dataclass
class _Entry:
    """A request checked under lock and ready to be written."""

    draft: _Draft
    project: Project
    plan: Plan  # the round's plan as it stands after this request (moved onto reserve for R7)
    allocations: list[Allocation]
    refs: list[SourceRef]
    taken: dict[tuple[str, object], int]  # of the round's `free` stock
    warnings: list[BudgetWarning]
    relied: int
    filings: list[Filing]


def _refusal(draft: _Draft, exc: Exception) -> Outcome:
    """The outcome of a request whose check or write raised `exc` (re-raised if it is the whole
    transaction's: a database error other than a broken key, such as a deadlock, is tried again
    for the round)."""
    if isinstance(exc, IntegrityError):  # a row written meanwhile by someone else
        return _changed_meanwhile(draft, exc)
    if isinstance(exc, DBAPIError):
        raise exc
    return exc  # its refusal (a DomainError), or a fault in this request only


def _writes_nothing_first(draft: _Draft) -> bool:
    """A request creating a project outside any package writes nothing before its check passes:
    such requests are written together, one statement per table."""
    return draft.ask.body.project is not None and draft.project.package_id is None


def _write_round(
    session: Session,
    r: _Round,
    joint: _Joint,
    plan: Plan,
    free: dict[tuple[str, object], int] | None,
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
    together: list[_Entry] = []
    for draft in joint.drafts:
        if stale:  # solved again, with what the requests before it gave back
            moved.append(draft.index)
            continue
        alone = not _writes_nothing_first(draft)
        try:
            if alone:
                with session.begin_nested():
                    entry = _check(session, r, joint, draft, plan, free)
                    (answer,) = _store(session, r, joint, [entry])
                written[draft.index] = answer
            else:
                entry = _check(session, r, joint, draft, plan, free)  # reads only
                together.append(entry)
        except _Moved:
            moved.append(draft.index)
        except Exception as exc:
            written[draft.index] = _refusal(draft, exc)
        else:
            plan = entry.plan
            if free is not None:
                for place, quantity in entry.taken.items():
                    free[place] -= quantity
            continue
        stale = _scarce(joint, draft, plan)  # not written: its share is free again
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
            gave_back = _scarce(joint, entry.draft, entry.plan)
    return written, moved


def _check(
    session: Session,
    r: _Round,
    joint: _Joint,
    draft: _Draft,
    plan: Plan,
    free: dict[tuple[str, object], int] | None,
) -> _Entry:
    """Check one request under lock before it is written: its existing project still active
    (locked), the package budget (R7: an over-budget project relies on reserve the plan left
    free), and, for a plan solved outside the lock, that everything it gives is still `free`
    (else `_Moved`). A new project in a package is written first, so that its package's figures
    count it; otherwise nothing is written here."""
    body = draft.ask.body
    project = draft.project
    if body.project is not None:
        if not _writes_nothing_first(draft):
            _insert_projects(session, r, [draft])
    else:  # read again: the round locked it (`_lock_projects`), so it stays as read
        project = session.exec(select(Project).where(Project.id == draft.project.id)).one()
        if project.status != ProjectStatus.ACTIVE:
            raise Conflict(
                f"项目 {project.id} 已{project.status} / project {project.id} is {project.status}",
                loc=("project_id",),
            )
    warnings, moved, filings = _budget(session, r, joint, draft, plan, project=project)
    plan, relied = moved if moved else (plan, 0)
    allocations = _given(draft.keys, plan)
    taken = {} if free is None else _take(session, r, joint, draft, allocations, free)
    if body.lines and body.project is None:
        # Numbered again under the project's lock: another request may have added lines since.
        numbers = check_lines(session=session, project=project, lines=body.lines,
                              today=joint.today, known=joint.known)  # fmt: skip
        draft.line_numbers.update(zip(draft.keys, numbers, strict=True))
    return _Entry(
        draft=draft,
        project=project,
        plan=plan,
        allocations=allocations,
        refs=[joint.problem.sources[a.source] for a in allocations],
        taken=taken,
        warnings=warnings,
        relied=relied,
        filings=filings,
    )


def _insert_projects(session: Session, r: _Round, drafts: Sequence[_Draft]) -> None:
    if drafts:
        session.connection().execute(
            insert(Project.__table__),  # type: ignore[attr-defined]
            [{**d.project.model_dump(), "created_at": r.now, "created_by": d.ask.user[:100],
              "updated_at": r.now} for d in drafts],
        )  # fmt: skip


def _store(
    session: Session, r: _Round, joint: _Joint, entries: Sequence[_Entry]
) -> list[RequestAnswer]:
    """Write checked requests — their new projects, lines, requests, holds and promises, one
    statement per table for all of them — and return their answers, in order.

    Rows are inserted without ORM objects: this is the hot path of the service. A project
    created meanwhile by someone else fails on its key (IntegrityError).
    """
    now = r.now
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
            e.project.id, e.draft.line_numbers[key], line, now=now, user=e.draft.ask.user,
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
    causes = _emergency_causes(joint, entries)
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
    for e, request_id in zip(entries, request_ids, strict=True):
        mine = {key: line_ids[key] for key in e.draft.keys}
        if not e.draft.ask.body.lines:
            refresh_statuses(session, mine.values())
        answers.append(_answer(session, r, joint, e, request_id, mine, expires,
                               hold_ids, promise_ids, causes))  # fmt: skip
    session.connection().execute(
        update(SupplyRequest.__table__)  # type: ignore[attr-defined]
        .where(SupplyRequest.__table__.c.id == bindparam("request_id"))  # type: ignore[attr-defined]
        .values(answer=bindparam("answer")),
        [{"request_id": a.request_id, "answer": a.model_dump_json()} for a in answers],
    )
    return answers


def _answer(
    session: Session,
    r: _Round,
    joint: _Joint,
    e: _Entry,
    request_id: int,
    line_ids: dict[str, int],
    expires: date,
    hold_ids: Iterator[int],
    promise_ids: Iterator[int],
    causes: dict[tuple[str, str], EmergencyCause],
) -> RequestAnswer:
    """The answer to a written request (taking its holds' and promises' ids in order)."""
    given: dict[str, list[AllocationAnswer]] = defaultdict(list)
    for a, ref in zip(e.allocations, e.refs, strict=True):
        kept = ref.kind in HELD_KINDS
        cause = causes.get((a.demand, a.source))
        part = AllocationAnswer(
            kind=ref.kind,  # type: ignore[arg-type]
            source_id=a.source,
            state="held" if kept else "promised",
            quantity=int(a.quantity),
            arrival=a.arrival,
            unit_cost=ref.unit_cost,
            warehouse_id=ref.warehouse_id,
            supplier=ref.supplier,
            consignment_id=ref.consignment_id,
            hold_id=next(hold_ids) if kept else None,
            promise_id=None if kept else next(promise_ids),
            expires_on=expires if kept else None,
            emergency_cause=cause,
            emergency_cause_zh=emergency_cause_label(cause) or None,
        )
        if ref.agreement_line_id is not None:
            no, line_no = a.source.removeprefix("A:").rsplit("/", 1)
            part.agreement_no, part.agreement_line_no = no, int(line_no)
        given[a.demand].append(part)
    answer = RequestAnswer(
        request_id=request_id,
        project_id=e.project.id,
        project_created=e.draft.ask.body.project is not None,
        batch_id=joint.batch.id,
        province_match_on=joint.batch.province_match,
        answered_at=r.now,
        answered_by=e.draft.ask.user[:100],
        lines=_line_answers(
            joint,
            e.draft,
            e.plan,
            given,
            line_ids,
            calendar=r.calendar,
            emergency_off=not r.settings.emergency_for_catalog_materials,
        ),
        budget_warnings=e.warnings,
        relied_on_reserve=e.relied,
        filings=[filing_public(session, f, today=joint.today) for f in e.filings],
    )
    if e.relied:
        for answered in answer.lines:
            if any(p.kind == "reserve" for p in answered.allocations):
                answered.note = (
                    "项目包超预算: 优先使用实物储备 / over its package's budget: served from "
                    "physical reserve where possible (R7)"
                )
    return answer


def _emergency_causes(
    joint: _Joint, entries: Sequence[_Entry]
) -> dict[tuple[str, str], EmergencyCause]:
    """Why each emergency allocation of the written requests is bought in an emergency."""
    causes: dict[tuple[str, str], EmergencyCause] = {}
    for e in entries:
        if any(ref.kind == "emergency" for ref in e.refs):
            causes.update(
                emergency_causes(
                    joint.problem, e.plan, joint.supply, joint.catalogued, only=set(e.draft.keys)
                )
            )
    return causes


def _request_cost(joint: _Joint, draft: _Draft, plan: Plan) -> Decimal:
    return sum(
        (
            joint.problem.sources[a.source].unit_cost * int(a.quantity)
            for a in _given(draft.keys, plan)
        ),
        Decimal(0),
    )


def _budget(
    session: Session, r: _Round, joint: _Joint, draft: _Draft, plan: Plan, *, project: Project
) -> tuple[list[BudgetWarning], tuple[Plan, int] | None, list[Filing]]:
    """The budget check before the promise (R7): warnings, the plan moved onto reserve and the
    quantity moved if the project is over its package's budget (None if not, or if no reserve
    was free), and the filings due for it. Requests written before it in this round are in the
    package's figures already (they are flushed in this transaction)."""
    if project.package_id is None:
        return [], None, []
    figures = package_figures(session=session, package_ids=[project.package_id])  # read once
    warnings = check_additions(figures, {project.id: _request_cost(joint, draft, plan)})
    if not any(p.project_id == project.id for w in warnings for p in w.projects):
        return warnings, None, []
    moved, quantity = prefer_reserve(joint.problem, plan, draft.keys)
    if quantity:
        warnings = check_additions(figures, {project.id: _request_cost(joint, draft, moved)})
    filings = record_filings(
        session=session,
        warnings=warnings,
        review_date=joint.today,
        now=r.now,
        by=draft.ask.user,
        calendar=r.calendar,
        policy=r.policy,
    )
    return warnings, (moved, quantity) if quantity else None, filings


def _line_answers(
    joint: _Joint,
    draft: _Draft,
    plan: Plan,
    given: dict[str, list[AllocationAnswer]],
    line_ids: dict[str, int],
    *,
    calendar: WorkCalendar,
    emergency_off: bool = False,
) -> list[LineAnswer]:
    late = {entry.demand: entry for entry in plan.late}
    switched_off = joint.catalogued if emergency_off else frozenset()
    refused = {r.item.key for r in joint.refused}
    unmet = {entry.demand: entry for entry in plan.unmet}
    keys = draft.keys
    earliest = _earliest_arrivals(joint, keys) if (late.keys() | unmet.keys()) & set(keys) else {}
    answers = []
    for key in keys:
        demand = joint.problem.demands[key]
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
        reason, reason_zh, cause = None, None, None
        if key in unmet:
            cause, reason, reason_zh = unmet_cause(
                unmet[key], joint.problem, joint.supply, refused=refused, switched_off=switched_off
            )
        elif key in late:
            reason, reason_zh, cause = late[key].reason, late[key].reason_zh, late[key].cause
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
                reason_zh=reason_zh or None,
                cause=cause or None,
                cause_zh=cause_label(cause) or None,
                earliest_possible=earliest.get(key),
                note=note,
                allocations=parts,
            )
        )
    return answers


def _earliest_arrivals(joint: _Joint, keys: Collection[str]) -> dict[str, date]:
    """For each of a request's lines, the earliest arrival of any eligible source that has
    stock at all (what would be possible if no one else took it), by the engine's own rules."""
    instance = joint.problem.instance
    days = transport_days(instance)
    earliest = {}
    refused = {r.item.key for r in joint.refused}
    for key in keys:
        if key in refused:  # not in the instance: the planner could not take it
            continue
        demand = joint.problem.instance_demand(key)
        arrivals = [
            arrival
            for s in joint.problem.sources_of(demand.material)
            if s.quantity != 0 and (arrival := arrival_at(s, demand, days)) is not None
        ]
        if arrivals:
            earliest[key] = min(arrivals)
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
