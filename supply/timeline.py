"""A project's supply timeline: for each demand line, where its quantity comes from and when each
part arrives, against the line's need-by and the project's build deadline; and which projects
are at risk (a part late or without a source), so that lists can put them first.

The parts of a line:
- stock held or issued for it (reserve, consignment) — by a weekly plan (arriving as that plan
  said) or an urgent request (as its answer said);
- agreement or emergency supply promised by an urgent request (arriving on the promise's date);
- agreement or emergency supply in an approved weekly plan (re-dated by the province's matching);
- what a draft plan would give it, marked as a draft (not yet approved);
- quantity the latest plan found no source for (unmet).
Released holds and cancelled promises are gone from the timeline; a line's quantity with no
part at all is *open*: the next weekly run plans it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, or_, select

from supply.demand.models import DemandLine, DemandLinePublic, DemandStatus
from supply.demand.service import project_lines
from supply.holds.models import Hold, HoldStatus, Promise, PromiseStatus
from supply.projects.models import Project
from supply.projects.service import get_project_or_raise
from supply.requests.models import RequestAnswer, SupplyRequest
from supply.weekly.models import LineKind, PlanLine, PlanRun, RunStatus


class PartState(StrEnum):
    ISSUED = "issued"  # 已出库
    HELD = "held"  # 已保留
    PROMISED = "promised"  # 已承诺 (urgent request)
    FULFILLED = "fulfilled"  # 已到货
    PLANNED = "planned"  # 已批准计划
    DRAFT = "draft"  # 计划草稿
    UNMET = "unmet"  # 无来源


PART_STATE_ZH = {
    PartState.ISSUED: "已出库",
    PartState.HELD: "已保留",
    PartState.PROMISED: "已承诺",
    PartState.FULFILLED: "已到货",
    PartState.PLANNED: "已批准计划",
    PartState.DRAFT: "计划草稿",
    PartState.UNMET: "无来源",
}


class Verdict(StrEnum):
    ON_TIME = "on_time"  # every part by need-by
    LATE = "late"  # a part after need-by
    UNMET = "unmet"  # some quantity without a source
    OPEN = "open"  # some quantity not yet planned
    CLOSED = "closed"  # cancelled


VERDICT_ZH = {
    Verdict.ON_TIME: "按时",
    Verdict.LATE: "延迟",
    Verdict.UNMET: "无来源",
    Verdict.OPEN: "待计划",
    Verdict.CLOSED: "已取消",
}


@dataclass(frozen=True)
class SupplyPart:
    """Part of a line's quantity, where it comes from and when it arrives."""

    state: PartState
    kind: str  # reserve, consignment, agreement, emergency, unmet
    quantity: int
    arrival: date | None
    warehouse_id: str | None
    reference: str  # 批次 2026-W49 / 紧急需求 12


@dataclass(frozen=True)
class LineTimeline:
    line: DemandLinePublic
    parts: list[SupplyPart]

    @property
    def sourced(self) -> int:
        return sum(p.quantity for p in self.parts if p.state != PartState.UNMET)

    @property
    def unmet(self) -> int:
        return sum(p.quantity for p in self.parts if p.state == PartState.UNMET)

    @property
    def open(self) -> int:
        return max(0, self.line.quantity - self.sourced - self.unmet)

    @property
    def arrival(self) -> date | None:
        """When the last sourced part arrives (None when nothing is sourced)."""
        days = [p.arrival for p in self.parts if p.arrival and p.state != PartState.UNMET]
        return max(days) if days else None

    @property
    def late_days(self) -> int:
        return max(0, (self.arrival - self.line.need_by).days) if self.arrival else 0

    @property
    def verdict(self) -> Verdict:
        if self.line.status == DemandStatus.CANCELLED:
            return Verdict.CLOSED
        if self.unmet:
            return Verdict.UNMET
        if self.late_days:
            return Verdict.LATE
        if self.open:
            return Verdict.OPEN
        return Verdict.ON_TIME


@dataclass(frozen=True)
class ProjectTimeline:
    project_id: str
    approved_on: date
    need_by: date
    deadline: date
    lines: list[LineTimeline] = field(default_factory=list)

    @property
    def latest_arrival(self) -> date | None:
        days = [line.arrival for line in self.lines if line.arrival]
        return max(days) if days else None

    @property
    def at_risk(self) -> bool:
        return any(line.verdict in (Verdict.LATE, Verdict.UNMET) for line in self.lines)

    @property
    def beyond_deadline(self) -> bool:
        return self.latest_arrival is not None and self.latest_arrival > self.deadline

    def chart(self) -> dict[str, Any]:
        """The timeline as the page's chart draws it: per line, its need-by and each sourced
        part's arrival (ISO dates), with the project's need-by and deadline as marks."""
        return {
            "lines": [
                {
                    "label": f"{line.line.line_no} {line.line.material_code}",
                    "need_by": line.line.need_by.isoformat(),
                    "arrival": line.arrival.isoformat() if line.arrival else None,
                    "verdict": line.verdict.value,
                    "parts": [
                        {
                            "arrival": p.arrival.isoformat(),
                            "quantity": p.quantity,
                            "state": p.state.value,
                            "kind": p.kind,
                        }
                        for p in line.parts
                        if p.arrival and p.state != PartState.UNMET
                    ],
                }
                for line in self.lines
                if line.verdict != Verdict.CLOSED
            ],
            "approved_on": self.approved_on.isoformat(),
            "need_by": self.need_by.isoformat(),
            "deadline": self.deadline.isoformat(),
        }


HOLD_STATE = {HoldStatus.HELD: PartState.HELD, HoldStatus.ISSUED: PartState.ISSUED}
PROMISE_STATE = {
    PromiseStatus.PROMISED: PartState.PROMISED,
    PromiseStatus.FULFILLED: PartState.FULFILLED,
}
STOCK_KINDS = (LineKind.RESERVE, LineKind.CONSIGNMENT)


def project_timeline(*, session: Session, project_id: str) -> ProjectTimeline:
    """The project's lines, each with its parts (NotFound for no such project)."""
    project = get_project_or_raise(session=session, project_id=project_id)
    lines = project_lines(session=session, project=project)
    parts: dict[int, list[SupplyPart]] = defaultdict(list)
    ids = [line.id for line in lines]
    _plan_parts(session, ids, parts)
    _request_parts(session, project, parts)
    return ProjectTimeline(
        project_id=project.id,
        approved_on=project.approved_on,
        need_by=project.need_by,
        deadline=project.deadline,
        lines=[LineTimeline(line, parts.get(line.id, [])) for line in lines],
    )


def _plan_parts(session: Session, ids: list[int], parts: dict[int, list[SupplyPart]]) -> None:
    """Parts from live weekly runs: approved plans (stock as far as its holds still stand), a
    draft's, and the unmet rest of the latest run that planned the line."""
    rows = session.exec(
        select(PlanLine, PlanRun)
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(col(PlanLine.demand_line_id).in_(ids), PlanRun.status != RunStatus.SUPERSEDED)
        .order_by(col(PlanLine.id))
    ).all()
    standing = _standing_plan_holds(session, ids)
    latest: dict[int, int] = {}
    for line, run in rows:
        latest[line.demand_line_id or 0] = max(latest.get(line.demand_line_id or 0, 0), run.id or 0)
    for line, run in rows:
        demand_id = line.demand_line_id or 0
        reference = f"批次 {run.batch_id}"
        if line.kind == LineKind.UNMET:
            if run.id == latest[demand_id]:
                parts[demand_id].append(
                    SupplyPart(PartState.UNMET, line.kind, line.quantity, None, None, reference)
                )
            continue
        if run.status == RunStatus.DRAFT:
            state = PartState.DRAFT
        elif line.kind in STOCK_KINDS:
            hold_state = standing.get((run.id or 0, demand_id, line.kind))
            if hold_state is None:  # released: no longer part of the line's supply
                continue
            state = hold_state
        else:
            state = PartState.PLANNED
        parts[demand_id].append(
            SupplyPart(state, line.kind, line.quantity, line.arrival, line.warehouse_id, reference)
        )


def _standing_plan_holds(session: Session, ids: list[int]) -> dict[tuple[int, int, str], PartState]:
    """(run, line, stock kind) → held or issued, for the holds approved plans made that stand."""
    holds = session.exec(
        select(Hold).where(
            col(Hold.demand_line_id).in_(ids),
            col(Hold.plan_run_id).is_not(None),
            col(Hold.status).in_([HoldStatus.HELD, HoldStatus.ISSUED]),
        )
    ).all()
    found: dict[tuple[int, int, str], PartState] = {}
    for hold in holds:
        key = (hold.plan_run_id or 0, hold.demand_line_id, hold.stock_kind)
        state = HOLD_STATE[HoldStatus(hold.status)]
        if found.get(key) != PartState.HELD:  # one still held: the part is not all issued
            found[key] = state
    return found


def _request_parts(session: Session, project: Project, parts: dict[int, list[SupplyPart]]) -> None:
    """Parts from urgent requests' answers: their holds and promises that still stand."""
    requests = session.exec(
        select(SupplyRequest).where(SupplyRequest.project_id == project.id)
    ).all()
    answers = [RequestAnswer.model_validate_json(r.answer) for r in requests]
    hold_ids = [
        a.hold_id for x in answers for line in x.lines for a in line.allocations if a.hold_id
    ]
    promise_ids = [
        a.promise_id for x in answers for line in x.lines for a in line.allocations if a.promise_id
    ]
    holds = {
        h.id: h for h in session.exec(select(Hold).where(col(Hold.id).in_(hold_ids)))
    } if hold_ids else {}  # fmt: skip
    promises = {
        p.id: p for p in session.exec(select(Promise).where(col(Promise.id).in_(promise_ids)))
    } if promise_ids else {}  # fmt: skip
    for answer in answers:
        reference = f"紧急需求 {answer.request_id}"
        for line in answer.lines:
            for part in line.allocations:
                state: PartState | None = None
                arrival = part.arrival
                if part.hold_id is not None and part.hold_id in holds:
                    state = HOLD_STATE.get(HoldStatus(holds[part.hold_id].status))
                elif part.promise_id is not None and part.promise_id in promises:
                    promise = promises[part.promise_id]
                    state = PROMISE_STATE.get(PromiseStatus(promise.status))
                    arrival = promise.arrival
                if state is not None:
                    parts[line.demand_line_id].append(
                        SupplyPart(
                            state, part.kind, part.quantity, arrival, part.warehouse_id, reference
                        )
                    )


def at_risk_projects() -> Any:
    """A subquery of the ids of projects at risk: a part of a live plan late or without a
    source, or a standing promise after its line's need-by — for lists that show them first."""
    planned = (
        select(PlanLine.project_id)
        .join(PlanRun, col(PlanRun.id) == PlanLine.run_id)
        .where(
            PlanRun.status != RunStatus.SUPERSEDED,
            col(PlanLine.project_id).is_not(None),
            or_(col(PlanLine.late_days) > 0, PlanLine.kind == LineKind.UNMET),
        )
    )
    promised = (
        select(DemandLine.project_id)
        .join(Promise, col(Promise.demand_line_id) == DemandLine.id)
        .join(Project, col(Project.id) == DemandLine.project_id)
        .where(
            Promise.status == PromiseStatus.PROMISED,
            col(Promise.arrival) > func.coalesce(DemandLine.need_by_override, Project.need_by),
        )
    )
    return planned.union(promised)


def at_risk_among(session: Session, project_ids: Collection[str]) -> set[str]:
    """Which of `project_ids` are at risk (as `at_risk_projects`)."""
    if not project_ids:
        return set()
    risky = at_risk_projects().subquery()
    column = risky.c.project_id
    return set(session.exec(select(column).where(column.in_(list(project_ids)))).all())


class SupplyPartPublic(BaseModel):
    """Part of a line's quantity: where it stands, where it comes from, when it arrives."""

    state: PartState = Field(
        description="issued 已出库, held 已保留, promised 已承诺, fulfilled 已到货, planned 已批准计划, "
        "draft 计划草稿, unmet 无来源"
    )
    kind: str = Field(description="reserve, consignment, agreement, emergency, or unmet")
    quantity: int
    arrival: date | None = Field(description="到货日期 / arrival at the site")
    warehouse_id: str | None
    reference: str = Field(description="来自 / from: 批次 2026-W49, 紧急需求 12")


class LineTimelinePublic(BaseModel):
    line: DemandLinePublic
    parts: list[SupplyPartPublic]
    open: int = Field(description="待计划数量 / quantity with no part yet")
    unmet: int = Field(description="无来源数量 / quantity the latest plan found no source for")
    arrival: date | None = Field(description="最晚一批到货 / when the last sourced part arrives")
    late_days: int = Field(description="晚于需到货日的天数 / days after need-by")
    verdict: Verdict = Field(description="on_time, late, unmet, open, closed")


class ProjectTimelinePublic(BaseModel):
    """A project's lines with their sources and arrivals, against need-by and the deadline."""

    project_id: str
    approved_on: date
    need_by: date
    deadline: date
    latest_arrival: date | None
    at_risk: bool = Field(description="有供应风险 / a line late or without a source")
    beyond_deadline: bool = Field(description="最晚到货晚于建设期限 / arrives after the deadline")
    lines: list[LineTimelinePublic]


def timeline_public(timeline: ProjectTimeline) -> ProjectTimelinePublic:
    """The timeline as the API answers it."""
    return ProjectTimelinePublic(
        project_id=timeline.project_id, approved_on=timeline.approved_on,
        need_by=timeline.need_by, deadline=timeline.deadline,
        latest_arrival=timeline.latest_arrival, at_risk=timeline.at_risk,
        beyond_deadline=timeline.beyond_deadline,
        lines=[
            LineTimelinePublic(
                line=line.line,
                parts=[SupplyPartPublic(**vars(part)) for part in line.parts],
                open=line.open, unmet=line.unmet, arrival=line.arrival,
                late_days=line.late_days, verdict=line.verdict,
            )
            for line in timeline.lines
        ],
    )  # fmt: skip
