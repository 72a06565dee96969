"""Lines the planner cannot take: refused with the reason, never allowed to stop a run.

Every quantity and price that comes in is bounded at the edge (`supply.core.units.MAX_QUANTITY`,
`supply.core.money.MAX_PRICE`, `MAX_AMOUNT`). A database may still hold a line past them — one
stored before the limits, a line whose cost at its material's dearest price reaches
`MAX_AMOUNT`, or a material priced past the limit before it — and the weekly run and urgent
requests must not fail on it.

**The one rule** (`largest_quantity`): a line is taken when its outstanding quantity is at most
`MAX_QUANTITY`, its material's dearest price (`dearest_prices`) is no more than an import can
make (`MAX_EMERGENCY_PRICE`), and quantity × that price is below `MAX_AMOUNT`. The dearest price
is what the catalogs state for the material — its standard price, its emergency price (standard
plus premium), any consignment row's issue price and any agreement line's price, whatever its
date or stock — so the rule needs no date and says the same wherever it is asked: the weekly run
and urgent requests refuse such a line (`screen`), the other open demand an urgent request is
weighed against leaves it out (in the query: `supply.demand.queries.competing_demand`), and a
package's pending cost counts nothing for it (`supply.packages.budget`).

Also refused, by the optimizer's own check (`solve_within_limits` → `optimizer.oversized`):
every line of a material whose flow network the engine could not keep exact — its costs times
the network's size past the engine's int64 headroom. With prices within `MAX_PRICE` that takes
thousands of lines of one material in one week; a price typed a thousand times too high makes
it sooner. That depends on the whole instance, so only planning knows it.

`with_refusals` puts refused lines into the solved plan as unmet (the plan's 延迟与未满足清单, a
request's answer), so that every other line is planned as usual (R8: no line waits in silence).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlmodel import Session, col, select

from catalogs.models import AgreementLine, Consignment, Material
from optimizer import Instance, Plan, oversized
from optimizer.contract import UnmetLine
from supply.core.db import where_in
from supply.core.errors import InvalidInput
from supply.core.money import MAX_AMOUNT, MAX_EMERGENCY_PRICE, MAX_PRICE
from supply.core.units import MAX_QUANTITY
from supply.planning import DemandItem, MatchingProblem

FIX_ZH, FIX_EN = "请更正或拆分此行后重新计划", "correct or split the line, then plan again"


@dataclass(frozen=True)
class Refusal:
    """A demand the planner does not take, and why (Chinese first, English alongside)."""

    item: DemandItem
    reason: str


@dataclass(frozen=True)
class Dearest:
    """A material's dearest unit price in its catalogs, and which row states it."""

    cost: Decimal
    zh: str
    en: str


def dearest_prices(
    session: Session, materials: Collection[str] | None = None
) -> dict[str, Dearest]:
    """Per material (of `materials`, or all), the dearest unit price its catalogs state and
    which it is: standard, emergency (standard plus premium), any consignment row's issue
    price, any agreement line's price — whatever its date or what is left of it."""
    dearest: dict[str, Dearest] = {}

    def see(material: str, cost: Decimal, zh: str, en: str) -> None:
        if material not in dearest or cost > dearest[material].cost:
            dearest[material] = Dearest(cost, zh, en)

    rows = session.exec(
        where_in(
            select(Material.code, Material.standard_price, Material.emergency_premium_pct),
            Material.code,
            materials,
        )
    )
    for code, price, premium in rows:
        see(code, price, f"物料 {code} 标准单价", f"the standard price of {code}")
        emergency = price * (100 + premium) / 100
        see(code, emergency, f"物料 {code} 紧急采购价", f"the emergency price of {code}")
    rows = session.exec(
        where_in(
            select(Consignment.id, Consignment.material_code, Consignment.issue_price),
            Consignment.material_code,
            materials,
        ).order_by(col(Consignment.id))
    )
    for row_id, code, price in rows:
        see(code, price, f"寄存第 {row_id} 行结算价", f"consignment row {row_id}")
    rows = session.exec(
        where_in(
            select(
                AgreementLine.agreement_no,
                AgreementLine.line_no,
                AgreementLine.material_code,
                AgreementLine.unit_price,
            ),
            AgreementLine.material_code,
            materials,
        ).order_by(col(AgreementLine.id))
    )
    for agreement_no, line_no, code, price in rows:
        number = f"{agreement_no}/{line_no}"
        see(code, price, f"协议 {number} 单价", f"agreement {number}")
    return dearest


def largest_quantity(dearest: Dearest | None) -> int:
    """The largest outstanding quantity of a line of this material the planner takes: at most
    `MAX_QUANTITY`; none when its dearest price is past `MAX_EMERGENCY_PRICE`; and quantity ×
    the dearest price below `MAX_AMOUNT` (exact, in fractions)."""
    if dearest is None or dearest.cost == 0:
        return MAX_QUANTITY
    if dearest.cost > MAX_EMERGENCY_PRICE:
        return 0
    # q × cost < MAX_AMOUNT  ⟺  q < MAX_AMOUNT / cost  ⟺  q ≤ ⌈MAX_AMOUNT / cost⌉ − 1
    ratio = Fraction(MAX_AMOUNT) / Fraction(dearest.cost)
    below = -(-ratio.numerator // ratio.denominator) - 1
    return max(0, min(MAX_QUANTITY, below))


def largest_quantities(dearest: Mapping[str, Dearest], materials: Iterable[str]) -> dict[str, int]:
    """`largest_quantity` of each material."""
    return {code: largest_quantity(dearest.get(code)) for code in materials}


def refusal_reason(item: DemandItem, dearest: Dearest | None) -> str | None:
    """Why the planner cannot take this line on its own (Chinese / English), or None: the line
    is refused exactly when its quantity passes `largest_quantity`."""
    line, quantity = item.key, item.quantity
    if quantity <= largest_quantity(dearest):
        return None
    if quantity > MAX_QUANTITY:
        return (
            f"需求行 {line} 数量 {quantity:,} 超过上限 {MAX_QUANTITY:,}，{FIX_ZH} / line {line}: "
            f"quantity {quantity:,} is above the limit of {MAX_QUANTITY:,} base units; {FIX_EN}"
        )
    assert dearest is not None  # else every quantity up to MAX_QUANTITY is taken
    cost = dearest.cost
    if cost > MAX_EMERGENCY_PRICE:
        return (
            f"需求行 {line}: {dearest.zh} {cost:,.2f} 元超过单价上限，请更正目录后重新计划 / "
            f"line {line}: {dearest.en}, {cost:,.2f} CNY, is above the price limit "
            f"({MAX_PRICE:,} CNY, emergency {MAX_EMERGENCY_PRICE:,.0f}); correct the catalog, "
            "then plan again"
        )
    worth = cost * quantity
    return (
        f"需求行 {line} 按最贵来源({dearest.zh})金额达 {worth:,.2f} 元，达到或超过单行上限 "
        f"{MAX_AMOUNT:,} 元，{FIX_ZH} / line {line} would cost up to {worth:,.2f} CNY at its "
        f"dearest source ({dearest.en}), at or above the limit of {MAX_AMOUNT:,} CNY for one "
        f"line; {FIX_EN}"
    )


def screen(
    demands: Sequence[DemandItem], dearest: Mapping[str, Dearest]
) -> tuple[list[DemandItem], list[Refusal]]:
    """Split `demands` into those the planner can take and those it refuses, with reasons
    (`dearest`: `dearest_prices` of their materials)."""
    kept: list[DemandItem] = []
    refused: list[Refusal] = []
    for item in demands:
        reason = refusal_reason(item, dearest.get(item.material))
        if reason is None:
            kept.append(item)
        else:
            refused.append(Refusal(item, reason))
    return kept, refused


def drop_oversized(
    problem: MatchingProblem, *, lines: Collection[str] | None = None
) -> tuple[MatchingProblem, list[Refusal]]:
    """The problem without the materials the optimizer could not plan exactly
    (`optimizer.oversized`: their demands and sources leave the instance), and a refusal with
    the reason for each of their demands among `lines` (None: every demand; an urgent request
    refuses its own lines and drops the other demand it is weighed against).

    Raises `InvalidInput` for a number of no one material (the penalty, transport days):
    settings and imports keep those far within the engine's range."""
    refused: list[Refusal] = []
    instance = problem.instance
    while found := oversized(instance):  # a material's sums are checked once its values fit
        if "" in found:
            raise InvalidInput(
                "匹配实例中有数值过大 / the matching instance holds numbers too large to plan "
                "exactly: " + "; ".join(f"{e.id} {e.field}: {e.message}" for e in found[""][:5]),
                loc=("instance",),
            )
        for demand in instance.demands:
            errors = found.get(demand.material)
            if errors and (lines is None or demand.id in lines):
                first = errors[0]
                refused.append(
                    Refusal(
                        problem.demands[demand.id],
                        f"物料 {demand.material} 的数值超出精确求解范围({first.id} {first.field})，"
                        f"请核对其价格与数量 / material {demand.material} cannot be planned "
                        f"exactly: {first.id} {first.field}: {first.message}; check its prices "
                        "and quantities",
                    )
                )
        instance = instance.model_copy(
            update={
                "demands": [d for d in instance.demands if d.material not in found],
                "sources": [s for s in instance.sources if s.material not in found],
            }
        )
    if instance is problem.instance:
        return problem, []
    return MatchingProblem(instance, problem.demands, problem.sources), refused


def solve_within_limits(
    problem: MatchingProblem,
    solve: Callable[[Instance], Plan],
    *,
    lines: Collection[str] | None = None,
) -> tuple[MatchingProblem, Plan, list[Refusal]]:
    """Solve the problem's instance with `solve`; when the engine finds numbers in it too large
    to plan exactly (the plan is `invalid`), leave those materials out (`drop_oversized`,
    refusing their demands among `lines`) and solve again. Returns the problem solved, its plan
    and the refusals. The check costs nothing when the instance fits: the engine makes it as it
    builds its network, and only an invalid plan asks which materials it was."""
    plan = solve(problem.instance)
    if plan.status != "invalid":
        return problem, plan, []
    smaller, refused = drop_oversized(problem, lines=lines)
    if smaller is problem:  # invalid for another reason: the caller says so
        return problem, plan, []
    return smaller, solve(smaller.instance), refused


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
