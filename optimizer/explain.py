"""Why a line is late or unmet, in plain words (DESIGN.md R8: no one waits in silence).

Two steps. `line_facts` states what the plan did with each source a late or unmet line could have
used — used up (and by whom), kept at its quota, passed over for a cheaper source arriving the
same day, no stock, or still had stock — and picks the line's cause code; `late_reasons` and
`unmet_reasons` render the words from those facts alone, in English (`reason`) and in the Chinese
a materials planner reads (`reason_zh`), both in one pass. So the facts can be checked against the
plan one by one, and the words of each language against the facts (tests/optimizer/truth.py).

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
    in English and Chinese and causes; with `only`, just those demands' entries."""
    unmet, late = _Facts(m, x).lines(only)
    words = _Words(m.instance.plan_date.year)
    # One line at a time: its facts are dropped as soon as they are rendered. (Holding them all
    # makes the garbage collector walk a province-sized heap again and again: twice the time.)
    return (
        [
            {
                "demand": f.demand,
                "quantity": f.quantity,
                "reason": en,
                "reason_zh": zh,
                "cause": f.cause,
            }
            for f in unmet
            for en, zh in (words.unmet(f),)
        ],
        [
            {
                "demand": f.demand,
                "late_days": f.late_days,
                "reason": en,
                "reason_zh": zh,
                "cause": f.cause,
            }
            for f in late
            for en, zh in (words.late(f),)
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
#
# One pass over a line's facts renders both languages: each piece is made in English and in
# Chinese side by side, so the two always say the same facts in the same order.


class Reasons(NamedTuple):
    """A line's reason in English and in Chinese (the planner's words), from the same facts."""

    en: str
    zh: str


_KIND_ZH = {
    "reserve": "实物储备",
    "consignment": "供应商寄存",
    "agreement": "协议库存",
    "emergency": "紧急采购",
}
_NO_STOCK = ("has no stock", "无库存")
_COUNTED = {
    "used_up": ("used up", "已被占用"),
    "kept_for_quota": ("kept for its quota", "保留至定额"),
    "cheaper": ("passed over for a cheaper source", "因同日有更便宜的来源未用"),
    "still_had": ("still had stock", "尚有库存"),
    "no_stock": ("had no stock", "无库存"),
}


def late_reasons(f: LateFacts, *, year: int) -> Reasons:
    """Say what would have been on time for a late line and why it was not used."""
    return _Words(year).late(f)


def unmet_reasons(f: UnmetFacts, *, year: int) -> Reasons:
    """Say why nothing more could be supplied to an unmet line."""
    return _Words(year).unmet(f)


class _Words:
    """Renders facts in both languages. What repeats from line to line of a plan is rendered
    once: a source's name, and who used a source up (a province plan says so 30,000 times,
    of 5,000 different groups of takers). Only strings are kept, by string keys, and a late
    reason is built by appending to two strings: containers that outlive a line would wake the
    garbage collector the more often, which then walks the whole heap (a full collection in
    the middle of a province plan's explanation costs 100-150 ms)."""

    __slots__ = ("_en_name", "_en_used_up", "_zh_name", "_zh_used_up", "day")

    def __init__(self, year: int) -> None:
        self.day = _days(year)
        self._en_name: dict[str, str] = {}  # by source id
        self._zh_name: dict[str, str] = {}
        self._en_used_up: dict[str, str] = {}  # by how many more and the takers' ids
        self._zh_used_up: dict[str, str] = {}

    def late(self, f: LateFacts) -> Reasons:
        day, names = self.day, self.names
        need_by = day(f.need_by)
        en, zh = f"needed by {need_by}", f"需到货 {need_by}"
        for s in f.on_time[:_SHOWN]:
            did_en, did_zh = self.did(s)
            arrives = day(s.source.arrival)
            en_name, zh_name = names(s.source)
            en += f"; {en_name} (arrives {arrives}) {did_en}"
            zh += f"；{zh_name}（{arrives} 到货）{did_zh}"
            if s.own and not (s.status == "used_up" and not s.takers):  # not "all given to it"
                en += f" (this line got {s.own})"
                zh += f"（本行已取 {s.own}）"
        if len(f.on_time) > _SHOWN:
            more_en, more_zh = _more(f.on_time[_SHOWN:])
            en += "; " + more_en
            zh += "；" + more_zh
        if all(s.status == "no_stock" for s in f.on_time):
            if f.on_time:
                en += "; no eligible source with stock arrives by then"
                zh += "；按时到货的可用来源均无库存"
            else:
                en += "; no eligible source arrives by then"
                zh += "；没有可用来源能按时到货"
            if f.ruled_out:
                cannot_en, cannot_zh = _cannot_use(f.voltage_class, f.ruled_out)
                en += "; " + cannot_en
                zh += "；" + cannot_zh
        first = f.earliest_other
        if first is not None:
            arrives = day(first.source.arrival)
            en_name, zh_name = names(first.source)
            en += f"; earliest other source {en_name} arrives {arrives}"
            zh += f"；最早的其他来源为{zh_name}，{arrives} 到货"
            if not first.own:  # this line was served from it: nothing held it back
                did_en, did_zh = self.did(first)
                if first.status == "cheaper":
                    en += "; " + did_en
                    zh += "；" + did_zh
                else:
                    en += "; it " + did_en
                    zh += "；该来源" + did_zh
                    if f.served is not None:
                        arrives = day(f.served.arrival)
                        en_name, zh_name = names(f.served)
                        en += f"; served from {en_name} arriving {arrives}"
                        zh += f"；实际由{zh_name} 供货（{arrives} 到货）"
        return Reasons(en, zh)

    def unmet(self, f: UnmetFacts) -> Reasons:
        material = f.material
        if f.cause == "no_source" and not f.of_material:
            return Reasons(
                f"no eligible source: no source of {material} in the instance",
                f"无可用来源：本计划中没有 {material} 的任何来源",
            )
        en: list[str] = []
        zh: list[str] = []
        if f.cause == "no_source":
            en.append(f"no source of {material} has stock")
            zh.append(f"{material} 的所有来源均无库存")
        elif f.cause == "not_eligible":
            en.append("no eligible source" + (" has stock" if f.sources else ""))
            zh.append("可用来源均无库存" if f.sources else "无可用来源")
        elif all(s.status in ("used_up", "no_stock") for s in f.sources):
            en.append("every eligible source is used up")
            zh.append("所有可用来源均已用完")
        for s in f.sources:
            en_name, zh_name = self.names(s.source)
            if s.status == "used_up":
                if s.takers:
                    en_who, zh_who = self.who(s)
                    en.append(f"{en_name} ({s.stock}) went to {en_who}")
                    zh.append(f"{zh_name}（共 {s.stock}）已被 {zh_who}占用")
                else:
                    en.append(f"{en_name} ({s.stock}) went to this line")
                    zh.append(f"{zh_name}（共 {s.stock}）已全部供本行")
            else:
                did_en, did_zh = self.did(s)
                en.append(f"{en_name} {did_en}")
                zh.append(f"{zh_name} {did_zh}")
        if f.cause in ("used_up", "stock_left") and not any(
            s.source.kind == "emergency" for s in f.sources
        ):
            en.append(f"no emergency procurement source for {material}")
            zh.append(f"{material} 没有紧急采购来源")
        if f.ruled_out:
            cannot_en, cannot_zh = _cannot_use(f.voltage_class, f.ruled_out)
            en.append(cannot_en)
            zh.append(cannot_zh)
        if f.cause == "not_eligible" and not f.sources:  # "no eligible source: <why>"
            return Reasons(": ".join(en), "，".join(zh))
        return Reasons("; ".join(en), "；".join(zh))

    def did(self, s: SourceFact) -> tuple[str, str]:
        """What became of a source, as a predicate ("was used up by …", "已被…占用")."""
        status = s.status
        if status == "no_stock":
            return _NO_STOCK
        if status == "used_up":
            if not s.takers:
                return (
                    f"had only {s.stock}, all given to this line",
                    f"仅有 {s.stock}，已全部供本行",
                )
            return self.used_up(s)
        if status == "kept_for_quota":
            penalty = _money(s.penalty)
            return (
                f"was kept for its quota ({s.left} left, quota {s.quota}, "
                f"penalty {penalty} per unit drawn below it)",
                f"保留至定额（剩余 {s.left}，定额 {s.quota}，每低于定额一件罚 {penalty} 元）",
            )
        if status == "cheaper" and s.instead is not None:
            other, mine = _money(s.instead.unit_cost), _money(s.source.unit_cost)
            en_name, zh_name = self.names(s.instead)
            if s.instead.unit_cost < s.source.unit_cost:
                return (
                    f"{en_name} arrives the same day at a lower cost ({other} vs {mine} per "
                    "unit) and served this line",
                    f"{zh_name} 同日到货且单价更低（{other} 对 {mine} 元/单位），已供本行",
                )
            return (
                f"{en_name} arrives the same day at the same cost ({mine} per unit) "
                "and served this line",
                f"{zh_name} 同日到货且单价相同（{mine} 元/单位），已供本行",
            )
        if s.left is None:
            return "still had stock (no limit)", "仍有库存（不限量）"
        return f"still had {s.left} left", f"尚余 {s.left} 未用"

    def used_up(self, s: SourceFact) -> tuple[str, str]:
        """Say who used a source up: "was used up by D2 (…) and 3 more", "已被 D2（…）…占用"."""
        takers = s.takers
        # A taker's words follow from its id (weight and need-by are the demand's). Unless an
        # id holds the separator itself, the key names one group of takers.
        key = f"{s.more_takers}\x1f" + "\x1f".join([t.demand for t in takers])
        en = self._en_used_up.get(key)
        if en is None:
            en_who, zh_who = self.who(s)
            en, zh = f"was used up by {en_who}", f"已被 {zh_who}占用"
            if key.count("\x1f") == len(takers):
                self._en_used_up[key], self._zh_used_up[key] = en, zh
            return en, zh
        return en, self._zh_used_up[key]

    def who(self, s: SourceFact) -> tuple[str, str]:
        """The lines that took a source: "D2 (weight 2, need-by 12-04) and 3 more"."""
        en, zh = [], []
        for t in s.takers:
            need_by, weight = self.day(t.need_by), f"{t.weight:g}"
            en.append(f"{t.demand} (weight {weight}, need-by {need_by})")
            zh.append(f"{t.demand}（权重 {weight}，需到货 {need_by}）")
        more = s.more_takers
        if more > 0:
            en.append(f"{more} more")
            zh[-1] += f"及另外 {more} 项需求"
        return (
            en[0] if len(en) == 1 else ", ".join(en[:-1]) + " and " + en[-1],
            "、".join(zh),
        )

    def names(self, ref: Ref) -> tuple[str, str]:
        """A source as "kind id", in English and Chinese."""
        source = ref.source
        en = self._en_name.get(source)
        if en is None:
            kind = ref.kind
            en = self._en_name[source] = f"{_KIND_WORD.get(kind, kind)} {source}"
            self._zh_name[source] = f"{_KIND_ZH[kind]} {source}"
        return en, self._zh_name[source]


def _more(rest: Sequence[SourceFact]) -> tuple[str, str]:
    counts = Counter(s.status for s in rest)
    n = len(rest)
    sources = "source" if n == 1 else "sources"
    if set(counts) == {"used_up"}:
        return (
            f"{n} more on-time {sources} {'was' if n == 1 else 'were'} used up too",
            f"另有 {n} 项按时来源也已被占用",
        )
    each = [(counts[k], *_COUNTED[k]) for k in STATUSES if counts[k]]
    return (
        f"{n} more on-time {sources}: " + ", ".join(f"{c} {en}" for c, en, _ in each),
        f"另有 {n} 项按时来源：" + "，".join(f"{c} 项{zh}" for c, _, zh in each),
    )


def _cannot_use(voltage_class: str, ruled_out: Sequence[Ref]) -> tuple[str, str]:
    voltage = voltage_class.replace("kV", " kV")
    shown = ruled_out[:_SHOWN]
    en_names = ", ".join(f"{r.kind} {r.source}" for r in shown)
    zh_names = "、".join(f"{_KIND_ZH[r.kind]} {r.source}" for r in shown)
    n = len(ruled_out) - _SHOWN
    return (
        f"{voltage} demand cannot use {en_names}" + (f" and {n} more" if n > 0 else ""),
        f"电压等级不可用：{voltage} 项目不能使用{zh_names}" + (f"，另有 {n} 项" if n > 0 else ""),
    )


def _money(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


@lru_cache(maxsize=64)
def _days(year: int) -> Callable[[date | None], str]:
    """MM-DD within the plan's year, the full date outside it."""

    @lru_cache(maxsize=4096)
    def day(value: date | None) -> str:
        if value is None:
            return "?"
        return value.isoformat()[5:] if value.year == year else value.isoformat()

    return day
