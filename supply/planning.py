"""Database state → matching instance → plan lines: the seam between supply and the optimizer.

Pure: it works on plain data (`DemandItem`s and a `SupplyState`), so the weekly run and the
urgent request build their instances the same way. Instance ids are readable and stable:

| instance id | means |
|---|---|
| `YK-2026-0412/3` | line 3 of project YK-2026-0412 |
| `REPL:WH-RS:DT-OIL-S13-400` | replenishing reserve of a material at a warehouse (R6) |
| `R:WH-RS:DT-OIL-S13-400` | physical reserve of a material at a warehouse |
| `C:17` | consignment row 17 (supplier, warehouse, material) |
| `A:SD-2026-031/4` | agreement SD-2026-031, line 4 |
| `E:DT-OIL-S13-400` | emergency procurement of a material |

Heavy items (box substations, 35/110 kV transformers) take a day more on every trip: their
sources and demands sit at `location+heavy` places whose transport rows carry one more day.

Replenishment (R6) is matched after the projects, in an instance of its own over what agreement
lines have left: reserve exists for the urgent work, so projects come first, and reserve is
refilled through agreement stock only — never by emergency procurement or by taking from
another store. What no agreement covers stays unmet, with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from optimizer import Instance, Plan
from optimizer.contract import (
    HIGH_VOLTAGE,
    LOW_VOLTAGE_ONLY_KINDS,
    Demand,
    Policy,
    Source,
    Transport,
    trusted,
)
from supply.availability import SupplyState
from supply.projects.models import REPLENISHMENT_WEIGHT

HEAVY = "+heavy"
ALL_KINDS = frozenset({"reserve", "consignment", "agreement", "emergency"})


@dataclass(frozen=True)
class DemandItem:
    """A line of demand to match: a project's line or a replenishment requirement."""

    key: str
    project_id: str
    material: str
    quantity: int
    need_by: date
    voltage_class: str
    location: str
    weight: int
    package: str | None = None
    demand_line_id: int | None = None
    replenish_warehouse_id: str | None = None
    listed: bool = False  # listed at the feasibility stage (R1.4)


@dataclass(frozen=True)
class SourceRef:
    """What an instance source is in the database."""

    kind: str
    material: str
    warehouse_id: str | None
    unit_cost: Decimal
    supplier: str = ""
    consignment_id: int | None = None
    agreement_line_id: int | None = None


@dataclass
class MatchingProblem:
    """An instance and the maps from its ids back to demand and supply."""

    instance: Instance
    demands: dict[str, DemandItem]
    sources: dict[str, SourceRef]

    @cached_property
    def _by_id(self) -> dict[str, Demand]:
        return {d.id: d for d in self.instance.demands}

    @cached_property
    def _by_material(self) -> dict[str, list[Source]]:
        found: dict[str, list[Source]] = defaultdict(list)
        for s in self.instance.sources:
            found[s.material].append(s)
        return found

    def instance_demand(self, demand_id: str) -> Demand:
        """The instance's demand of that id."""
        return self._by_id[demand_id]

    def sources_of(self, material: str) -> list[Source]:
        """The instance's sources of a material."""
        return self._by_material.get(material, [])


def line_key(project_id: str, line_no: int) -> str:
    """Instance id of a project's demand line."""
    return f"{project_id}/{line_no}"


def replenishment_demands(*, supply: SupplyState, need_by: date) -> list[DemandItem]:
    """Replenishment requirements for reserve below quota, net of what is already on its way."""
    items = []
    for r in supply.reserve:
        pending = supply.pending_replenishment.get((r.warehouse_id, r.material), 0)
        short = r.quota - r.available - pending
        if short <= 0 or r.material not in supply.materials:
            continue
        items.append(
            DemandItem(
                key=f"REPL:{r.warehouse_id}:{r.material}",
                project_id=f"补库 {r.warehouse_id}",
                material=r.material,
                quantity=short,
                need_by=need_by,
                voltage_class=supply.materials[r.material].voltage_class,
                location=supply.warehouse_location[r.warehouse_id],
                weight=REPLENISHMENT_WEIGHT,
                replenish_warehouse_id=r.warehouse_id,
            )
        )
    return items


def build_instance(
    *,
    demands: list[DemandItem],
    supply: SupplyState,
    plan_date: date,
    order_day: date,
    penalty: Decimal,
    kinds: frozenset[str] = ALL_KINDS,
    emergency_for: Collection[str] | None = None,
) -> MatchingProblem:
    """Build the matching instance for `demands` over `supply`.

    Reserve and consignment are ready on `plan_date`; agreement lines deliver their lead time
    after `order_day` (the province's matching); emergency procurement its lead time after
    `plan_date`, at the central warehouse. Only materials someone asks for get sources, and
    only sources of the given `kinds`; emergency procurement only for the materials of
    `emergency_for` (None: all).
    """
    wanted = {d.material for d in demands}
    heavy = {code for code in wanted if supply.materials[code].heavy}

    def place(location: str, material: str) -> str:
        return location + HEAVY if material in heavy else location

    sources: list[Source] = []
    refs: dict[str, SourceRef] = {}

    def add(
        ref: SourceRef,
        source_id: str,
        *,
        quantity: int | None,
        location: str,
        ready: date,
        quota: int = 0,
    ) -> None:
        refs[source_id] = ref
        sources.append(
            Source.model_construct(
                id=source_id,
                kind=ref.kind,  # type: ignore[arg-type]
                material=ref.material,
                quantity=quantity,
                location=place(location, ref.material),
                ready=ready,
                unit_cost=float(ref.unit_cost),
                quota=quota,
            )
        )

    where = supply.warehouse_location
    for r in supply.reserve if "reserve" in kinds else ():
        if r.material in wanted and r.available > 0:
            price = supply.materials[r.material].standard_price
            ref = SourceRef("reserve", r.material, r.warehouse_id, price)
            add(
                ref,
                f"R:{r.warehouse_id}:{r.material}",
                quantity=r.available,
                location=where[r.warehouse_id],
                ready=plan_date,
                quota=r.quota,
            )
    for c in supply.consignment if "consignment" in kinds else ():
        if c.material in wanted and c.available > 0:
            ref = SourceRef(
                "consignment",
                c.material,
                c.warehouse_id,
                c.unit_cost,
                c.supplier,
                consignment_id=c.id,
            )
            add(
                ref,
                f"C:{c.id}",
                quantity=c.available,
                location=where[c.warehouse_id],
                ready=plan_date,
            )
    for a in supply.agreements if "agreement" in kinds else ():
        if a.material in wanted:
            ref = SourceRef(
                "agreement",
                a.material,
                a.delivery_warehouse_id,
                a.unit_price,
                a.supplier,
                agreement_line_id=a.id,
            )
            add(
                ref,
                f"A:{a.agreement_no}/{a.line_no}",
                quantity=a.available,
                location=where[a.delivery_warehouse_id],
                ready=order_day + timedelta(days=a.lead_days),
            )
    emergency = wanted if emergency_for is None else wanted & set(emergency_for)
    for code in sorted(emergency) if "emergency" in kinds else ():
        material = supply.materials[code]
        ref = SourceRef("emergency", code, supply.central_warehouse, material.emergency_price)
        add(
            ref,
            f"E:{code}",
            quantity=None,
            location=where[supply.central_warehouse],
            ready=plan_date + timedelta(days=material.emergency_lead_days),
        )

    # The parts are made without validation (model_construct): they come from the database's
    # checked rows, and the engine checks the instance's rules (`cross_check`) before solving.
    # Transport rows only from where a source is to where a demand is: no arc uses the others.
    froms = {s.location for s in sources}
    tos = {place(d.location, d.material) for d in demands}
    transport = [
        Transport.model_construct(from_=a, to=b, days=d)
        for (a, b), d in sorted(supply.transport.items())
        if a in froms and b in tos
    ]
    if heavy:
        transport += [
            Transport.model_construct(from_=a + HEAVY, to=b + HEAVY, days=d + (a != b))
            for (a, b), d in sorted(supply.transport.items())
            if a + HEAVY in froms and b + HEAVY in tos
        ]
    instance = Instance.model_construct(
        version=1,
        plan_date=plan_date,
        demands=[
            trusted(
                Demand,
                {
                    "id": d.key,
                    "project": d.project_id,
                    "material": d.material,
                    "quantity": d.quantity,
                    "need_by": d.need_by,
                    "voltage_class": d.voltage_class,
                    "location": place(d.location, d.material),
                    "weight": d.weight,
                    "package": d.package,
                },
            )
            for d in demands
        ],
        sources=sources,
        transport=transport,
        policy=Policy.model_construct(reserve_below_quota_penalty=float(penalty)),
    )
    return MatchingProblem(instance=instance, demands={d.key: d for d in demands}, sources=refs)


def after_plan(supply: SupplyState, problem: MatchingProblem, plan: Plan) -> SupplyState:
    """The supply left once `plan` has taken its reserve, consignment and agreement quantities."""
    taken: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        taken[a.source] += a.quantity
    left = {
        (ref.kind, ref.warehouse_id, ref.material, ref.consignment_id, ref.agreement_line_id): q
        for source_id, q in taken.items()
        for ref in [problem.sources[source_id]]
    }

    def used(
        kind: str, warehouse: str | None, material: str, c: int | None = None, a: int | None = None
    ) -> int:
        return int(left.get((kind, warehouse, material, c, a), 0))

    return replace(
        supply,
        reserve=[
            replace(r, available=r.available - used("reserve", r.warehouse_id, r.material))
            for r in supply.reserve
        ],
        consignment=[
            replace(
                c, available=c.available - used("consignment", c.warehouse_id, c.material, c.id)
            )
            for c in supply.consignment
        ],
        agreements=[
            replace(
                a,
                available=a.available
                - used("agreement", a.delivery_warehouse_id, a.material, None, a.id),
            )
            for a in supply.agreements
        ],
    )


def arrival_at(source: Source, demand: Demand, days: dict[tuple[str, str], int]) -> date | None:
    """When `source` would arrive at `demand`'s site, by the engine's rules (same material,
    reserve and consignment only up to 10 kV, a transport row between the places), else None."""
    if source.material != demand.material:
        return None
    if demand.voltage_class in HIGH_VOLTAGE and source.kind in LOW_VOLTAGE_ONLY_KINDS:
        return None
    trip = 0 if source.location == demand.location else days.get((source.location, demand.location))
    return None if trip is None else source.ready + timedelta(days=trip)


def transport_days(instance: Instance) -> dict[tuple[str, str], int]:
    """The instance's transport table as a lookup."""
    return {(t.from_, t.to): t.days for t in instance.transport}


def prefer_reserve(problem: MatchingProblem, plan: Plan, keys: Collection[str]) -> tuple[Plan, int]:
    """Move the demands `keys` onto physical reserve the plan left free, where it arrives no later
    than what it replaces (R7: a project over its package's budget relies on reserve).

    Only reserve nobody in the plan uses is taken, and never later than the replaced supply (nor
    after the need-by when that was met), so no one's lines get later or go unmet; only cost
    moves. Returns the plan with the moved allocations and the quantity moved.
    """
    instance = problem.instance
    demands = {d.id: d for d in instance.demands if d.id in keys}
    used: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        used[a.source] += a.quantity
    days = transport_days(instance)
    free = {
        s.id: (s, (s.quantity or 0) - used[s.id])
        for s in instance.sources
        if s.kind == "reserve" and (s.quantity or 0) > used[s.id]
    }
    moved = 0
    allocations = []
    for a in plan.allocations:
        demand = demands.get(a.demand)
        if demand is None or problem.sources[a.source].kind == "reserve":
            allocations.append(a)
            continue
        latest = max(a.arrival, demand.need_by)
        options = []
        for source, left in free.values():
            arrival = arrival_at(source, demand, days) if left > 0 else None
            if arrival is not None and arrival <= latest:
                options.append((arrival, source.unit_cost, source.id))
        rest = a.quantity
        for arrival, _, source_id in sorted(options):
            if rest <= 0:
                break
            source, left = free[source_id]
            take = min(rest, left)
            free[source_id] = (source, left - take)
            rest -= take
            moved += int(take)
            allocations.append(
                a.model_copy(
                    update={
                        "source": source_id,
                        "quantity": take,
                        "arrival": arrival,
                        "late_days": max(0, (arrival - demand.need_by).days),
                    }
                )
            )
        if rest > 0:
            allocations.append(a.model_copy(update={"quantity": rest}))
    return plan.model_copy(update={"allocations": allocations}), moved
