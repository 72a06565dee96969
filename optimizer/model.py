"""The flow model: per material, demands push their quantity to sources, then to a sink.

Nodes of a material: one per demand (supply = its quantity), one per source, one sink that takes
everything. Arc families, one function each, every arc carrying its (unmet, lateness, cost) tier
costs:

- `add_demand_cover`: demand → eligible source, at weight × late days and the unit cost;
- `add_unmet`: demand → sink, at the demand's weight in tier 1 (what is not supplied);
- `add_source_capacity`: source → sink, the stock that can go without touching the quota;
- `add_quota_penalty`: source → sink, reserve stock below its quota, at the penalty per unit.

The families are built for all materials at once (vectorised) and sliced per material: the base
problem separates by material, and small networks solve much faster than one large one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from optimizer.lexmin import FlowProblem
from optimizer.network import KINDS, UNLIMITED, Matching

RESERVE = KINDS.index("reserve")


@dataclass
class MaterialModel:
    """A material's flow problem and how its first arcs map back to the instance's arcs."""

    problem: FlowProblem
    cover_arcs: np.ndarray  # global arc index of each cover arc, in network order

    @property
    def n_cover(self) -> int:
        return len(self.cover_arcs)


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
    material: list[np.ndarray] = field(default_factory=list)
    columns: list[list[np.ndarray]] = field(default_factory=lambda: [[] for _ in range(6)])

    def add(self, material: np.ndarray, *values: np.ndarray | int) -> None:
        """Append arcs: tail, head, capacity, unmet cost, lateness cost, money cost."""
        self.material.append(material)
        for column, value in zip(self.columns, values, strict=True):
            if isinstance(value, np.ndarray):
                column.append(value)
            else:
                column.append(np.broadcast_to(np.int64(value), material.shape))


def material_models(m: Matching) -> Iterator[tuple[int, MaterialModel]]:
    """Yield (material index, flow model) for every material that has demand, in order."""
    n = len(m.materials)
    layout = Layout.of(m)
    built = _Arcs()
    capacity = source_capacity(m)
    add_demand_cover(built, m, layout, capacity)
    add_unmet(built, m, layout)
    add_source_capacity(built, m, layout, capacity)
    add_quota_penalty(built, m, layout)

    material = np.concatenate(built.material)
    order = np.argsort(material, kind="stable")  # cover arcs stay first within a material
    tail, head, cap, unmet, late, cost = (np.concatenate(c)[order] for c in built.columns)
    tiers = np.vstack((unmet, late, cost))
    bounds = np.searchsorted(material[order], np.arange(n + 1))

    a_material = m.d_material[m.a_demand]
    a_order = np.argsort(a_material, kind="stable")
    a_bounds = np.searchsorted(a_material[a_order], np.arange(n + 1))

    node_start = np.concatenate(([0], np.cumsum(layout.sink + 1)))
    supply = np.zeros(int(node_start[-1]), dtype=np.int64)
    supply[node_start[m.d_material] + layout.demand_node] = m.d_qty
    supply[node_start[:-1] + layout.sink] = -np.bincount(
        m.d_material, weights=m.d_qty, minlength=n
    ).astype(np.int64)

    for k in np.flatnonzero(layout.n_demands).tolist():
        lo, hi = bounds[k], bounds[k + 1]
        problem = FlowProblem(
            n_nodes=int(layout.sink[k]) + 1,
            tail=tail[lo:hi],
            head=head[lo:hi],
            capacity=cap[lo:hi],
            tiers=tiers[:, lo:hi],
            supply=supply[node_start[k] : node_start[k + 1]],
        )
        yield k, MaterialModel(problem=problem, cover_arcs=a_order[a_bounds[k] : a_bounds[k + 1]])


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
        layout.demand_node[d],
        layout.source_node[s],
        np.minimum(m.d_qty[d], capacity[s]),
        0,
        m.d_weight[d] * m.a_late,
        m.s_cost[s],
    )


def add_unmet(built: _Arcs, m: Matching, layout: Layout) -> None:
    """Demand → sink arcs: every unit not supplied costs the demand's weight in tier 1."""
    built.add(
        m.d_material, layout.demand_node, layout.sink[m.d_material], m.d_qty, m.d_weight, 0, 0
    )


def add_source_capacity(built: _Arcs, m: Matching, layout: Layout, capacity: np.ndarray) -> None:
    """Source → sink arcs: the stock a source can give without going below its quota."""
    quota = np.where(m.s_kind == RESERVE, m.s_quota, 0) if m.penalty else 0
    free = np.maximum(0, capacity - quota)
    built.add(m.s_material, layout.source_node, layout.sink[m.s_material], free, 0, 0, 0)


def add_quota_penalty(built: _Arcs, m: Matching, layout: Layout) -> None:
    """Source → sink arcs for reserve stock below its quota, at the penalty per unit."""
    if not m.penalty:
        return
    below = np.where(m.s_kind == RESERVE, np.minimum(m.s_qty, m.s_quota), 0)
    keep = np.flatnonzero(below > 0)
    material = m.s_material[keep]
    built.add(
        material, layout.source_node[keep], layout.sink[material], below[keep], 0, 0, m.penalty
    )
