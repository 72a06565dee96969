"""The flow model of one material: demands push their quantity to sources, to the sink.

Nodes: one per demand (supply = its quantity), one per source, one sink (takes everything).
Arc families, one function each, every arc carrying its (unmet, lateness, cost) tier costs:

- `add_demand_cover`: demand → eligible source, at weight × late days and unit cost;
- `add_unmet`: demand → sink, at the demand's weight in tier 1 (what is not supplied);
- `add_source_capacity`: source → sink up to the stock that can go without touching the quota;
- `add_quota_penalty`: source → sink for reserve stock below its quota, at the penalty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from optimizer.lexmin import FlowProblem
from optimizer.network import KINDS, UNLIMITED, Matching

RESERVE = KINDS.index("reserve")


@dataclass
class MaterialModel:
    """A material's flow problem and how its arcs map back to the instance."""

    problem: FlowProblem
    demands: np.ndarray  # global demand index per demand node
    cover_arcs: np.ndarray  # global arc index of each cover arc (the first arcs of the network)
    n_cover: int


def material_models(m: Matching) -> Iterator[tuple[int, MaterialModel]]:
    """Yield (material index, flow model) for every material that has demand, lazily."""
    n = len(m.materials)
    d_groups, s_groups = _groups(m.d_material, n), _groups(m.s_material, n)
    a_groups = _groups(m.d_material[m.a_demand], n)
    local = np.empty(m.n_demands + m.n_sources, dtype=np.int64)
    for groups, offset in ((d_groups, 0), (s_groups, m.n_demands)):
        for members in groups:
            local[offset + members] = np.arange(len(members))
    for material in range(n):
        if len(d_groups[material]):
            yield (
                material,
                build_material_model(
                    m, d_groups[material], s_groups[material], a_groups[material], local
                ),
            )


def _groups(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """Indices per key value, each group in ascending index order."""
    order = np.argsort(keys, kind="stable")
    return np.split(order, np.searchsorted(keys[order], np.arange(1, n)))


class _Arcs:
    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, tail, head, capacity, unmet, late, cost) -> None:  # type: ignore[no-untyped-def]
        n = len(tail)
        self.parts.append(
            tuple(
                np.broadcast_to(np.asarray(x, dtype=np.int64), (n,))
                for x in (tail, head, capacity, unmet, late, cost)
            )
        )

    def arrays(self) -> list[np.ndarray]:
        return [np.concatenate([p[i] for p in self.parts]) for i in range(6)]


def build_material_model(
    m: Matching, demands: np.ndarray, sources: np.ndarray, arcs: np.ndarray, local: np.ndarray
) -> MaterialModel:
    """Build the flow problem over one material's demands, sources and eligible arcs.

    `local` maps a global demand index, and (offset by the number of demands) a global source
    index, to its position within its material.
    """
    n_d, n_s = len(demands), len(sources)
    sink = n_d + n_s
    arc_d = local[m.a_demand[arcs]]
    arc_s = n_d + local[m.n_demands + m.a_source[arcs]]
    qty = m.d_qty[demands]
    capacity = _source_capacity(m, sources, arc_s - n_d, qty[arc_d])

    built = _Arcs()
    add_demand_cover(built, m, arcs, arc_d, arc_s, qty, capacity[arc_s - n_d])
    add_unmet(built, m, demands, sink)
    add_source_capacity(built, m, sources, n_d, sink, capacity)
    add_quota_penalty(built, m, sources, n_d, sink)
    tail, head, cap, unmet, late, cost = built.arrays()

    supply = np.zeros(n_d + n_s + 1, dtype=np.int64)
    supply[:n_d] = qty
    supply[sink] = -int(qty.sum())
    problem = FlowProblem(
        n_nodes=n_d + n_s + 1,
        tail=tail,
        head=head,
        capacity=cap,
        tiers=np.vstack((unmet, late, cost)),
        supply=supply,
    )
    return MaterialModel(problem=problem, demands=demands, cover_arcs=arcs, n_cover=len(arcs))


def _source_capacity(
    m: Matching, sources: np.ndarray, arc_source: np.ndarray, arc_qty: np.ndarray
) -> np.ndarray:
    """Stock per source; an unlimited source is capped by what its demands could take."""
    capacity = m.s_qty[sources].copy()
    reachable = np.bincount(arc_source, weights=arc_qty, minlength=len(sources)).astype(np.int64)
    unlimited = capacity == UNLIMITED
    capacity[unlimited] = reachable[unlimited]
    return capacity


def add_demand_cover(built: _Arcs, m: Matching, arcs, arc_d, arc_s, qty, source_cap) -> None:  # type: ignore[no-untyped-def]
    """Demand → source arcs: lateness at the demand's weight per day, cost at the unit cost."""
    late = m.d_weight[m.a_demand[arcs]] * m.a_late[arcs]
    cost = m.s_cost[m.a_source[arcs]]
    built.add(arc_d, arc_s, np.minimum(qty[arc_d], source_cap), 0, late, cost)


def add_unmet(built: _Arcs, m: Matching, demands: np.ndarray, sink: int) -> None:
    """Demand → sink arcs: every unit not supplied costs the demand's weight in tier 1."""
    built.add(np.arange(len(demands)), sink, m.d_qty[demands], m.d_weight[demands], 0, 0)


def add_source_capacity(built: _Arcs, m: Matching, sources, n_d: int, sink: int, capacity) -> None:  # type: ignore[no-untyped-def]
    """Source → sink arcs: the stock a source can give without going below its quota."""
    quota = np.where(m.s_kind[sources] == RESERVE, m.s_quota[sources], 0) if m.penalty else 0
    free = np.maximum(0, capacity - quota)
    built.add(n_d + np.arange(len(sources)), sink, free, 0, 0, 0)


def add_quota_penalty(built: _Arcs, m: Matching, sources, n_d: int, sink: int) -> None:  # type: ignore[no-untyped-def]
    """Source → sink arcs for reserve stock below its quota, at the penalty per unit."""
    if not m.penalty:
        return
    reserve = m.s_kind[sources] == RESERVE
    below = np.where(reserve, np.minimum(m.s_qty[sources], m.s_quota[sources]), 0)
    keep = below > 0
    built.add(n_d + np.flatnonzero(keep), sink, below[keep], 0, 0, m.penalty)
