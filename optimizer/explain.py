"""Why a line is late or unmet, in plain words (DESIGN.md R8: no one waits in silence).

For a late line: which sources would have been on time and who took them (with their weight and
need-by), or that none arrives in time and which ones the voltage class rules out; then the
earliest other source. For an unmet line: that no source is eligible and why, or which demands
used up every eligible source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date
from functools import cache

import numpy as np

from optimizer.contract import HIGH_VOLTAGE, LOW_VOLTAGE_ONLY_KINDS
from optimizer.network import UNLIMITED, Matching

_SHOWN = 3  # demands named per source, and on-time sources named per line, before "N more"
_KIND_WORD = {"emergency": "emergency procurement"}


def explain(
    m: Matching, x: np.ndarray, only: Collection[str] | None = None
) -> tuple[list[dict], list[dict]]:
    """Return the plan's unmet and late entries (`UnmetLine`, `LateLine` fields), with reasons;
    with `only`, just those demands' entries."""
    return _Explainer(m, x).lines(only)


class _Explainer:
    def __init__(self, m: Matching, x: np.ndarray) -> None:
        self.m = m
        self.inst = m.instance
        self.year = self.inst.plan_date.year
        # Plain lists: element access on them is much cheaper than on numpy arrays.
        self.x = x.tolist()
        self.a_source = m.a_source.tolist()
        self.a_late = m.a_late.tolist()
        self.a_arrival = m.a_arrival.tolist()
        self.s_qty = m.s_qty.tolist()
        self.used = (
            np.bincount(m.a_source, weights=x, minlength=m.n_sources).astype(np.int64).tolist()
        )
        # Who took each source, most important first: heavier weight, then earlier need-by.
        used_arcs = np.flatnonzero(x)
        taker = m.a_demand[used_arcs]
        rank = np.lexsort((taker, m.d_need_by[taker], -m.d_weight[taker]))
        self.consumers: dict[int, list[int]] = defaultdict(list)
        for s, d in zip(m.a_source[used_arcs[rank]].tolist(), taker[rank].tolist(), strict=True):
            self.consumers[s].append(d)
        self.by_material: dict[int, list[int]] = defaultdict(list)
        for s, material in enumerate(m.s_material.tolist()):
            self.by_material[material].append(s)
        self.day = cache(self._day)
        self.taker = cache(self._taker)
        self.source_name = cache(self._source_name)

    def lines(self, only: Collection[str] | None = None) -> tuple[list[dict], list[dict]]:
        m = self.m
        x = np.asarray(self.x, dtype=np.int64)
        served = np.bincount(m.a_demand, weights=x, minlength=m.n_demands).astype(np.int64)
        worst = np.zeros(m.n_demands, dtype=np.int64)
        np.maximum.at(worst, m.a_demand, np.where(x > 0, m.a_late, 0))
        ids = [d.id for d in self.inst.demands]
        if only is not None:  # leave the others out: as if they were served on time
            wanted = set(only)
            keep = np.fromiter((i in wanted for i in ids), dtype=bool, count=len(ids))
            served = np.where(keep, served, m.d_qty)
            worst = np.where(keep, worst, 0)
        unmet = [
            {"demand": ids[d], "quantity": self.quantity(short), "reason": self.unmet_reason(d)}
            for d, short in zip(
                np.flatnonzero(served < m.d_qty).tolist(),
                (m.d_qty - served)[served < m.d_qty].tolist(),
                strict=True,
            )
        ]
        late = [
            {"demand": ids[d], "late_days": days, "reason": self.late_reason(d)}
            for d, days in zip(
                np.flatnonzero(worst).tolist(), worst[worst > 0].tolist(), strict=True
            )
        ]
        return unmet, late

    # -- reasons -------------------------------------------------------------------------------

    def late_reason(self, d: int) -> str:
        """Say what would have been on time for demand d and why it was not used."""
        demand = self.inst.demands[d]
        arcs = sorted(self.m.arcs_of(d), key=self.arrival_key)
        on_time = [a for a in arcs if self.a_late[a] == 0]
        parts = [f"needed by {self.day(demand.need_by.toordinal())}"]
        if on_time:
            parts += [self.on_time_source(a, d) for a in on_time[:_SHOWN]]
            if len(on_time) > _SHOWN:
                parts.append(f"{len(on_time) - _SHOWN} more on-time sources were used up too")
        else:
            parts.append("no eligible source arrives by then" + self.excluded(d, need_by_only=True))
        others = [a for a in arcs if self.a_late[a] > 0]
        if others:
            first = others[0]
            parts.append(
                f"earliest other source {self.source_name(self.a_source[first])} "
                f"arrives {self.day(self.a_arrival[first])}"
            )
            used = [a for a in others if self.x[a] > 0]
            if self.x[first] == 0 and used:
                taken_by = self.who(self.a_source[first], d)
                served = self.source_name(self.a_source[used[0]])
                when = self.day(self.a_arrival[used[0]])
                parts.append(f"it was used up by {taken_by}; served from {served} arriving {when}")
        return "; ".join(parts)

    def unmet_reason(self, d: int) -> str:
        """Say why nothing more could be supplied to demand d."""
        demand = self.inst.demands[d]
        arcs = sorted(self.m.arcs_of(d), key=self.arrival_key)
        if not arcs:
            if not self.by_material[int(self.m.d_material[d])]:
                return f"no eligible source: no source of {demand.material} in the instance"
            return "no eligible source" + self.excluded(d, need_by_only=False).replace(";", ":", 1)
        parts = ["every eligible source is used up"]
        for a in arcs:
            s = self.a_source[a]
            if self.s_qty[s] == 0:
                parts.append(f"{self.source_name(s)} has no stock")
            else:
                stock = self.quantity(self.s_qty[s])
                parts.append(f"{self.source_name(s)} ({stock}) went to {self.who(s, d)}")
        if not any(self.s_qty[self.a_source[a]] == UNLIMITED for a in arcs):
            parts.append(f"no emergency procurement source for {demand.material}")
        return "; ".join(parts) + self.excluded(d, need_by_only=False)

    # -- pieces --------------------------------------------------------------------------------

    def on_time_source(self, a: int, d: int) -> str:
        s = self.a_source[a]
        name = f"{self.source_name(s)} (arrives {self.day(self.a_arrival[a])})"
        own = self.x[a]
        mine = f" (this line got {self.quantity(own)})" if own else ""
        if self.s_qty[s] == 0:
            return f"{name} has no stock"
        if self.s_qty[s] == UNLIMITED or self.used[s] < self.s_qty[s]:
            return f"{name} still had stock{mine}"
        if all(e == d for e in self.consumers[s]):
            return f"{name} had only {self.quantity(own)}, all given to this line"
        return f"{name} was used up by {self.who(s, d)}{mine}"

    def who(self, s: int, d: int) -> str:
        takers = [e for e in self.consumers[s][: _SHOWN + 1] if e != d][:_SHOWN]
        more = len(self.consumers[s]) - (d in self.consumers[s]) - len(takers)
        if not takers:
            return "this line"
        named = [self.taker(e) for e in takers]
        if more > 0:
            named.append(f"{more} more")
        return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]

    def excluded(self, d: int, *, need_by_only: bool) -> str:
        """Name same-material sources that the demand's voltage class rules out ('; …')."""
        demand = self.inst.demands[d]
        if demand.voltage_class not in HIGH_VOLTAGE:
            return ""
        ruled_out = [
            self.inst.sources[s]
            for s in self.by_material[int(self.m.d_material[d])]
            if self.inst.sources[s].kind in LOW_VOLTAGE_ONLY_KINDS
        ]
        if need_by_only:
            ruled_out = [s for s in ruled_out if s.ready <= demand.need_by]
        if not ruled_out:
            return ""
        names = ", ".join(f"{s.kind} {s.id}" for s in ruled_out[:_SHOWN])
        more = f" and {len(ruled_out) - _SHOWN} more" if len(ruled_out) > _SHOWN else ""
        return f"; {demand.voltage_class.replace('kV', ' kV')} demand cannot use {names}{more}"

    def arrival_key(self, a: int) -> tuple[int, int]:
        return self.a_arrival[a], self.a_source[a]

    def _taker(self, e: int) -> str:
        demand = self.inst.demands[e]
        need_by = self.day(demand.need_by.toordinal())
        return f"{demand.id} (weight {demand.weight:g}, need-by {need_by})"

    def _source_name(self, s: int) -> str:
        source = self.inst.sources[s]
        return f"{_KIND_WORD.get(source.kind, source.kind)} {source.id}"

    def _day(self, ordinal: int) -> str:
        value = date.fromordinal(ordinal)
        return value.isoformat()[5:] if value.year == self.year else value.isoformat()

    def quantity(self, scaled: int) -> int | float:
        unit = self.m.scale.quantity
        return scaled // unit if scaled % unit == 0 else scaled / unit
