"""Why a line is late or unmet, in plain words (DESIGN.md R8: no one waits in silence).

For a late line: which sources would have been on time and who took them (with their weight and
need-by), or that none arrives in time and which ones the voltage class rules out; then the
earliest other source. For an unmet line: that no source is eligible and why, or which demands
used up every eligible source.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction

import numpy as np

from optimizer.contract import HIGH_VOLTAGE, LOW_VOLTAGE_ONLY_KINDS, LateLine, UnmetLine
from optimizer.network import UNLIMITED, Matching

_SHOWN = 3  # consumers named per source before "and N more"
_KIND_WORD = {"emergency": "emergency procurement"}


class Explainer:
    """Builds reasons for one plan; construct once, then ask per demand."""

    def __init__(self, m: Matching, x: np.ndarray) -> None:
        self.m = m
        self.x = x
        self.inst = m.instance
        self.year = self.inst.plan_date.year
        self.used = np.bincount(m.a_source, weights=x, minlength=m.n_sources).astype(np.int64)
        self.consumers: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for a in np.flatnonzero(x).tolist():
            self.consumers[int(m.a_source[a])].append((int(m.a_demand[a]), int(x[a])))
        self.by_material: dict[int, list[int]] = defaultdict(list)
        for s, mat in enumerate(m.s_material.tolist()):
            self.by_material[mat].append(s)

    def lines(self) -> tuple[list[UnmetLine], list[LateLine]]:
        """Return the unmet and late entries of the plan, in demand order."""
        m, x = self.m, self.x
        served = np.bincount(m.a_demand, weights=x, minlength=m.n_demands).astype(np.int64)
        late_used = np.where(x > 0, m.a_late, 0)
        worst = np.zeros(m.n_demands, dtype=np.int64)
        np.maximum.at(worst, m.a_demand, late_used)
        unmet, late = [], []
        for d in np.flatnonzero(served < m.d_qty).tolist():
            short = int(m.d_qty[d] - served[d])
            unmet.append(
                UnmetLine(
                    demand=self.inst.demands[d].id,
                    quantity=self.quantity(short),
                    reason=self.unmet_reason(d),
                )
            )
        for d in np.flatnonzero(worst > 0).tolist():
            late.append(
                LateLine(
                    demand=self.inst.demands[d].id,
                    late_days=int(worst[d]),
                    reason=self.late_reason(d),
                )
            )
        return unmet, late

    # -- reasons -------------------------------------------------------------------------------

    def late_reason(self, d: int) -> str:
        """Say what would have been on time for demand d and why it was not used."""
        demand = self.inst.demands[d]
        arcs = self.m.arcs_of_demand[d]
        on_time = sorted((a for a in arcs.tolist() if self.m.a_late[a] == 0), key=self.arrival_key)
        parts = [f"needed by {self.day(demand.need_by)}"]
        if on_time:
            parts += [self.taken_by_others(a, d) for a in on_time]
        else:
            parts.append("no eligible source arrives by then" + self.excluded(d, need_by_only=True))
        others = sorted((a for a in arcs.tolist() if self.m.a_late[a] > 0), key=self.arrival_key)
        if others:
            first = others[0]
            parts.append(
                f"earliest other source {self.source_name(first)} arrives {self.arrival(first)}"
            )
            used = [a for a in others if self.x[a] > 0 and a != first]
            if self.x[first] == 0 and used:
                parts.append(
                    f"{self.source_name(first)} was used up by "
                    f"{self.who(int(self.m.a_source[first]), d)}; "
                    f"served from {self.source_name(used[0])} arriving {self.arrival(used[0])}"
                )
        return "; ".join(parts)

    def unmet_reason(self, d: int) -> str:
        """Say why nothing more could be supplied to demand d."""
        demand = self.inst.demands[d]
        arcs = self.m.arcs_of_demand[d].tolist()
        if not arcs:
            if not self.by_material[int(self.m.d_material[d])]:
                return f"no eligible source: no source of {demand.material} in the instance"
            return "no eligible source:" + self.excluded(d, need_by_only=False)[1:]
        parts = ["every eligible source is used up"]
        for a in sorted(arcs, key=self.arrival_key):
            s = int(self.m.a_source[a])
            if self.m.s_qty[s] == 0:
                parts.append(f"{self.source_name(a)} has no stock")
            else:
                parts.append(
                    f"{self.source_name(a)} ({self.quantity(int(self.m.s_qty[s]))}) "
                    f"went to {self.who(s, d)}"
                )
        if not any(self.m.s_qty[int(self.m.a_source[a])] == UNLIMITED for a in arcs):
            parts.append(f"no emergency procurement source for {demand.material}")
        excluded = self.excluded(d, need_by_only=False)
        if excluded:
            parts.append(excluded[2:])
        return "; ".join(parts)

    # -- pieces --------------------------------------------------------------------------------

    def taken_by_others(self, a: int, d: int) -> str:
        s = int(self.m.a_source[a])
        name = f"{self.source_name(a)} (arrives {self.arrival(a)})"
        own = int(self.x[a])
        mine = f" (this line got {self.quantity(own)})" if own else ""
        if self.m.s_qty[s] == 0:
            return f"{name} has no stock"
        left = int(self.m.s_qty[s] - self.used[s]) if self.m.s_qty[s] != UNLIMITED else None
        if left is None or left > 0:
            return f"{name} still had stock{mine}"
        if not any(e != d for e, _ in self.consumers.get(s, [])):
            return f"{name} had only {self.quantity(own)}, all given to this line"
        return f"{name} was used up by {self.who(s, d)}{mine}"

    def who(self, s: int, d: int) -> str:
        takers = sorted(
            ((e, q) for e, q in self.consumers.get(s, []) if e != d),
            key=lambda eq: (-int(self.m.d_weight[eq[0]]), int(self.m.d_need_by[eq[0]]), eq[0]),
        )
        if not takers:
            return "this line"
        named = [self.taker(e) for e, _ in takers[:_SHOWN]]
        if len(takers) > _SHOWN:
            named.append(f"{len(takers) - _SHOWN} more")
        return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]

    def taker(self, e: int) -> str:
        demand = self.inst.demands[e]
        return f"{demand.id} (weight {demand.weight}, need-by {self.day(demand.need_by)})"

    def excluded(self, d: int, *, need_by_only: bool) -> str:
        """Name same-material sources that the demand's voltage class rules out."""
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

    def source_name(self, a: int) -> str:
        source = self.inst.sources[int(self.m.a_source[a])]
        return f"{_KIND_WORD.get(source.kind, source.kind)} {source.id}"

    def arrival_key(self, a: int) -> tuple[int, int]:
        return int(self.m.a_arrival[a]), int(self.m.a_source[a])

    def arrival(self, a: int) -> str:
        return self.day(date.fromordinal(int(self.m.a_arrival[a])))

    def day(self, value: date) -> str:
        return value.strftime("%m-%d") if value.year == self.year else value.isoformat()

    def quantity(self, scaled: int) -> int | float:
        value = Fraction(scaled, self.m.scale.quantity)
        return int(value) if value.denominator == 1 else float(value)
