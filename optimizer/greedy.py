"""The hand planner's method, as a baseline to beat.

Lines are taken earliest need-by first, heavier weight first (then in the order given). Each line
takes the cheapest eligible source that arrives on time, then the next cheapest on-time one; what
is still missing comes from the earliest-arriving sources. Quota is not considered: spreadsheets
do not see it.
"""

from __future__ import annotations

import numpy as np

from optimizer.network import UNLIMITED, Matching


def greedy_flow(m: Matching, materials: np.ndarray | None = None) -> np.ndarray:
    """Return the quantity per eligible arc that the hand planner's rule allocates."""
    x = np.zeros(len(m.a_demand), dtype=np.int64)
    remaining = m.s_qty.copy()
    remaining[remaining == UNLIMITED] = np.iinfo(np.int64).max
    order = np.lexsort((np.arange(m.n_demands), -m.d_weight, m.d_need_by))
    if materials is not None:
        wanted = np.zeros(len(m.materials), dtype=bool)
        wanted[materials] = True
        order = order[wanted[m.d_material[order]]]
    # Every demand's arcs in the planner's order of preference: on time first, cheapest first;
    # then late, earliest first; ties by source order.
    on_time = m.a_late == 0
    cost = m.s_cost[m.a_source]
    preference = np.lexsort(
        (
            m.a_source,
            np.where(on_time, m.a_arrival, cost),
            np.where(on_time, cost, m.a_arrival),
            ~on_time,
            m.a_demand,
        )
    )
    bounds = np.searchsorted(m.a_demand[preference], np.arange(m.n_demands + 1)).tolist()
    ranked = preference.tolist()
    arc_source = m.a_source.tolist()
    quantity = m.d_qty.tolist()
    left = remaining.tolist()
    taken = x.tolist()
    for d in order.tolist():
        need = quantity[d]
        for a in ranked[bounds[d] : bounds[d + 1]]:
            s = arc_source[a]
            take = min(need, left[s])
            if take > 0:
                taken[a] = take
                left[s] -= take
                need -= take
                if need == 0:
                    break
    return np.asarray(taken, dtype=np.int64)
