"""Emergency procurement (紧急采购), labelled for what it is.

The founding rule (R1.4) sends a material that is outside physical reserve and agreement stock
to emergency procurement, once it was listed at the feasibility stage. Buying a material that
*is* in a catalog the same way, because its stock ran out or cannot serve the line, is a
different act that the materials department must see and approve. So every emergency line
carries its cause, the first that is true of the plan:

| cause | when |
|---|---|
| `listed` | the material is in no catalog, and the line was listed at the feasibility stage |
| `not_listed` | the material is in no catalog (any more), and the line was not listed |
| `kept_for_quota` | reserve that could serve the line is kept at its quota (R6) |
| `stock_late` | reserve or consignment with stock left would arrive later |
| `agreement_late` | an agreement line with quantity left would arrive later |
| `unused` | a source with stock left would arrive no later (only in a plan that is not optimal) |
| `agreement_exhausted` | agreement lines hold the material, and all of it is taken |
| `not_eligible` | 35/110 kV: only reserve or consignment holds it (R2), no agreement line |
| `stock_exhausted` | reserve or consignment holds it, all taken, and no agreement line |

"In a catalog" is one rule everywhere (`supply.availability.catalogued_materials`): the reserve
quota catalog, an agreement line with quantity left, or consignment — the rule a line's
material is checked against when it is submitted. The setting
`GRIDSUPPLY_EMERGENCY_FOR_CATALOG_MATERIALS` (default true) keeps offering emergency
procurement for catalog materials — a line should not go unmet silently — and, when false,
offers it only for materials outside the catalogs: the line is then unmet, with that reason.
Pure: plain data in, causes out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Literal

from optimizer import Plan
from optimizer.contract import HIGH_VOLTAGE, LOW_VOLTAGE_ONLY_KINDS, Allocation, Source
from supply.availability import SupplyState
from supply.planning import MatchingProblem, arrival_at, transport_days

EmergencyCause = Literal[
    "listed",
    "not_listed",
    "kept_for_quota",
    "stock_late",
    "agreement_late",
    "unused",
    "agreement_exhausted",
    "not_eligible",
    "stock_exhausted",
]
SWITCHED_OFF_ZH = "目录内物资不走紧急采购(设置 GRIDSUPPLY_EMERGENCY_FOR_CATALOG_MATERIALS=false)"
SWITCHED_OFF_EN = "emergency procurement of catalog materials is switched off"


def emergency_materials(
    wanted: Collection[str], catalogued: Collection[str], *, for_catalog_materials: bool
) -> frozenset[str]:
    """The materials of `wanted` emergency procurement may be offered for."""
    if for_catalog_materials:
        return frozenset(wanted)
    return frozenset(wanted) - frozenset(catalogued)


def emergency_causes(
    problem: MatchingProblem,
    plan: Plan,
    supply: SupplyState,
    catalogued: Collection[str],
    *,
    only: Collection[str] | None = None,
) -> dict[tuple[str, str], EmergencyCause]:
    """The cause of each emergency allocation of `plan` (of the demands `only`, if given),
    keyed (demand, source)."""
    used: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        used[a.source] += a.quantity
    days = transport_days(problem.instance)
    causes: dict[tuple[str, str], EmergencyCause] = {}
    for a in plan.allocations:
        if problem.sources[a.source].kind != "emergency" or (
            only is not None and a.demand not in only
        ):
            continue
        causes[a.demand, a.source] = _cause(problem, a, supply, catalogued, used, days)
    return causes


def _cause(
    problem: MatchingProblem,
    a: Allocation,
    supply: SupplyState,
    catalogued: Collection[str],
    used: dict[str, float],
    days: dict[tuple[str, str], int],
) -> EmergencyCause:
    item = problem.demands[a.demand]
    material = item.material
    if material not in catalogued:
        return "listed" if item.listed else "not_listed"
    demand = problem.instance_demand(a.demand)
    left: list[tuple[Source, float]] = []
    for s in problem.sources_of(material):
        rest = (s.quantity or 0) - used[s.id]
        if s.kind != "emergency" and rest > 0 and arrival_at(s, demand, days) is not None:
            left.append((s, rest))
    if any(s.kind == "reserve" and rest <= s.quota for s, rest in left):
        return "kept_for_quota"
    for s, _ in left:
        later = arrival_at(s, demand, days) > a.arrival  # type: ignore[operator]
        if later:
            return "agreement_late" if s.kind == "agreement" else "stock_late"
    if left:
        return "unused"
    if material in supply.agreement_materials:
        return "agreement_exhausted"
    held = any(s.kind in LOW_VOLTAGE_ONLY_KINDS for s in problem.sources_of(material))
    if item.voltage_class in HIGH_VOLTAGE and held:
        return "not_eligible"
    return "stock_exhausted"
