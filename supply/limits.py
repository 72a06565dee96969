"""Lines the planner cannot take: refused with the reason, never allowed to stop a run.

Every quantity and price that comes in is bounded at the edge (`supply.core.units.MAX_QUANTITY`,
`supply.core.money.MAX_PRICE`, `MAX_AMOUNT`). A database may still hold a line past them — one
stored before the limits, or a line whose cost at its dearest source (quantity × unit cost)
passes `MAX_AMOUNT`, or a material priced past the limit before it — and the weekly run and
urgent requests must not fail on it. `screen` sets such lines aside before the instance is built,
each with a reason that names the line and how to fix it; `with_refusals` puts them into the
solved plan as unmet (the plan's 延迟与未满足清单, a request's answer), so that every other line
is planned as usual (R8: no line waits in silence).

Also refused: every line of a material whose flow network the optimizer could not keep exact in
int64 — its dearest unit cost, scaled by up to 10⁶, times the nodes of the network must stay
below 2⁶² (`optimizer/lexmin.py`). With prices within `MAX_PRICE` that takes thousands of lines
of one material in one week; a price typed a thousand times too high makes it sooner. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from optimizer import Plan
from optimizer.contract import UnmetLine
from optimizer.network import MAX_DECIMALS
from supply.availability import SupplyState
from supply.core.money import MAX_AMOUNT, MAX_PRICE
from supply.core.units import MAX_QUANTITY
from supply.planning import DemandItem

MAX_PREMIUM_PCT = 1000  # the largest emergency premium an import accepts (catalogs.cells)
MAX_UNIT_COST = MAX_PRICE * (100 + MAX_PREMIUM_PCT) / 100  # emergency at the largest premium
EXACT_COST_LIMIT = 2**62  # the flow engine's headroom (optimizer/lexmin.py)


@dataclass(frozen=True)
class Refusal:
    """A demand the planner does not take, and why (Chinese first, English alongside)."""

    item: DemandItem
    reason: str


@dataclass(frozen=True)
class Dearest:
    """A material's dearest unit cost among the sources planning may use, and which it is."""

    cost: Decimal
    zh: str
    en: str


def material_costs(supply: SupplyState) -> dict[str, Dearest]:
    """Per material, its dearest unit cost among the sources planning may use, and which."""
    dearest: dict[str, Dearest] = {}

    def see(material: str, cost: Decimal, zh: str, en: str) -> None:
        if material not in dearest or cost > dearest[material].cost:
            dearest[material] = Dearest(cost, zh, en)

    for code, m in supply.materials.items():
        see(code, m.standard_price, f"物料 {code} 标准单价", f"the standard price of {code}")
        see(code, m.emergency_price, f"物料 {code} 紧急采购价", f"the emergency price of {code}")
    for c in supply.consignment:
        see(c.material, c.unit_cost, f"寄存第 {c.id} 行结算价", f"consignment row {c.id}")
    for a in supply.agreements:
        number = f"{a.agreement_no}/{a.line_no}"
        see(a.material, a.unit_price, f"协议 {number} 单价", f"agreement {number}")
    return dearest


def _sources_per_material(supply: SupplyState) -> Counter[str]:
    count: Counter[str] = Counter({code: 1 for code in supply.materials})  # emergency
    count.update(r.material for r in supply.reserve)
    count.update(c.material for c in supply.consignment)
    count.update(a.material for a in supply.agreements)
    return count


def refusal_reason(item: DemandItem, dearest: Dearest | None) -> str | None:
    """Why the planner cannot take this line on its own (Chinese / English), or None."""
    line, quantity = item.key, item.quantity
    fix_zh, fix_en = "请更正或拆分此行后重新计划", "correct or split the line, then plan again"
    if quantity > MAX_QUANTITY:
        return (
            f"需求行 {line} 数量 {quantity:,} 超过上限 {MAX_QUANTITY:,}，{fix_zh} / line {line}: "
            f"quantity {quantity:,} is above the limit of {MAX_QUANTITY:,} base units; {fix_en}"
        )
    if dearest is None:
        return None
    cost = dearest.cost
    if cost > MAX_UNIT_COST:
        return (
            f"需求行 {line}: {dearest.zh} {cost:,.2f} 元超过单价上限，请更正目录后重新计划 / "
            f"line {line}: {dearest.en}, {cost:,.2f} CNY, is above the price limit "
            f"({MAX_PRICE:,} CNY, emergency {MAX_UNIT_COST:,.0f}); correct the catalog, then "
            "plan again"
        )
    worth = cost * quantity
    if worth > MAX_AMOUNT:
        return (
            f"需求行 {line} 按最贵来源({dearest.zh})金额达 {worth:,.2f} 元，超过单行上限 "
            f"{MAX_AMOUNT:,} 元，{fix_zh} / line {line} would cost up to {worth:,.2f} CNY at its "
            f"dearest source ({dearest.en}), above the limit of {MAX_AMOUNT:,} CNY for one line; "
            f"{fix_en}"
        )
    return None


def screen(
    demands: Sequence[DemandItem], supply: SupplyState, *, penalty: Decimal = Decimal(0)
) -> tuple[list[DemandItem], list[Refusal]]:
    """Split `demands` into those the planner can take and those it refuses, with reasons."""
    dearest = material_costs(supply)
    kept: list[DemandItem] = []
    refused: list[Refusal] = []
    for item in demands:
        reason = refusal_reason(item, dearest.get(item.material))
        if reason is None:
            kept.append(item)
        else:
            refused.append(Refusal(item, reason))
    # A material's network: its lines, its sources, a sink; costs scaled by up to 10**6.
    lines = Counter(item.material for item in kept)
    sources = _sources_per_material(supply)
    too_big: dict[str, str] = {}
    for material, count in lines.items():
        top = dearest.get(material, Dearest(Decimal(0), "", ""))
        largest = max(top.cost, penalty) * 10**MAX_DECIMALS
        nodes = count + sources[material] + 1
        if largest * (nodes + 1) >= EXACT_COST_LIMIT:
            too_big[material] = (
                f"物料 {material} 共 {count:,} 行，单价最高 {top.cost:,.2f} 元({top.zh})，超出精确"
                f"求解范围，请核对价格 / material {material}: {count:,} lines at unit costs up to "
                f"{top.cost:,.2f} CNY ({top.en}) are too many to plan exactly; check its prices"
            )
    if too_big:
        refused += [Refusal(i, too_big[i.material]) for i in kept if i.material in too_big]
        kept = [i for i in kept if i.material not in too_big]
    return kept, refused


def with_refusals(plan: Plan, refused: Iterable[Refusal]) -> Plan:
    """The plan with each refused demand listed as unmet in full, with its reason."""
    extra = [
        UnmetLine(demand=r.item.key, quantity=r.item.quantity, reason=r.reason) for r in refused
    ]
    if not extra:
        return plan
    return plan.model_copy(update={"unmet": [*plan.unmet, *extra]})


def refused_by_key(refused: Iterable[Refusal]) -> dict[str, DemandItem]:
    """The refused demands by their instance key (to add to a problem's demands)."""
    return {r.item.key: r.item for r in refused}
