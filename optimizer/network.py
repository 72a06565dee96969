"""The instance as arrays: demands, sources and the eligible pairs between them.

Quantities, weights and money are scaled to integers once, here: the flow engine needs integers,
and exact integers keep the three tiers exact. A scale is the smallest power of ten that makes
every value of its kind whole (at most 10**6; finer data is rounded and the plan says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from optimizer.contract import HIGH_VOLTAGE, LOW_VOLTAGE_ONLY_KINDS, Instance

MAX_DECIMALS = 6
UNLIMITED = -1
# The flow engine keeps costs in int64 and scales them by the nodes of the network + 1: an arc
# cost times (nodes + 1) must stay below this headroom (`optimizer.validate` refuses instances
# that would not; `lexmin` combines tiers only within it). OR-Tools' SimpleMinCostFlow refuses
# (BAD_COST_RANGE) a cost past int64-max / (2·(nodes + 1)), and later when a node potential
# would pass int64: on networks of this shape (2 to 5,000 nodes, random arcs and costs, OR-Tools
# 9.15) that happened past about int64-max / (2.45·(nodes + 1)). 2⁶¹ keeps a factor 4.
EXACT_LIMIT = 2**61
# Quantities are summed in float64 (per demand, per source, per material): exact below 2**53.
EXACT_SUM = 2**53
KINDS = ("reserve", "consignment", "agreement", "emergency")


def _decimals(value: float | int) -> int:
    if isinstance(value, int) or value.is_integer():
        return 0
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


@dataclass(frozen=True)
class Scale:
    """Powers of ten turning quantities, weights and money into integers."""

    quantity: int
    weight: int
    money: int
    rounded: bool

    @staticmethod
    def of(instance: Instance) -> Scale:
        """Choose the smallest scales that keep every value of the instance exact."""
        quantities = [d.quantity for d in instance.demands]
        quantities += [s.quantity for s in instance.sources if s.quantity is not None]
        quantities += [s.quota for s in instance.sources]
        quantities += [s.floor for s in instance.sources]
        money = [s.unit_cost for s in instance.sources]
        money += [s.floor_penalty for s in instance.sources]
        money.append(instance.policy.reserve_below_quota_penalty)
        weights = [d.weight for d in instance.demands]
        needed = [
            max(map(_decimals, set(values)), default=0) for values in (quantities, weights, money)
        ]
        rounded = any(n > MAX_DECIMALS for n in needed)
        q, w, m = (10 ** min(n, MAX_DECIMALS) for n in needed)
        return Scale(quantity=q, weight=w, money=m, rounded=rounded)


def _scaled(values: list[float | int], scale: int) -> np.ndarray:
    return np.array([round(v * scale) for v in values], dtype=np.int64)


@dataclass
class Matching:
    """Arrays over demands (d_*), sources (s_*) and eligible arcs (a_*), indexed by position."""

    instance: Instance
    scale: Scale
    materials: list[str]
    d_material: np.ndarray
    d_qty: np.ndarray
    d_weight: np.ndarray
    d_need_by: np.ndarray  # proleptic ordinal
    s_material: np.ndarray
    s_kind: np.ndarray  # index into KINDS
    s_qty: np.ndarray  # UNLIMITED for emergency without a limit
    s_cost: np.ndarray
    s_quota: np.ndarray
    s_floor: np.ndarray
    s_floor_penalty: np.ndarray
    penalty: int
    a_demand: np.ndarray
    a_source: np.ndarray
    a_arrival: np.ndarray
    a_late: np.ndarray
    demand_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    def arcs_of(self, d: int) -> range:
        """The arcs of demand `d` (arcs are in demand order)."""
        return range(int(self.demand_start[d]), int(self.demand_start[d + 1]))

    @property
    def n_demands(self) -> int:
        return len(self.d_qty)

    @property
    def n_sources(self) -> int:
        return len(self.s_qty)


def build_matching(instance: Instance, scale: Scale | None = None) -> Matching:
    """Turn a validated instance into arrays and its eligible (demand, source) arcs (its numbers
    checked by `optimizer.validate.magnitude_errors`: they fit int64 once scaled)."""
    scale = scale or Scale.of(instance)
    demands, sources = instance.demands, instance.sources
    materials = sorted({d.material for d in demands} | {s.material for s in sources})
    material_index = {m: i for i, m in enumerate(materials)}
    locations = sorted(
        {d.location for d in demands}
        | {s.location for s in sources}
        | {t.from_ for t in instance.transport}
        | {t.to for t in instance.transport}
    )
    location_index = {loc: i for i, loc in enumerate(locations)}
    days = np.full((len(locations), len(locations)), -1, dtype=np.int64)
    np.fill_diagonal(days, 0)
    for t in instance.transport:
        days[location_index[t.from_], location_index[t.to]] = t.days

    d_material = np.array([material_index[d.material] for d in demands], dtype=np.int64)
    d_location = np.array([location_index[d.location] for d in demands], dtype=np.int64)
    d_high = np.array([d.voltage_class in HIGH_VOLTAGE for d in demands], dtype=bool)
    d_need_by = np.array([d.need_by.toordinal() for d in demands], dtype=np.int64)
    s_material = np.array([material_index[s.material] for s in sources], dtype=np.int64)
    s_location = np.array([location_index[s.location] for s in sources], dtype=np.int64)
    s_kind = np.array([KINDS.index(s.kind) for s in sources], dtype=np.int64)
    s_low_only = np.array([s.kind in LOW_VOLTAGE_ONLY_KINDS for s in sources], dtype=bool)
    s_ready = np.array([s.ready.toordinal() for s in sources], dtype=np.int64)
    s_qty = np.array(
        [UNLIMITED if s.quantity is None else round(s.quantity * scale.quantity) for s in sources],
        dtype=np.int64,
    )

    a_demand, a_source = _same_material_pairs(d_material, s_material, len(materials))
    eligible = ~(d_high[a_demand] & s_low_only[a_source])
    a_demand, a_source = a_demand[eligible], a_source[eligible]
    transport_days = days[s_location[a_source], d_location[a_demand]]
    if (transport_days < 0).any():
        raise ValueError("an eligible arc has no transport row; validate the instance first")
    a_arrival = s_ready[a_source] + transport_days
    a_late = np.maximum(0, a_arrival - d_need_by[a_demand])

    demand_start = np.searchsorted(a_demand, np.arange(len(demands) + 1))
    return Matching(
        instance=instance,
        scale=scale,
        materials=materials,
        d_material=d_material,
        d_qty=_scaled([d.quantity for d in demands], scale.quantity),
        d_weight=_scaled([d.weight for d in demands], scale.weight),
        d_need_by=d_need_by,
        s_material=s_material,
        s_kind=s_kind,
        s_qty=s_qty,
        s_cost=_scaled([s.unit_cost for s in sources], scale.money),
        s_quota=_scaled([s.quota for s in sources], scale.quantity),
        s_floor=_scaled([s.floor for s in sources], scale.quantity),
        s_floor_penalty=_scaled([s.floor_penalty for s in sources], scale.money),
        penalty=round(instance.policy.reserve_below_quota_penalty * scale.money),
        a_demand=a_demand,
        a_source=a_source,
        a_arrival=a_arrival,
        a_late=a_late,
        demand_start=demand_start,
    )


def _same_material_pairs(
    d_material: np.ndarray, s_material: np.ndarray, n_materials: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (demand, source) pair of the same material, ordered by demand then source."""
    s_order = np.argsort(s_material, kind="stable")
    s_count = np.bincount(s_material, minlength=n_materials)
    s_start = np.concatenate(([0], np.cumsum(s_count)[:-1]))
    per_demand = s_count[d_material] if len(d_material) else np.zeros(0, dtype=np.int64)
    a_demand = np.repeat(np.arange(len(d_material)), per_demand)
    # position of each arc within its demand's run, then offset into that material's sources
    run_start = np.repeat(np.cumsum(per_demand) - per_demand, per_demand)
    within = np.arange(len(a_demand)) - run_start
    a_source = s_order[s_start[d_material[a_demand]] + within] if len(a_demand) else a_demand
    return a_demand.astype(np.int64), np.asarray(a_source, dtype=np.int64)
