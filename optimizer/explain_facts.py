"""The facts of a late or unmet line's reason: what the plan did with each source it could use.

For every source a late or unmet line could have used, `line_facts` states what the plan did with
it — used up (and by whom), kept at its quota, passed over for a cheaper source arriving the same
day or for one the same day whose floor it counts toward, no stock, or still had stock — and picks
the line's cause code. The words of a reason are
rendered from these facts alone (`optimizer.explain_words`), so each fact can be checked against
the plan on its own (tests/optimizer/truth.py).

What the lexicographic objective implies, and so what an optimal plan's facts say:

- unmet outranks everything: every eligible source of an unmet line is used up;
- lateness outranks cost, and the below-quota and floor penalties are costs (tier 3): every
  on-time source of a late line is used up — reserve is never held at its quota, nor a line kept
  waiting for another source's floor — and so is every source that would have made the line less
  late;
- cost decides only between sources arriving the same day: a cheaper one served the line, or one
  whose floor (an agreement line's execution band) the units count toward, or reserve was kept at
  its quota because drawing it costs the penalty per unit (R6).

Any other plan (the greedy baseline, a time limit) gets facts true of that plan: a source it left
unused is said to have "still had N left", never to be used up.

Cause codes (`contract.LateCause`, `contract.UnmetCause`), the first that applies:

- late: `kept_for_quota` if an on-time reserve source was held at its quota; `stock_left` if an
  on-time eligible source still had stock the plan left idle (never in optimal or greedy plans);
  `used_up` if any on-time eligible source had stock (then each is used up);
  `not_eligible` if only sources the voltage class rules out would arrive on time with stock;
  else `none_in_time`;
- unmet: `stock_left` if an eligible source still had stock the plan left idle (never in an
  optimal plan); `used_up` if any eligible source had stock; `not_eligible` if only sources the voltage
  class rules out hold stock; else `no_source`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal, NamedTuple, get_args

import numpy as np

from optimizer.contract import HIGH_VOLTAGE, LOW_VOLTAGE_ONLY_KINDS, LateCause, UnmetCause
from optimizer.network import KINDS, UNLIMITED, Matching

SHOWN = 3  # demands named per source, and on-time sources named per line, before "N more"
_RESERVE = KINDS.index("reserve")

Quantity = int | float
Status = Literal["used_up", "kept_for_quota", "cheaper", "floor", "still_had", "no_stock"]
STATUSES: tuple[Status, ...] = get_args(Status)


class Taker(NamedTuple):
    """A line that took stock from a source."""

    demand: str
    weight: float
    need_by: date


# Facts are plain slotted dataclasses: a frozen one costs six times as much to make, and a
# province plan makes some 50,000 of them.


@dataclass(slots=True)
class Ref:
    """A source named in a reason; `arrival` at the line in question."""

    source: str
    kind: str
    arrival: date | None = None
    unit_cost: float = 0


@dataclass(slots=True)
class SourceFact:
    """What the plan did with one source a line could use.

    `used_up`: nothing left (`takers`: the other lines that took it, most important first);
    `kept_for_quota`: reserve whose stock left is all at or below its `quota`, each unit drawn
    below it costing `penalty`; `cheaper`: `instead` served this line the same day at a lower
    (or the same) unit cost; `floor`: `instead` served this line the same day and every unit of
    it counts toward its floor (`floor`, `floor_used` of it used, `floor_penalty` per unit left
    unused); `still_had`: stock left (`left`; None: unlimited); `no_stock`.
    """

    source: Ref
    status: Status
    stock: Quantity | None  # the source's quantity (None: unlimited)
    left: Quantity | None  # what the plan leaves of it (None: unlimited)
    own: Quantity  # what this line got from it
    takers: tuple[Taker, ...] = ()
    more_takers: int = 0
    quota: Quantity = 0
    penalty: float = 0
    instead: Ref | None = None
    floor: Quantity = 0  # of `instead`, with status `floor`
    floor_used: Quantity = 0
    floor_penalty: float = 0


@dataclass(slots=True)
class LateFacts:
    """A late line: its on-time sources, the earliest later one, and the cause."""

    demand: str
    late_days: int
    need_by: date
    voltage_class: str
    cause: LateCause
    on_time: tuple[SourceFact, ...]  # every eligible source arriving by need-by, earliest first
    ruled_out: tuple[Ref, ...]  # sources with stock, on time, that the voltage class rules out
    earliest_other: SourceFact | None  # the earliest eligible source with stock after need-by
    served: Ref | None  # the earliest source after need-by that served this line


@dataclass(slots=True)
class UnmetFacts:
    """An unmet line: every eligible source, the ruled-out ones holding stock, and the cause."""

    demand: str
    quantity: Quantity
    material: str
    voltage_class: str
    cause: UnmetCause
    sources: tuple[SourceFact, ...]  # every eligible source, earliest first
    ruled_out: tuple[Ref, ...]  # sources with stock that the voltage class rules out
    of_material: int  # sources of the material in the instance


def line_facts(
    m: Matching, x: np.ndarray, only: Collection[str] | None = None
) -> tuple[list[UnmetFacts], list[LateFacts]]:
    """Return the facts behind every unmet and late line of flow `x` (demand order)."""
    unmet, late = PlanFacts(m, x).lines(only)
    return list(unmet), list(late)


class PlanFacts:
    """States the facts of a plan's lines: flow `x` over the eligible arcs of `m`."""

    def __init__(self, m: Matching, x: np.ndarray) -> None:
        self.m = m
        self.inst = m.instance
        # Plain lists: element access on them is much cheaper than on numpy arrays.
        self.x = x.tolist()
        self.a_source = m.a_source.tolist()
        self.a_late = m.a_late.tolist()
        self.a_arrival = m.a_arrival.tolist()
        self.s_qty = m.s_qty.tolist()
        self.s_cost = m.s_cost.tolist()
        # Reserve held at its quota matters only where drawing below it costs something.
        quota = (
            np.where(m.s_kind == _RESERVE, m.s_quota, -1) if m.penalty else -np.ones_like(m.s_qty)
        )
        self.s_quota = quota.tolist()
        # A floor matters only where leaving it unused costs something.
        self.s_floor = np.where(m.s_floor_penalty > 0, m.s_floor, 0).tolist()
        self.penalty = self.inst.policy.reserve_below_quota_penalty
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
        self.transport = {(t.from_, t.to): t.days for t in self.inst.transport}
        self.day = cache(date.fromordinal)
        self.taker = cache(self._taker)

    def lines(
        self, only: Collection[str] | None = None
    ) -> tuple[Iterator[UnmetFacts], Iterator[LateFacts]]:
        m = self.m
        x = np.asarray(self.x, dtype=np.int64)
        served = np.bincount(m.a_demand, weights=x, minlength=m.n_demands).astype(np.int64)
        worst = np.zeros(m.n_demands, dtype=np.int64)
        np.maximum.at(worst, m.a_demand, np.where(x > 0, m.a_late, 0))
        if only is not None:  # leave the others out: as if they were served on time
            wanted = set(only)
            ids = [d.id for d in self.inst.demands]
            keep = np.fromiter((i in wanted for i in ids), dtype=bool, count=len(ids))
            served = np.where(keep, served, m.d_qty)
            worst = np.where(keep, worst, 0)
        short = served < m.d_qty
        unmet = (
            self.unmet(d, q)
            for d, q in zip(
                np.flatnonzero(short).tolist(), (m.d_qty - served)[short].tolist(), strict=True
            )
        )
        late = (
            self.late(d, days)
            for d, days in zip(
                np.flatnonzero(worst).tolist(), worst[worst > 0].tolist(), strict=True
            )
        )
        return unmet, late

    def late(self, d: int, days: int) -> LateFacts:
        demand = self.inst.demands[d]
        arcs = sorted(self.m.arcs_of(d), key=self.arrival_key)
        used = [a for a in arcs if self.x[a] > 0]
        on_time = tuple(self.fact(a, d) for a in arcs if self.a_late[a] == 0)
        later = [a for a in arcs if self.a_late[a] > 0 and self.s_qty[self.a_source[a]] != 0]
        earliest_other = None
        if later:
            first = later[0]
            rivals: list[int] = []
            # Cost decided against it only if this line got none of it, and nothing that served
            # the line arrives later than it.
            if self.x[first] == 0 and self.a_arrival[used[-1]] == self.a_arrival[first]:
                rivals = [a for a in used if self.a_arrival[a] == self.a_arrival[first]]
            earliest_other = self.fact(first, d, rivals)
        served = next((self.ref(a) for a in used if self.a_late[a] > 0), None)
        ruled_out = self.ruled_out(d, on_time_only=True)
        cause: LateCause
        if any(f.status == "kept_for_quota" for f in on_time):
            cause = "kept_for_quota"
        elif any(f.status == "still_had" for f in on_time):
            cause = "stock_left"  # on-time stock left idle: only in a plan that is not optimal
        elif any(f.status != "no_stock" for f in on_time):
            cause = "used_up"
        elif ruled_out:
            cause = "not_eligible"
        else:
            cause = "none_in_time"
        return LateFacts(
            demand=demand.id,
            late_days=days,
            need_by=demand.need_by,
            voltage_class=demand.voltage_class,
            cause=cause,
            on_time=on_time,
            ruled_out=ruled_out,
            earliest_other=earliest_other,
            served=served,
        )

    def unmet(self, d: int, short: int) -> UnmetFacts:
        demand = self.inst.demands[d]
        sources = tuple(self.fact(a, d) for a in sorted(self.m.arcs_of(d), key=self.arrival_key))
        ruled_out = self.ruled_out(d, on_time_only=False)
        cause: UnmetCause
        if any(f.status in ("still_had", "kept_for_quota") for f in sources):
            cause = "stock_left"  # stock left idle: only in a plan that is not optimal
        elif any(f.status != "no_stock" for f in sources):
            cause = "used_up"
        elif ruled_out:
            cause = "not_eligible"
        else:
            cause = "no_source"
        return UnmetFacts(
            demand=demand.id,
            quantity=self.quantity(short),
            material=demand.material,
            voltage_class=demand.voltage_class,
            cause=cause,
            sources=sources,
            ruled_out=ruled_out,
            of_material=len(self.by_material[int(self.m.d_material[d])]),
        )

    def fact(self, a: int, d: int, rivals: Sequence[int] = ()) -> SourceFact:
        """What the plan did with arc a's source, seen from demand d; `rivals`: the arcs that
        served d on the same day, when tier 3 (cost and penalties) alone decided between them and a."""
        s = self.a_source[a]
        stock, own = self.s_qty[s], self.quantity(self.x[a])
        ref = self.ref(a)
        if stock == 0:
            return SourceFact(ref, "no_stock", 0, 0, own)
        left: int | None = None  # unlimited
        held = False
        if stock != UNLIMITED:
            left = stock - self.used[s]
            if left == 0:
                takers, more = self.takers(s, d, mine=self.x[a] > 0)
                return SourceFact(ref, "used_up", self.quantity(stock), 0, own, takers, more)
            held = left <= self.s_quota[s]
        size = None if left is None else self.quantity(stock)
        rest = None if left is None else self.quantity(left)
        if rivals:
            rival = min(rivals, key=lambda r: (self.s_cost[self.a_source[r]], r))
            cost, other = self.s_cost[s], self.s_cost[self.a_source[rival]]
            cheaper = other < cost or (other == cost and not held)
            # Rivals whose every unit used counts toward their floor: taking one unit back
            # would leave one more unit of that floor unused.
            floored = [r for r in rivals if self.within_floor(self.a_source[r])]
            short = self.used[s] < self.s_floor[s]  # this source's own floor pulled the other way
            if cheaper and not (floored and short):
                return SourceFact(ref, "cheaper", size, rest, own, instead=self.ref(rival))
            if floored:
                best = min(floored, key=lambda r: (self.s_cost[self.a_source[r]], r))
                r_s = self.a_source[best]
                return SourceFact(
                    ref,
                    "floor",
                    size,
                    rest,
                    own,
                    instead=self.ref(best),
                    floor=self.quantity(self.s_floor[r_s]),
                    floor_used=self.quantity(self.used[r_s]),
                    floor_penalty=self.inst.sources[r_s].floor_penalty,
                )
        if held:
            return SourceFact(
                ref,
                "kept_for_quota",
                size,
                rest,
                own,
                quota=self.quantity(self.s_quota[s]),
                penalty=self.penalty,
            )
        return SourceFact(ref, "still_had", size, rest, own)

    def within_floor(self, s: int) -> bool:
        """Whether source s was used and every unit of it counts toward its (penalised) floor."""
        return 0 < self.used[s] <= self.s_floor[s]

    def takers(self, s: int, d: int, *, mine: bool) -> tuple[tuple[Taker, ...], int]:
        """The other lines that took source s, the first few named, and how many more."""
        consumers = self.consumers[s]
        named = [e for e in consumers[: SHOWN + 1] if e != d][:SHOWN]
        return tuple(map(self.taker, named)), len(consumers) - mine - len(named)

    def ruled_out(self, d: int, *, on_time_only: bool) -> tuple[Ref, ...]:
        """Same-material sources with stock that the demand's voltage class rules out (R2);
        with `on_time_only`, those whose arrival is known and not after need-by."""
        demand = self.inst.demands[d]
        if demand.voltage_class not in HIGH_VOLTAGE:
            return ()
        found = []
        for s in self.by_material[int(self.m.d_material[d])]:
            source = self.inst.sources[s]
            if source.kind not in LOW_VOLTAGE_ONLY_KINDS or self.s_qty[s] == 0:
                continue
            days = (
                0
                if source.location == demand.location
                else self.transport.get((source.location, demand.location))
            )
            arrival = None if days is None else date.fromordinal(source.ready.toordinal() + days)
            if on_time_only and (arrival is None or arrival > demand.need_by):
                continue
            found.append(Ref(source.id, source.kind, arrival, source.unit_cost))
        return tuple(found)

    def ref(self, a: int) -> Ref:
        source = self.inst.sources[self.a_source[a]]
        return Ref(source.id, source.kind, self.day(self.a_arrival[a]), source.unit_cost)

    def arrival_key(self, a: int) -> tuple[int, int]:
        return self.a_arrival[a], self.a_source[a]

    def _taker(self, e: int) -> Taker:
        demand = self.inst.demands[e]
        return Taker(demand.id, demand.weight, demand.need_by)

    def quantity(self, scaled: int) -> Quantity:
        unit = self.m.scale.quantity
        return scaled // unit if scaled % unit == 0 else scaled / unit
