"""What must hold of a database whatever requests came at it, and however many at once: checked
after a burst of simultaneous requests, and on a backup restored after one.

- stock: for every reserve and consignment row on-hand ≥ 0 and Σ held ≤ on-hand; every agreement
  line's orders and open promises within its band;
- the catalogue kept: on-hand is what was imported less what was issued (`Catalogue`);
- nothing dangles: every hold and promise belongs to a demand line, and to a request that exists
  when it names one; every request is whole (each hold and promise its answer names is there);
- the audit trail: each request's `request.create` event, each issued hold's `hold.issued`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from catalogs.models import AgreementLine, Consignment, ReserveStock
from supply.core.audit import AuditEvent
from supply.demand.models import DemandLine
from supply.holds.models import Hold, HoldStatus, Promise, PromiseStatus, StockKind
from supply.requests.models import SupplyRequest


def assert_stock_within_bounds(session: Session) -> None:
    """Σ held ≤ on-hand for every stock row, consignment row and agreement line's band."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    held_consignment: dict[int, int] = defaultdict(int)
    for h in session.exec(select(Hold).where(Hold.status == HoldStatus.HELD)):
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
    for p in session.exec(select(Promise).where(Promise.status == PromiseStatus.PROMISED)):
        if p.agreement_line_id is not None:
            promised[p.agreement_line_id] += p.quantity
    for line in session.exec(select(AgreementLine)):
        upper = line.estimated_quantity * line.band_high_pct // 100
        assert line.ordered_quantity + promised[line.id or 0] <= upper, line.id


@dataclass(frozen=True)
class Catalogue:
    """The stock as imported: on-hand now plus everything issued since."""

    reserve: dict[tuple[str, str], int]
    consignment: dict[int, int]


def _issued(session: Session) -> tuple[Counter[tuple[str, str]], Counter[int]]:
    reserve: Counter[tuple[str, str]] = Counter()
    consignment: Counter[int] = Counter()
    for h in session.exec(select(Hold).where(Hold.status == HoldStatus.ISSUED)):
        if h.stock_kind == StockKind.RESERVE:
            reserve[h.warehouse_id, h.material_code] += h.quantity
        else:
            consignment[h.consignment_id or 0] += h.quantity
    return reserve, consignment


def catalogue(session: Session) -> Catalogue:
    """The stock as imported, from a database: on-hand plus what its holds issued."""
    reserve, consignment = _issued(session)
    return Catalogue(
        reserve={
            (s.warehouse_id, s.material_code): s.quantity + reserve[s.warehouse_id, s.material_code]
            for s in session.exec(select(ReserveStock))
        },
        consignment={
            c.id or 0: c.quantity + consignment[c.id or 0]
            for c in session.exec(select(Consignment))
        },
    )


def assert_catalogue_less_issued(session: Session, imported: Catalogue) -> None:
    """On-hand is never negative, and is the catalogue as imported less what was issued."""
    assert all(s.quantity >= 0 for s in session.exec(select(ReserveStock)))
    assert all(c.quantity >= 0 for c in session.exec(select(Consignment)))
    assert catalogue(session) == imported


def assert_nothing_dangles(session: Session) -> None:
    """Every hold and promise belongs to existing lines and requests; every request is whole."""
    lines = set(session.exec(select(DemandLine.id)))
    requests = {r.id: r for r in session.exec(select(SupplyRequest))}
    holds = list(session.exec(select(Hold)))
    promises = list(session.exec(select(Promise)))
    for hold in holds:
        assert hold.demand_line_id in lines, hold
        assert hold.request_id is None or hold.request_id in requests, hold
    for promise in promises:
        assert promise.demand_line_id in lines and promise.request_id in requests, promise
    hold_ids, promise_ids = {h.id for h in holds}, {p.id for p in promises}
    for request in requests.values():
        answer = json.loads(request.answer)
        for line in answer["lines"]:
            assert line["demand_line_id"] in lines, (request.id, line)
            for part in line["allocations"]:
                assert part["hold_id"] is None or part["hold_id"] in hold_ids, (request.id, part)
                assert part["promise_id"] is None or part["promise_id"] in promise_ids, part


def assert_audited(session: Session) -> None:
    """Each request has its `request.create` event, each issued hold its `hold.issued` event."""
    found = {
        (e.action, e.object_id)
        for e in session.exec(
            select(AuditEvent).where(AuditEvent.action.in_(("request.create", "hold.issued")))  # type: ignore[attr-defined]
        )
    }
    for request_id in session.exec(select(SupplyRequest.id)):
        assert ("request.create", str(request_id)) in found, request_id
    for hold in session.exec(select(Hold).where(Hold.status == HoldStatus.ISSUED)):
        assert ("hold.issued", str(hold.id)) in found, hold.id
