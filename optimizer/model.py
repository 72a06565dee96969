"""The flow model: per material, demands push their quantity to sources, then to a sink.

Nodes of a material: one per demand (supply = its quantity), one per source, one sink that takes
everything. Arc families, one function each, every arc carrying its (unmet, lateness, cost) tier
costs:

- `add_demand_cover`: demand → eligible source, at weight × late days and the unit cost;
- `add_unmet`: demand → sink, at the demand's weight in tier 1 (what is not supplied);
- `add_source_floor`: source → sink, the units of its floor, each used one saving its floor
  penalty;
- `add_source_capacity`: source → sink, the stock that can go without touching the quota;
- `add_quota_penalty`: source → sink, reserve stock below its quota, at the penalty per unit.

A source's stock is cut into these parts in the order a plan uses them: first the floor (each unit
saves the floor penalty), then what is free, last what is below the quota (each unit costs the
penalty). A unit can be both in the floor and below the quota; it then carries both. The marginal
cost of a source's units never decreases, so the cheapest parts fill first and the arcs give
exactly the contract's `floor_penalty · max(0, floor − used)` and
`penalty · max(0, quota − left)` terms.

Non-negative costs. A floor unit saves money: a negative cost. Instead every path from a demand to
the sink of a material is shifted by P = the material's largest floor penalty (`floor_shift`):
unmet arcs cost P, a floor arc P − floor_penalty, every other source → sink arc P more. Each unit
of demand takes exactly one path, so the model's tier 3 is the contract's cost + P · (the
material's demand) − Σ floor_penalty · floor: a constant apart, the same optima. Without floors
P = 0 and the network is what it always was.

The families are built for all materials at once (vectorised) and sliced per material: the base
problem separates by material, and small networks solve much faster than one large one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from optimizer.lexmin import FlowProblem
from optimizer.network import KINDS, UNLIMITED, Matching

RESERVE = KINDS.index("reserve")


class ArcColumns(NamedTuple):
    """One array per property of the arcs, an element per arc."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    unmet: np.ndarray  # tier 1
    late: np.ndarray  # tier 2
    cost: np.ndarray  # tier 3

    def tiers(self) -> np.ndarray:
        """The tier costs as one (3, n_arcs) array, in the order the tiers rank."""
        return np.vstack((self.unmet, self.late, self.cost))


@dataclass
class MaterialModel:
    """A material's flow problem and how its cover arcs map back to the instance's arcs."""

    problem: FlowProblem
    cover_arcs: np.ndarray  # global arc index of each cover arc, in network order
    cover: slice  # where those cover arcs stand among the problem's arcs

    def cover_flow(self, flow: np.ndarray) -> np.ndarray:
        """The flow on the cover arcs, in the order of `cover_arcs`."""
        return flow[self.cover]


@dataclass
class Layout:
    """Node numbering: per material n_d demands, then n_s sources, then the sink."""

    n_demands: np.ndarray  # per material
    sink: np.ndarray  # per material: n_d + n_s
    demand_node: np.ndarray  # per demand
    source_node: np.ndarray  # per source

    @staticmethod
    def of(m: Matching) -> Layout:
        """Number the nodes of every material's network."""
        n = len(m.materials)
        n_d = np.bincount(m.d_material, minlength=n)
        n_s = np.bincount(m.s_material, minlength=n)
        return Layout(
            n_demands=n_d,
            sink=n_d + n_s,
            demand_node=_rank_within(m.d_material, n),
            source_node=n_d[m.s_material] + _rank_within(m.s_material, n),
        )


@dataclass
class _Arcs:
    """The arcs as their families add them: a material per arc, and the family's columns."""

    material: list[np.ndarray] = field(default_factory=list)
    families: list[ArcColumns] = field(default_factory=list)

    def add(
        self,
        material: np.ndarray,
        *,
        tail: np.ndarray,
        head: np.ndarray,
        capacity: np.ndarray,
        unmet: np.ndarray | int,
        late: np.ndarray | int,
        cost: np.ndarray | int,
    ) -> None:
        """Append a family of arcs; a number is the value of every arc of the family."""

        def column(value: np.ndarray | int) -> np.ndarray:
            if isinstance(value, np.ndarray):
                return value
            return np.broadcast_to(np.int64(value), material.shape)

        self.material.append(material)
        self.families.append(
            ArcColumns(
                tail=tail,
                head=head,
                capacity=capacity,
                unmet=column(unmet),
                late=column(late),
                cost=column(cost),
            )
        )

    def columns(self, order: np.ndarray) -> ArcColumns:
        """Every family's arcs in one set of columns, taken in `order`."""
        return ArcColumns(
            *(np.concatenate(same)[order] for same in zip(*self.families, strict=True))
        )


def material_models(m: Matching) -> Iterator[tuple[int, MaterialModel]]:
    """Yield (material index, flow model) for every material that has demand, in order."""
    n = len(m.materials)
    layout = Layout.of(m)
    built = _Arcs()
    capacity = source_capacity(m)
    parts = SourceParts.of(m, capacity)
    shift = floor_shift(m, capacity)
    add_demand_cover(built, m, layout, capacity)  # first: a material's cover arcs lead its arcs
    add_unmet(built, m, layout, shift)
    add_source_floor(built, m, layout, parts, shift)
    add_source_capacity(built, m, layout, parts, shift)
    add_quota_penalty(built, m, layout, parts, shift)

    material = np.concatenate(built.material)
    arcs = built.columns(np.argsort(material, kind="stable"))  # families keep their order
    tiers = arcs.tiers()
    arcs_of = _blocks(np.bincount(material, minlength=n))

    a_material = m.d_material[m.a_demand]
    a_order = np.argsort(a_material, kind="stable")
    cover_arcs_of = _blocks(np.bincount(a_material, minlength=n))

    node_start = np.concatenate(([0], np.cumsum(layout.sink + 1)))
    nodes_of = _blocks(layout.sink + 1)
    supply = np.zeros(int(node_start[-1]), dtype=np.int64)
    supply[node_start[m.d_material] + layout.demand_node] = m.d_qty
    supply[node_start[:-1] + layout.sink] = -np.bincount(
        m.d_material, weights=m.d_qty, minlength=n
    ).astype(np.int64)

    for k in np.flatnonzero(layout.n_demands).tolist():
        own = arcs_of[k]
        cover_arcs = a_order[cover_arcs_of[k]]
        problem = FlowProblem(
            n_nodes=int(layout.sink[k]) + 1,
            tail=arcs.tail[own],
            head=arcs.head[own],
            capacity=arcs.capacity[own],
            tiers=tiers[:, own],
            supply=supply[nodes_of[k]],
        )
        yield k, MaterialModel(problem, cover_arcs, cover=slice(0, len(cover_arcs)))


def _blocks(sizes: np.ndarray) -> list[slice]:
    """Consecutive blocks of the given sizes from position 0, one slice each."""
    ends = np.cumsum(sizes).tolist()
    return [slice(end - size, end) for size, end in zip(sizes.tolist(), ends, strict=True)]


def _rank_within(keys: np.ndarray, n: int) -> np.ndarray:
    """Position of each element among the elements with the same key, in index order."""
    order = np.argsort(keys, kind="stable")
    starts = np.concatenate(([0], np.cumsum(np.bincount(keys, minlength=n))[:-1]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - starts[keys[order]]
    return rank


def source_capacity(m: Matching) -> np.ndarray:
    """Stock per source; an unlimited source is capped by what its demands could take."""
    capacity = m.s_qty.copy()
    reachable = np.bincount(m.a_source, weights=m.d_qty[m.a_demand], minlength=m.n_sources)
    unlimited = capacity == UNLIMITED
    capacity[unlimited] = reachable[unlimited].astype(np.int64)
    return capacity


def add_demand_cover(built: _Arcs, m: Matching, layout: Layout, capacity: np.ndarray) -> None:
    """Demand → source arcs: lateness at the demand's weight per day, cost at the unit cost."""
    d, s = m.a_demand, m.a_source
    built.add(
        m.d_material[d],
        tail=layout.demand_node[d],
        head=layout.source_node[s],
        capacity=np.minimum(m.d_qty[d], capacity[s]),
        unmet=0,
        late=m.d_weight[d] * m.a_late,
        cost=m.s_cost[s],
    )


@dataclass
class SourceParts:
    """Each source's stock cut where its marginal cost changes: per source, the units of its floor
    above the quota level and below it, the free units, and the units below the quota only."""

    floor_free: np.ndarray  # in the floor, not below the quota: saves the floor penalty
    floor_below: np.ndarray  # in the floor and below the quota: saves one, costs the other
    free: np.ndarray
    below: np.ndarray  # below the quota, not in the floor: costs the penalty

    @staticmethod
    def of(m: Matching, capacity: np.ndarray) -> SourceParts:
        """Cut every source's capacity at its floor and at its quota level."""
        floor = np.where(m.s_floor_penalty > 0, np.minimum(m.s_floor, capacity), 0)
        # Reserve below its quota matters only where drawing it costs something.
        quota = np.where(m.s_kind == RESERVE, np.minimum(capacity, m.s_quota), 0)
        if not m.penalty:
            quota = np.zeros_like(capacity)
        level = capacity - quota  # units above the quota level come first
        return SourceParts(
            floor_free=np.minimum(floor, level),
            floor_below=np.maximum(0, floor - level),
            free=np.maximum(0, level - floor),
            below=capacity - np.maximum(floor, level),
        )


def floor_shift(m: Matching, capacity: np.ndarray) -> np.ndarray:
    """Per material, P: the largest floor penalty of its sources whose floor can carry flow (0
    where none): every path to the sink is shifted by it, so that no arc cost is negative."""
    shift = np.zeros(len(m.materials), dtype=np.int64)
    live = (m.s_floor_penalty > 0) & (np.minimum(m.s_floor, capacity) > 0)
    np.maximum.at(shift, m.s_material[live], m.s_floor_penalty[live])
    return shift


def _shifted(shift: np.ndarray, material: np.ndarray) -> np.ndarray | int:
    """Each arc's shift by its material (0, a number, where no material has a floor)."""
    return shift[material] if shift.any() else 0


def add_unmet(built: _Arcs, m: Matching, layout: Layout, shift: np.ndarray) -> None:
    """Demand → sink arcs: every unit not supplied costs the demand's weight in tier 1 (and the
    material's shift P in tier 3, as every other path does)."""
    built.add(
        m.d_material,
        tail=layout.demand_node,
        head=layout.sink[m.d_material],
        capacity=m.d_qty,
        unmet=m.d_weight,
        late=0,
        cost=_shifted(shift, m.d_material),
    )


def _source_arcs(
    built: _Arcs,
    m: Matching,
    layout: Layout,
    capacity: np.ndarray,
    cost: np.ndarray | int,
    *,
    all_sources: bool = False,
) -> None:
    """Source → sink arcs of the given capacity and tier-3 cost per source (only those with
    capacity, unless `all_sources`)."""
    keep = np.arange(m.n_sources) if all_sources else np.flatnonzero(capacity > 0)
    material = m.s_material[keep]
    built.add(
        material,
        tail=layout.source_node[keep],
        head=layout.sink[material],
        capacity=capacity[keep],
        unmet=0,
        late=0,
        cost=cost[keep] if isinstance(cost, np.ndarray) else cost,
    )


def add_source_floor(
    built: _Arcs, m: Matching, layout: Layout, parts: SourceParts, shift: np.ndarray
) -> None:
    """Source → sink arcs for the units of a source's floor: each used saves its floor penalty
    (P − floor penalty; + the below-quota penalty for floor units below the quota level)."""
    if not shift.any():
        return
    saving = shift[m.s_material] - m.s_floor_penalty
    _source_arcs(built, m, layout, parts.floor_free, saving)
    if m.penalty:
        _source_arcs(built, m, layout, parts.floor_below, saving + m.penalty)


def add_source_capacity(
    built: _Arcs, m: Matching, layout: Layout, parts: SourceParts, shift: np.ndarray
) -> None:
    """Source → sink arcs: the stock a source can give past its floor without going below its
    quota (at the material's shift P)."""
    cost = _shifted(shift, m.s_material)
    _source_arcs(built, m, layout, parts.free, cost, all_sources=True)


def add_quota_penalty(
    built: _Arcs, m: Matching, layout: Layout, parts: SourceParts, shift: np.ndarray
) -> None:
    """Source → sink arcs for reserve stock below its quota, at the penalty per unit (+ P)."""
    if not m.penalty:
        return
    _source_arcs(built, m, layout, parts.below, _shifted(shift, m.s_material) + m.penalty)
