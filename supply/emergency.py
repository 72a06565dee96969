"""Emergency procurement (紧急采购), labelled for what it is.

The founding rule (R1.4) sends a material that is outside physical reserve and agreement stock
to emergency procurement, once it was listed at the feasibility stage. Buying a material that
*is* in a catalog the same way, because its stock ran out or cannot serve the line, is a
different act that the materials department must see and approve. So every emergency line
carries its cause:

| cause | 中文 | when |
|---|---|---|
| `listed` | 目录外物资(可研已列明) | the material is in no catalog: no reserve, consignment or agreement line |
| `agreement_exhausted` | 协议库存已用完 | agreement lines hold the material, but none has quantity left for the line |
| `agreement_late` | 协议库存到货晚 | an agreement line has quantity left, but it arrives later than emergency procurement |
| `not_eligible` | 电压等级不可用储备/寄存 | 35/110 kV: only reserve or consignment holds it (R2), no agreement line |
| `stock_exhausted` | 储备与寄存已用完 | 10 kV and below: reserve or consignment holds it, all taken; no agreement line |

The setting `GRIDSUPPLY_EMERGENCY_FOR_CATALOG_MATERIALS` (default true) keeps offering emergency
procurement for catalog materials — a line should not go unmet silently — and, when false,
offers it only for materials outside the catalogs: the line is then unmet, with that reason.
Pure: plain data in, causes out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Literal

from optimizer import Plan
from optimizer.contract import HIGH_VOLTAGE
from supply.availability import SupplyState
from supply.planning import MatchingProblem

EmergencyCause = Literal[
    "listed", "agreement_exhausted", "agreement_late", "not_eligible", "stock_exhausted"
]
SWITCHED_OFF = (
    "目录内物资不走紧急采购(设置 GRIDSUPPLY_EMERGENCY_FOR_CATALOG_MATERIALS=false) / emergency "
    "procurement of catalog materials is switched off"
)


def catalog_materials(supply: SupplyState) -> frozenset[str]:
    """The materials some catalog holds: reserve (stock, quota or marked), consignment, or an
    agreement line valid on the order day (with quantity left or not)."""
    held = {r.material for r in supply.reserve if r.on_hand > 0 or r.quota > 0}
    held |= {c.material for c in supply.consignment}
    held |= {code for code, m in supply.materials.items() if m.reserve_catalog}
    return frozenset(held | supply.agreement_materials)


def emergency_materials(
    supply: SupplyState, wanted: Collection[str], *, for_catalog_materials: bool
) -> frozenset[str]:
    """The materials of `wanted` emergency procurement may be offered for."""
    if for_catalog_materials:
        return frozenset(wanted)
    return frozenset(wanted) - catalog_materials(supply)


def emergency_causes(
    problem: MatchingProblem, plan: Plan, supply: SupplyState
) -> dict[tuple[str, str], EmergencyCause]:
    """The cause of each emergency allocation of `plan`, keyed (demand, source)."""
    used: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        used[a.source] += a.quantity
    in_catalog = catalog_materials(supply)
    causes: dict[tuple[str, str], EmergencyCause] = {}
    for a in plan.allocations:
        if problem.sources[a.source].kind != "emergency":
            continue
        demand = problem.demands[a.demand]
        material = demand.material
        cause: EmergencyCause
        if material not in in_catalog:
            cause = "listed"
        elif material in supply.agreement_materials:
            left = [
                s
                for s in problem.sources_of(material)
                if s.kind == "agreement" and (s.quantity or 0) > used[s.id]
            ]
            cause = "agreement_late" if left else "agreement_exhausted"
        elif demand.voltage_class in HIGH_VOLTAGE:
            cause = "not_eligible"
        else:
            cause = "stock_exhausted"
        causes[a.demand, a.source] = cause
    return causes
