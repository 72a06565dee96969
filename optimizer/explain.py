"""Why a line is late or unmet, in plain words (DESIGN.md R8: no one waits in silence).

Two steps. `line_facts` states what the plan did with each source a late or unmet line could have
used — used up (and by whom), kept at its quota, passed over for a cheaper source arriving the
same day, no stock, or still had stock — and picks the line's cause code; `late_reason` and
`unmet_reason` render the words from those facts alone. So the facts can be checked against the
plan one by one, and the words against the facts (tests/optimizer/truth.py).

What the lexicographic objective implies, and so what an optimal plan's facts say:

- unmet outranks everything: every eligible source of an unmet line is used up;
- lateness outranks cost, and the below-quota penalty is a cost (tier 3): every on-time source of
  a late line is used up — reserve is never held at its quota while a line waits for it — and so
  is every source that would have made the line less late;
- cost decides only between sources arriving the same day: a cheaper one served the line, or
  reserve was kept at its quota because drawing it costs the penalty per unit (R6).

Any other plan (the greedy baseline, a time limit) gets facts true of that plan: a source it left
unused is said to have "still had N left", never to be used up.

Cause codes (`contract.LateCause`, `contract.UnmetCause`), the first that applies:

- late: `kept_for_quota` if an on-time reserve source was held at its quota; `used_up` if any
  on-time eligible source had stock (in optimal and greedy plans each is then used up);
  `not_eligible` if only sources the voltage class rules out would arrive on time with stock;
  else `none_in_time`;
- unmet: `used_up` if any eligible source had stock; `not_eligible` if only sources the voltage
  class rules out hold stock; else `no_source`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any, Literal, NamedTuple, get_args

import numpy as np

from optimizer.contract import HIGH_VOLTAGE, LOW_VOLTAGE_ONLY_KINDS, LateCause, UnmetCause
from optimizer.network import KINDS, UNLIMITED, Matching

_SHOWN = 3  # demands named per source, and on-time sources named per line, before "N more"
_KIND_WORD = {"emergency": "emergency procurement"}
_RESERVE = KINDS.index("reserve")

Quantity = int | float
Status = Literal["used_up", "kept_for_quota", "cheaper", "still_had", "no_stock"]
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
    (or the same) unit cost; `still_had`: stock left (`left`; None: unlimited); `no_stock`.
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


def explain(
    m: Matching, x: np.ndarray, only: Collection[str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the plan's unmet and late entries (`UnmetLine`, `LateLine` fields), with reasons
    and causes; with `only`, just those demands' entries."""
    unmet, late = _Facts(m, x).lines(only)
    year = m.instance.plan_date.year
    # One line at a time: its facts are dropped as soon as they are rendered. (Holding them all
    # makes the garbage collector walk a province-sized heap again and again: twice the time.)
    return (
        [
            {
                "demand": f.demand,
                "quantity": f.quantity,
                "reason": unmet_reason(f, year=year),
                "cause": f.cause,
            }
            for f in unmet
        ],
        [
            {
                "demand": f.demand,
                "late_days": f.late_days,
                "reason": late_reason(f, year=year),
                "cause": f.cause,
            }
            for f in late
        ],
    )


def line_facts(
    m: Matching, x: np.ndarray, only: Collection[str] | None = None
) -> tuple[list[UnmetFacts], list[LateFacts]]:
    """Return the facts behind every unmet and late line of flow `x` (demand order)."""
    unmet, late = _Facts(m, x).lines(only)
    return list(unmet), list(late)


# -- facts ----------------------------------------------------------------------------------------


class _Facts:
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
        if any(f.status != "no_stock" for f in sources):
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
        served d on the same day, when cost alone decided between them and a."""
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
            if other < cost or (other == cost and not held):
                return SourceFact(ref, "cheaper", size, rest, own, instead=self.ref(rival))
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

    def takers(self, s: int, d: int, *, mine: bool) -> tuple[tuple[Taker, ...], int]:
        """The other lines that took source s, the first few named, and how many more."""
        consumers = self.consumers[s]
        named = [e for e in consumers[: _SHOWN + 1] if e != d][:_SHOWN]
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


# -- words ----------------------------------------------------------------------------------------

_COUNTED = {
    "used_up": "used up",
    "kept_for_quota": "kept for its quota",
    "cheaper": "passed over for a cheaper source",
    "still_had": "still had stock",
    "no_stock": "had no stock",
}


def late_reason(f: LateFacts, *, year: int) -> str:
    """Say what would have been on time for a late line and why it was not used."""
    day = _days(year)
    parts = [f"needed by {day(f.need_by)}"]
    for s in f.on_time[:_SHOWN]:
        all_mine = s.status == "used_up" and not s.takers  # "all given to this line"
        mine = f" (this line got {s.own})" if s.own and not all_mine else ""
        parts.append(f"{_name(s.source)} (arrives {day(s.source.arrival)}) {_did(s, day)}{mine}")
    if len(f.on_time) > _SHOWN:
        parts.append(_more(f.on_time[_SHOWN:]))
    if all(s.status == "no_stock" for s in f.on_time):
        parts.append(f"no eligible source{' with stock' if f.on_time else ''} arrives by then")
        if f.ruled_out:
            parts.append(_cannot_use(f.voltage_class, f.ruled_out))
    first = f.earliest_other
    if first is not None:
        words = f"earliest other source {_name(first.source)} arrives {day(first.source.arrival)}"
        if first.own:  # this line was served from it: nothing held it back
            parts.append(words)
        elif first.status == "cheaper":
            parts += [words, _did(first, day)]
        else:
            parts += [words, f"it {_did(first, day)}"]
            if f.served is not None:
                parts.append(f"served from {_name(f.served)} arriving {day(f.served.arrival)}")
    return "; ".join(parts)


def unmet_reason(f: UnmetFacts, *, year: int) -> str:
    """Say why nothing more could be supplied to an unmet line."""
    day = _days(year)
    cannot = [_cannot_use(f.voltage_class, f.ruled_out)] if f.ruled_out else []
    listed = [_unmet_source(s, day) for s in f.sources]
    if f.cause == "no_source":
        if not f.of_material:
            return f"no eligible source: no source of {f.material} in the instance"
        return "; ".join([f"no source of {f.material} has stock", *listed])
    if f.cause == "not_eligible":
        if not listed:
            return "no eligible source: " + "; ".join(cannot)
        return "; ".join(["no eligible source has stock", *listed, *cannot])
    parts = listed
    if all(s.status in ("used_up", "no_stock") for s in f.sources):
        parts = ["every eligible source is used up", *listed]
    if not any(s.source.kind == "emergency" for s in f.sources):
        parts.append(f"no emergency procurement source for {f.material}")
    return "; ".join(parts + cannot)


def _did(s: SourceFact, day: Callable[[date | None], str]) -> str:
    """What became of a source, as a predicate ("was used up by …")."""
    if s.status == "no_stock":
        return "has no stock"
    if s.status == "used_up":
        if not s.takers:
            return f"had only {s.stock}, all given to this line"
        return f"was used up by {_who(s, day)}"
    if s.status == "kept_for_quota":
        return (
            f"was kept for its quota ({s.left} left, quota {s.quota}, "
            f"penalty {_money(s.penalty)} per unit drawn below it)"
        )
    if s.status == "cheaper" and s.instead is not None:
        other, mine = s.instead.unit_cost, s.source.unit_cost
        cost = (
            f"at a lower cost ({_money(other)} vs {_money(mine)} per unit)"
            if other < mine
            else f"at the same cost ({_money(mine)} per unit)"
        )
        return f"{_name(s.instead)} arrives the same day {cost} and served this line"
    return "still had stock (no limit)" if s.left is None else f"still had {s.left} left"


def _unmet_source(s: SourceFact, day: Callable[[date | None], str]) -> str:
    if s.status == "used_up":
        taken = _who(s, day) if s.takers else "this line"
        return f"{_name(s.source)} ({s.stock}) went to {taken}"
    return f"{_name(s.source)} {_did(s, day)}"


def _more(rest: Sequence[SourceFact]) -> str:
    counts = Counter(s.status for s in rest)
    n = len(rest)
    sources = "source" if n == 1 else "sources"
    if set(counts) == {"used_up"}:
        return f"{n} more on-time {sources} {'was' if n == 1 else 'were'} used up too"
    each = ", ".join(f"{counts[k]} {_COUNTED[k]}" for k in STATUSES if counts[k])
    return f"{n} more on-time {sources}: {each}"


def _who(s: SourceFact, day: Callable[[date | None], str]) -> str:
    named = [_taker_words(t, day(t.need_by)) for t in s.takers]
    if s.more_takers > 0:
        named.append(f"{s.more_takers} more")
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _cannot_use(voltage_class: str, ruled_out: Sequence[Ref]) -> str:
    names = ", ".join(f"{r.kind} {r.source}" for r in ruled_out[:_SHOWN])
    more = f" and {len(ruled_out) - _SHOWN} more" if len(ruled_out) > _SHOWN else ""
    return f"{voltage_class.replace('kV', ' kV')} demand cannot use {names}{more}"


def _name(ref: Ref) -> str:
    return f"{_KIND_WORD.get(ref.kind, ref.kind)} {ref.source}"


def _money(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _taker_words(t: Taker, need_by: str) -> str:
    return f"{t.demand} (weight {t.weight:g}, need-by {need_by})"


@lru_cache(maxsize=64)
def _days(year: int) -> Callable[[date | None], str]:
    """MM-DD within the plan's year, the full date outside it."""

    @lru_cache(maxsize=4096)
    def day(value: date | None) -> str:
        if value is None:
            return "?"
        return value.isoformat()[5:] if value.year == year else value.isoformat()

    return day
