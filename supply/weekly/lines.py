"""A weekly plan as lines: one per allocation and one per unmet rest, each with its demand line,
its source, its dates and — when late, unmet or bought in an emergency — why, in the planner's
words. The saved `PlanLine` rows and every export are made from these lines, so they agree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from catalogs.models import AgreementLine, Material
from optimizer import Plan
from optimizer.contract import UnmetLine
from supply.availability import SupplyState
from supply.core.money import exact
from supply.demand.models import DemandLine
from supply.demand.service import need_by
from supply.emergency import SWITCHED_OFF_EN, SWITCHED_OFF_ZH, emergency_causes
from supply.holds.models import Promise, PromiseStatus
from supply.planning import DemandItem, MatchingProblem, line_key
from supply.projects.models import Project
from supply.weekly.models import LineKind

REASON_LIMIT = 2000  # the stored reason's length


@dataclass(slots=True)
class LineRow:
    """A plan line before it is saved (the columns of `PlanLine`, cheap to make in bulk)."""

    demand_key: str  # the demand's id in the instance (`P-1/3`, `REPL:WH-RC:DT-OIL-S13-200`)
    demand_line_id: int | None
    replenish_warehouse_id: str | None
    project_id: str | None
    material_code: str
    kind: str
    quantity: int
    need_by: date
    source_id: str = ""
    warehouse_id: str | None = None
    consignment_id: int | None = None
    agreement_line_id: int | None = None
    unit_cost: Decimal = Decimal(0)
    arrival: date | None = None
    late_days: int = 0
    reason: str = ""
    reason_zh: str = ""  # the reason in Chinese
    cause: str = ""  # why late or unmet (optimizer.contract causes, `no_agreement`, `over_limit`)
    emergency_cause: str = ""  # why emergency procurement (supply.emergency causes)


def plan_lines(
    problem: MatchingProblem,
    plan: Plan,
    supply: SupplyState,
    catalogued: Collection[str],
    *,
    emergency_for_catalog_materials: bool = True,
    refused: Collection[str] = (),
) -> list[LineRow]:
    """The plan as rows: one per allocation, one per unmet rest, reasons on late and unmet,
    causes on emergency procurement; `catalogued` are the materials some catalog serves
    (`supply.availability.catalogued_materials`), `refused` the demands set aside before the
    solve (supply.limits), unmet in full."""
    late = {e.demand: e for e in plan.late}
    emergency = emergency_causes(problem, plan, supply, catalogued)
    switched_off = frozenset() if emergency_for_catalog_materials else frozenset(catalogued)
    demands, sources = problem.demands, problem.sources
    # Made with positional arguments (in LineRow's field order): a week has some 50,000.
    lines = []
    for a in plan.allocations:
        demand, source = demands[a.demand], sources[a.source]
        entry = late.get(a.demand) if a.late_days else None
        repl = demand.replenish_warehouse_id
        lines.append(
            LineRow(
                a.demand,
                demand.demand_line_id,
                repl,
                None if repl else demand.project_id,
                demand.material,
                source.kind,
                int(a.quantity),
                demand.need_by,
                a.source,
                source.warehouse_id,
                source.consignment_id,
                source.agreement_line_id,
                exact(source.unit_cost),
                a.arrival,
                a.late_days,
                entry.reason[:REASON_LIMIT] if entry else "",
                entry.reason_zh[:REASON_LIMIT] if entry else "",
                entry.cause if entry else "",
                emergency.get((a.demand, a.source), ""),
            )
        )
    for u in plan.unmet:
        demand = demands[u.demand]
        cause, reason, reason_zh = unmet_cause(
            u, problem, supply, refused=refused, switched_off=switched_off
        )
        repl = demand.replenish_warehouse_id
        lines.append(
            LineRow(
                demand_key=u.demand,
                demand_line_id=demand.demand_line_id,
                replenish_warehouse_id=repl,
                project_id=None if repl else demand.project_id,
                material_code=demand.material,
                kind=LineKind.UNMET,
                quantity=int(u.quantity),
                need_by=demand.need_by,
                reason=reason[:REASON_LIMIT],
                reason_zh=reason_zh[:REASON_LIMIT],
                cause=cause,
            )
        )
    return lines


def unmet_cause(
    entry: UnmetLine,
    problem: MatchingProblem,
    supply: SupplyState,
    *,
    refused: Collection[str],
    switched_off: Collection[str],
) -> tuple[str, str, str]:
    """The cause code and the reason (English, Chinese) of an unmet line, in the planner's
    words — the weekly plan's lines and an urgent request's answer both say it so:

    - refused before matching (`refused`, supply.limits): `over_limit`, with its reason only
      (in both languages) — it never reached the engine, so nothing else about it is true;
    - replenishment no agreement line covers: `no_agreement`, and which catalog to fix;
    - a material whose emergency procurement is switched off (`switched_off`: the catalog
      materials, when emergency is offered only outside the catalogs): the engine's cause and
      reason, and that emergency was switched off;
    - else the engine's cause and reason.
    """
    demand = problem.demands[entry.demand]
    if entry.demand in refused:
        return "over_limit", entry.reason, entry.reason
    if demand.replenish_warehouse_id and not problem.sources_of(demand.material):
        zh, en = no_agreement_reason(demand, supply)
        return "no_agreement", en, zh
    if demand.material in switched_off:
        return (
            entry.cause,
            f"{entry.reason}; {SWITCHED_OFF_EN}",
            f"{entry.reason_zh}；{SWITCHED_OFF_ZH}",
        )
    return entry.cause, entry.reason, entry.reason_zh


def no_agreement_reason(demand: DemandItem, supply: SupplyState) -> tuple[str, str]:
    """Why reserve below quota cannot be replenished, and which catalog to fix (中文, English)."""
    material, warehouse = demand.material, demand.replenish_warehouse_id
    if material in supply.agreement_materials:
        return (
            f"{material} 的协议库存行均已执行到上限，无可补库数量：请省公司增补协议，或在储备定额目录"
            f"(quotas)中核减 {warehouse} 的定额",
            f"every agreement line of {material} is used up to its upper band: replenishment of "
            f"{warehouse} needs a new agreement line (catalog `agreements`) or a lower quota "
            f"(catalog `quotas`)",
        )
    return (
        f"没有协议库存行覆盖 {material}：补库只走协议库存。请在协议库存目录(agreements)中增加该物资的"
        f"协议行，或在储备定额目录(quotas)中核减 {warehouse} 的定额",
        f"no agreement line covers {material}, and reserve is refilled through agreement stock "
        f"only: add an agreement line for it (catalog `agreements`) or lower the quota of "
        f"{warehouse} (catalog `quotas`)",
    )


def promised_rows(
    session: Session, *, batch_id: str, warehouses: dict[str, str]
) -> list[dict[str, Any]]:
    """Agreement and emergency supply promised to urgent requests in this batch, as export rows:
    the province must receive them with the batch's requirement plan (协议库存需求计划)."""
    rows = []
    statement = (
        select(  # type: ignore[call-overload]  # five entities: past sqlmodel's overloads
            Promise, DemandLine, Project, Material, AgreementLine
        )
        .join(DemandLine, col(DemandLine.id) == Promise.demand_line_id)
        .join(Project, col(Project.id) == DemandLine.project_id)
        .join(Material, col(Material.code) == Promise.material_code)
        .join(
            AgreementLine,
            col(AgreementLine.id) == Promise.agreement_line_id,
            isouter=True,
        )
        .where(Promise.batch_id == batch_id, Promise.status == PromiseStatus.PROMISED)
        .order_by(col(Promise.id))
    )
    for promise, line, project, material, agreement in session.exec(statement):
        needed = need_by(line, project)
        warehouse = agreement.delivery_warehouse_id if agreement else ""
        rows.append(
            {
                "kind": promise.kind,
                "demand": line_key(project.id, line.line_no),
                "project_id": project.id,
                "project_name": project.name,
                "project_type": project.project_type,
                "material": material.code,
                "material_name": material.name_zh,
                "unit": material.unit,
                "quantity": promise.quantity,
                "source_id": f"A:{agreement.agreement_no}/{agreement.line_no}"
                if agreement
                else f"E:{material.code}",
                "warehouse_id": warehouse,
                "warehouse_name": warehouses.get(warehouse, ""),
                "supplier": agreement.supplier if agreement else "",
                "unit_cost": promise.unit_cost,
                "arrival": promise.arrival,
                "need_by": needed,
                "late_days": max(0, (promise.arrival - needed).days),
                "reason": f"promised to urgent request #{promise.request_id}",
                "reason_zh": f"紧急需求 #{promise.request_id} 已承诺",
                "cause": "",
                "emergency_cause": promise.emergency_cause or "",
                "replenish_warehouse_id": None,
                "voltage_class": project.voltage_class,
                "priority": project.priority,
            }
        )
    return rows
