"""The answer to a written request: per line where each part comes from (held or promised, with
its hold's or promise's id), when it arrives, whether that meets the need-by and the build
deadline, and if not why and the earliest possible; why emergency supply is bought in an
emergency; and the request's budget warnings and filings (R7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import date

from sqlmodel import Session

from supply.calendar import CalendarError, WorkCalendar
from supply.emergency import EmergencyCause, emergency_causes
from supply.labels import cause_label, emergency_cause_label
from supply.packages.filings import filing_public
from supply.packages.models import Filing
from supply.planning import arrival_at, transport_days
from supply.policy import outcome_if_arriving
from supply.requests.asks import Round
from supply.requests.check import Entry
from supply.requests.models import AllocationAnswer, LineAnswer, RequestAnswer
from supply.requests.prepare import Joint
from supply.weekly.lines import unmet_cause

HELD_KINDS = ("reserve", "consignment")  # sources whose stock a request holds (others: promised)


def emergency_causes_of(
    joint: Joint, entries: Sequence[Entry]
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


def answer(
    session: Session,
    r: Round,
    joint: Joint,
    e: Entry,
    request_id: int,
    line_ids: dict[str, int],
    expires: date,
    hold_ids: Iterator[int],
    promise_ids: Iterator[int],
    causes: dict[tuple[str, str], EmergencyCause],
    filings: list[Filing],
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
            e,
            given,
            line_ids,
            calendar=r.calendar,
            emergency_off=not r.settings.emergency_for_catalog_materials,
        ),
        budget_warnings=e.budget.warnings,
        relied_on_reserve=e.budget.relied,
        filings=[filing_public(session, f, today=joint.today) for f in filings],
    )
    if e.budget.relied:
        for answered in answer.lines:
            if any(p.kind == "reserve" for p in answered.allocations):
                answered.note = (
                    "项目包超预算: 优先使用实物储备 / over its package's budget: served from "
                    "physical reserve where possible (R7)"
                )
    return answer


def _line_answers(
    joint: Joint,
    e: Entry,
    given: dict[str, list[AllocationAnswer]],
    line_ids: dict[str, int],
    *,
    calendar: WorkCalendar,
    emergency_off: bool = False,
) -> list[LineAnswer]:
    draft, plan = e.draft, e.plan
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
                line_no=e.line_numbers[key],
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


def _earliest_arrivals(joint: Joint, keys: Collection[str]) -> dict[str, date]:
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
