"""Is every reason of a plan true? Its facts checked against the plan, its words against the facts.

The explainer states facts and renders its words from them alone (optimizer/explain_facts.py,
optimizer/explain_words.py). Here a plan's facts are recomputed from its allocations
(`line_facts`) and each is checked with plain Python on the contract objects — ids, dates, sums of
allocations; no arrays, no solver. Then the plan's causes and words must be exactly those rendered
from these facts, and the words must say what each fact says (`words_problems`). Together: nothing
a reason says is false of its plan.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

import numpy as np

from optimizer.contract import Demand, Instance, Plan, Source
from optimizer.explain_facts import LateFacts, SourceFact, UnmetFacts, line_facts
from optimizer.explain_words import late_reasons, unmet_reasons
from optimizer.network import Matching, build_matching

SHOWN = 3  # on-time sources a late reason names one by one
IDLE = {"still_had", "kept_for_quota", "cheaper", "floor"}


@dataclass(frozen=True)
class Words:
    """How one language says what the facts say: the phrases the truth check looks for."""

    language: str
    sep: str  # between the statements of a reason
    kinds: dict[str, str]
    says: dict[str, tuple[str, ...]]  # per status: any one of them
    needed_by: str  # the first statement, "{day}"
    arrives: str  # an on-time source's arrival, "{day}"
    none_in_time: tuple[str, str]  # no eligible source is on time: none at all, none with stock
    more_on_time: str  # "{n}" more on-time sources
    more_takers: str  # "{n}" more lines took a source
    more_ruled_out: str  # "{n}" more sources the voltage class rules out
    kept: str  # cause kept_for_quota
    used_up: tuple[str, ...]  # cause used_up
    ruled_out: str  # cause not_eligible
    earliest: str  # "{name}" "{day}"
    served: str  # "{name}" "{day}"
    no_source: tuple[str, ...]  # cause no_source, "{material}"
    no_emergency: str  # an unmet line's material has no emergency procurement source

    def name(self, kind: str, source: str) -> str:
        return f"{self.kinds[kind]} {source}"


EN = Words(
    language="en",
    sep="; ",
    kinds={
        "reserve": "reserve",
        "consignment": "consignment",
        "agreement": "agreement",
        "emergency": "emergency procurement",
    },
    says={
        "used_up": ("was used up by", "all given to this line", ") went to "),
        "kept_for_quota": ("was kept for its quota (",),
        "cheaper": (
            "arrives the same day at a lower cost (",
            "arrives the same day at the same cost (",
        ),
        # an agreement line's floor is the lower end of its execution band; any other kind's
        # is just its floor (`_states_values` checks which one the kind calls for)
        "floor": (
            "arrives the same day and served this line to bring its agreement line toward its "
            "execution band (",
            "arrives the same day and served this line toward its floor (",
        ),
        "still_had": ("still had ",),
        "no_stock": ("has no stock",),
    },
    needed_by="needed by {day}",
    arrives="(arrives {day})",
    none_in_time=(
        "no eligible source arrives by then",
        "no eligible source with stock arrives by then",
    ),
    more_on_time="{n} more on-time",
    more_takers="{n} more",
    more_ruled_out="and {n} more",
    kept="kept for its quota",
    used_up=("used up", "all given"),
    ruled_out="demand cannot use",
    earliest="earliest other source {name} arrives {day}",
    served="served from {name} arriving {day}",
    no_source=("no source of {material}",),
    no_emergency="no emergency procurement source for {material}",
)
ZH = Words(
    language="zh",
    sep="；",
    kinds={
        "reserve": "实物储备",
        "consignment": "供应商寄存",
        "agreement": "协议库存",
        "emergency": "紧急采购",
    },
    says={
        "used_up": ("已被", "已全部供本行"),
        "kept_for_quota": ("保留至定额（",),
        "cheaper": ("同日到货且单价更低（", "同日到货且单价相同（"),
        "floor": (
            "同日到货，为使协议执行量达到下限已供本行（",
            "同日到货，为使用量达到下限已供本行（",
        ),
        "still_had": ("尚余 ", "仍有库存（不限量）"),
        "no_stock": ("无库存",),
    },
    needed_by="需到货 {day}",
    arrives="（{day} 到货）",
    none_in_time=("没有可用来源能按时到货", "按时到货的可用来源均无库存"),
    more_on_time="另有 {n} 项按时来源",
    more_takers="及另外 {n} 项需求",
    more_ruled_out="另有 {n} 项",
    kept="保留至定额",
    used_up=("已被", "已全部供本行"),
    ruled_out="电压等级不可用",
    earliest="最早的其他来源为{name}，{day} 到货",
    served="实际由{name} 供货（{day} 到货）",
    no_source=("本计划中没有 {material} 的任何来源", "{material} 的所有来源均无库存"),
    no_emergency="{material} 没有紧急采购来源",
)
LANGUAGES = (EN, ZH)


def facts_of(instance: Instance, plan: Plan) -> tuple[list[UnmetFacts], list[LateFacts]]:
    """The explainer's facts for a plan, from its allocations."""
    m = build_matching(instance)
    return line_facts(m, flow_of(m, plan))


def flow_of(m: Matching, plan: Plan) -> np.ndarray:
    """The plan's allocations as a flow on the matching's arcs."""
    demand = {d.id: i for i, d in enumerate(m.instance.demands)}
    source = {s.id: i for i, s in enumerate(m.instance.sources)}
    x = np.zeros(len(m.a_demand), dtype=np.int64)
    for alloc in plan.allocations:
        d, s = demand[alloc.demand], source[alloc.source]
        (arc,) = [a for a in m.arcs_of(d) if m.a_source[a] == s]
        x[arc] = round(alloc.quantity * m.scale.quantity)
    return x


class _World:
    """The instance and what the plan took, by id, in exact fractions."""

    def __init__(self, instance: Instance, plan: Plan) -> None:
        self.demands = {d.id: d for d in instance.demands}
        self.sources = {s.id: s for s in instance.sources}
        self.order = {s.id: i for i, s in enumerate(instance.sources)}
        self.days = {(t.from_, t.to): t.days for t in instance.transport}
        self.penalty = instance.policy.reserve_below_quota_penalty
        self.got: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
        self.taken: dict[str, Fraction] = defaultdict(Fraction)
        self.lines: dict[str, list[tuple[str, date]]] = defaultdict(list)  # demand: source, arrival
        for a in plan.allocations:
            q = Fraction(a.quantity)
            self.got[a.demand, a.source] += q
            self.taken[a.source] += q
            self.lines[a.demand].append((a.source, a.arrival))

    def arrival(self, s: Source, d: Demand) -> date | None:
        trip = 0 if s.location == d.location else self.days.get((s.location, d.location))
        return None if trip is None else s.ready + timedelta(days=trip)

    def same_material(self, d: Demand) -> list[Source]:
        return [s for s in self.sources.values() if s.material == d.material]

    def eligible(self, d: Demand) -> list[Source]:
        return [s for s in self.same_material(d) if not _ruled_out(d, s)]

    def left(self, s: Source) -> Fraction | None:
        return None if s.quantity is None else Fraction(s.quantity) - self.taken[s.id]

    def held(self, s: Source) -> bool:
        """Reserve whose stock left is all at or below its quota, where that costs a penalty."""
        left = self.left(s)
        return s.kind == "reserve" and self.penalty > 0 and left is not None and 0 < left <= s.quota

    def ruled_out(self, d: Demand, *, on_time_only: bool) -> set[str]:
        found = set()
        for s in self.same_material(d):
            arrival = self.arrival(s, d)
            on_time = arrival is not None and arrival <= d.need_by
            if _ruled_out(d, s) and s.quantity and (on_time or not on_time_only):
                found.add(s.id)
        return found


def _idle(world: _World, s: Source, *, held_too: bool = False) -> bool:
    """Stock the plan left: unlimited, or some left (at or below its quota too, if asked)."""
    left = world.left(s)
    return left is None or (left > 0 and (held_too or not world.held(s)))


def _ruled_out(d: Demand, s: Source) -> bool:
    return d.voltage_class in ("35kV", "110kV") and s.kind in ("reserve", "consignment")


def _key(d: Demand) -> tuple[float, date]:
    return -d.weight, d.need_by


def false_statements(instance: Instance, plan: Plan) -> list[str]:
    """Everything untrue in the plan's reasons and causes (empty: every reason is true)."""
    unmet, late = facts_of(instance, plan)
    return said_problems(instance, plan, unmet, late) + fact_problems(instance, plan, unmet, late)


def said_problems(
    instance: Instance, plan: Plan, unmet: list[UnmetFacts], late: list[LateFacts]
) -> list[str]:
    """Where the plan's words and causes are not those rendered from the facts, or the words do
    not say what the facts say."""
    year = instance.plan_date.year
    problems: list[str] = []
    said_late = {e.demand: (e.late_days, e.cause, e.reason, e.reason_zh) for e in plan.late}
    said_unmet = {e.demand: (e.quantity, e.cause, e.reason, e.reason_zh) for e in plan.unmet}
    if set(said_late) != {f.demand for f in late}:
        problems.append(f"late lines {sorted(said_late)} are not those of the facts")
    if set(said_unmet) != {f.demand for f in unmet}:
        problems.append(f"unmet lines {sorted(said_unmet)} are not those of the facts")
    for f in late:
        en, zh = late_reasons(f, year=year)
        if said_late.get(f.demand) != (f.late_days, f.cause, en, zh):
            problems.append(f"{f.demand}: plan says {said_late.get(f.demand)}, facts say {en} {zh}")
        problems += words_problems(f, en, year=year) + words_problems(f, zh, year=year, words=ZH)
    for g in unmet:
        en, zh = unmet_reasons(g, year=year)
        if said_unmet.get(g.demand) != (g.quantity, g.cause, en, zh):
            problems.append(
                f"{g.demand}: plan says {said_unmet.get(g.demand)}, facts say {en} {zh}"
            )
        problems += words_problems(g, en, year=year) + words_problems(g, zh, year=year, words=ZH)
    return problems


def fact_problems(
    instance: Instance, plan: Plan, unmet: list[UnmetFacts], late: list[LateFacts]
) -> list[str]:
    """What the plan and its instance contradict in the facts."""
    world = _World(instance, plan)
    problems: list[str] = []
    for f in late:
        problems += late_problems(world, f)
    for g in unmet:
        problems += unmet_problems(world, g)
    return problems


def idle_stock(facts: tuple[list[UnmetFacts], list[LateFacts]]) -> list[str]:
    """Stock a plan left idle where waiting or shortage says it should not: a late line's on-time
    source, or the earliest later one it got none of, not used up while it could have cut the
    lateness; an unmet line's eligible source not used up. Optimal plans have none (lateness
    and shortage outrank cost, and the below-quota penalty is a cost), nor do greedy ones."""
    unmet, late = facts
    problems = [
        f"{f.demand}: on-time {s.source.source} {s.status}"
        for f in late
        for s in f.on_time
        if s.status in IDLE
    ]
    problems += [
        f"{f.demand}: earlier {f.earliest_other.source.source} still had stock"
        for f in late
        if f.earliest_other is not None
        and not f.earliest_other.own
        and f.earliest_other.status == "still_had"
    ]
    problems += [
        f"{g.demand}: eligible {s.source.source} {s.status}"
        for g in unmet
        for s in g.sources
        if s.status in IDLE
    ]
    return problems


# -- facts against the plan -------------------------------------------------------------------


def source_problems(world: _World, d: Demand, f: SourceFact) -> list[str]:
    """What is false in one source fact of demand d."""
    where = f"{d.id}/{f.source.source}"
    s = world.sources.get(f.source.source)
    if s is None:
        return [f"{where}: no such source"]
    left = world.left(s)
    said_left = None if f.left is None else Fraction(f.left)
    stock = None if f.stock is None else Fraction(f.stock)
    wrong = [
        (s.material != d.material or _ruled_out(d, s), "not eligible for the line"),
        (f.source.kind != s.kind or f.source.unit_cost != s.unit_cost, "kind or cost"),
        (f.source.arrival != world.arrival(s, d), "arrival"),
        (Fraction(f.own) != world.got[d.id, s.id], "what this line got"),
        (stock != (None if s.quantity is None else Fraction(s.quantity)), "stock"),
        (said_left != left, f"left: says {f.left}, plan leaves {left}"),
    ]
    if f.status == "no_stock":
        wrong.append((s.quantity != 0, "it has stock"))
    elif f.status == "used_up":
        others = sorted(
            (e for (e, src), q in world.got.items() if src == s.id and q > 0 and e != d.id),
            key=lambda e: _key(world.demands[e]),
        )
        named = [t.demand for t in f.takers]
        shown = [_key(world.demands[e]) for e in named]
        wrong += [
            (not s.quantity or left != 0, "it is not used up"),
            (not set(named) <= set(others), f"{named} did not all take from it"),
            (len(named) + f.more_takers != len(others), "number of takers"),
            (len(named) != min(SHOWN, len(others)), "takers named"),
            (shown != sorted(shown), "takers not most important first"),
            (
                bool(shown) and any(_key(world.demands[e]) < shown[-1] for e in others[SHOWN:]),
                "a more important taker left unnamed",
            ),
            (
                any(
                    (t.weight, t.need_by)
                    != (world.demands[t.demand].weight, world.demands[t.demand].need_by)
                    for t in f.takers
                ),
                "a taker's weight or need-by",
            ),
        ]
    elif f.status == "kept_for_quota":
        wrong += [
            (not world.held(s), "it is not reserve held at its quota"),
            (f.quota != s.quota or f.penalty != world.penalty, "quota or penalty"),
        ]
    elif f.status == "cheaper":
        other = world.sources.get(f.instead.source) if f.instead else None
        wrong.append((other is None, "names no source that served instead"))
        if other is not None and f.instead is not None:
            wrong += [
                (world.got[d.id, other.id] <= 0, f"{other.id} did not serve this line"),
                (f.own != 0, "this line got some of it"),
                (left is not None and left <= 0, "it had nothing left"),
                (world.arrival(other, d) != f.source.arrival, f"{other.id} not the same day"),
                (f.instead.arrival != f.source.arrival, "instead's arrival"),
                (f.instead.unit_cost != other.unit_cost, "instead's cost"),
                (
                    other.unit_cost > s.unit_cost
                    or (other.unit_cost == s.unit_cost and world.held(s)),
                    f"{other.id} is not cheaper",
                ),
            ]
    elif f.status == "floor":
        other = world.sources.get(f.instead.source) if f.instead else None
        wrong.append((other is None, "names no source that served instead"))
        if other is not None and f.instead is not None:
            used = world.taken[other.id]
            wrong += [
                (world.got[d.id, other.id] <= 0, f"{other.id} did not serve this line"),
                (f.own != 0, "this line got some of it"),
                (left is not None and left <= 0, "it had nothing left"),
                (world.arrival(other, d) != f.source.arrival, f"{other.id} not the same day"),
                (f.instead.arrival != f.source.arrival, "instead's arrival"),
                (f.instead.kind != other.kind, "instead's kind"),
                (
                    other.floor_penalty <= 0 or used > Fraction(other.floor),
                    f"not every unit of {other.id} counts toward its floor",
                ),
                (
                    (Fraction(f.floor), Fraction(f.floor_used), f.floor_penalty)
                    != (Fraction(other.floor), used, other.floor_penalty),
                    f"{other.id}'s floor, use or floor penalty",
                ),
            ]
    elif f.status == "still_had":
        wrong.append((left is not None and left <= 0, "it has nothing left"))
    return [f"{where}: {what}" for bad, what in wrong if bad]


def late_problems(world: _World, f: LateFacts) -> list[str]:
    """What is false in a late line's facts."""
    d = world.demands[f.demand]
    got = world.lines[d.id]
    worst = max(((arrival - d.need_by).days for _, arrival in got), default=0)
    problems = [] if f.late_days == worst > 0 else [f"{d.id}: late days {f.late_days} ≠ {worst}"]
    if (f.need_by, f.voltage_class) != (d.need_by, d.voltage_class):
        problems.append(f"{d.id}: need-by or voltage class")
    for s in [*f.on_time, *([f.earliest_other] if f.earliest_other else [])]:
        problems += source_problems(world, d, s)

    def arrives(s: Source) -> date:
        arrival = world.arrival(s, d)
        assert arrival is not None  # an eligible pair always has its transport
        return arrival

    eligible = world.eligible(d)
    on_time = [s for s in eligible if arrives(s) <= d.need_by]
    arrivals = [s.source.arrival or date.min for s in f.on_time]
    if {s.source.source for s in f.on_time} != {s.id for s in on_time} or arrivals != sorted(
        arrivals
    ):
        problems.append(f"{d.id}: on-time sources are not every eligible one arriving in time")
    later = [s for s in eligible if arrives(s) > d.need_by and s.quantity != 0]
    if (f.earliest_other is None) != (not later) or (
        f.earliest_other is not None
        and f.earliest_other.source.arrival != min(arrives(s) for s in later)
    ):
        problems.append(f"{d.id}: the earliest other source is not the earliest with stock")
    other = f.earliest_other
    if (
        other is not None
        and other.status in ("cheaper", "floor")
        and any(arrival > (other.source.arrival or date.max) for _, arrival in got)
    ):
        problems.append(f"{d.id}: {other.status} the same day, yet something later served it")
    late_got = [(arrival, world.order[s]) for s, arrival in got if arrival > d.need_by]
    if f.served is not None and (
        world.got[d.id, f.served.source] <= 0
        or f.served.arrival != min(late_got)[0]
        or f.served.kind != world.sources[f.served.source].kind
    ):
        problems.append(f"{d.id}: {f.served.source} is not the earliest source after need-by")
    if {r.source for r in f.ruled_out} != world.ruled_out(d, on_time_only=True):
        problems.append(f"{d.id}: ruled-out sources")
    stocked = [s for s in on_time if s.quantity != 0]
    cause = (
        "kept_for_quota"
        if any(world.held(s) for s in stocked)
        else "stock_left"
        if any(_idle(world, s) for s in stocked)
        else "used_up"
        if stocked
        else "not_eligible"
        if f.ruled_out
        else "none_in_time"
    )
    if f.cause != cause:
        problems.append(f"{d.id}: cause {f.cause}, the plan shows {cause}")
    return problems


def unmet_problems(world: _World, g: UnmetFacts) -> list[str]:
    """What is false in an unmet line's facts."""
    d = world.demands[g.demand]
    short = Fraction(d.quantity) - sum((q for (e, _), q in world.got.items() if e == d.id), 0)
    problems = [] if Fraction(g.quantity) == short > 0 else [f"{d.id}: unmet {g.quantity}"]
    for s in g.sources:
        problems += source_problems(world, d, s)
    eligible = world.eligible(d)
    if {s.source.source for s in g.sources} != {s.id for s in eligible}:
        problems.append(f"{d.id}: sources are not every eligible one")
    if {r.source for r in g.ruled_out} != world.ruled_out(d, on_time_only=False):
        problems.append(f"{d.id}: ruled-out sources")
    if g.of_material != len(world.same_material(d)) or g.material != d.material:
        problems.append(f"{d.id}: sources of the material")
    cause = (
        "stock_left"
        if any(s.quantity != 0 and _idle(world, s, held_too=True) for s in eligible)
        else "used_up"
        if any(s.quantity != 0 for s in eligible)
        else "not_eligible"
        if g.ruled_out
        else "no_source"
    )
    if g.cause != cause:
        problems.append(f"{d.id}: cause {g.cause}, the plan shows {cause}")
    return problems


# -- words against the facts -------------------------------------------------------------------

# A value stated on its own: not part of a longer id, number or date ("D1" is not in "D12").
_BEFORE = r"(?:^|(?<=[\s(（、：]))"
_AFTER = r"(?=$|[\s,，、;；)）(（])"


def _states(part: str, value: str, *, whole: bool = True) -> bool:
    """Whether `part` states `value` (an id, a number, a date) as a whole word; with
    `whole=False` only its end is bounded (a source named after its kind word)."""
    return re.search((_BEFORE if whole else "") + re.escape(value) + _AFTER, part) is not None


def _day(value: date | None, year: int) -> str:
    assert value is not None
    return value.isoformat()[5:] if value.year == year else value.isoformat()


def _number(value: float | None) -> str:
    assert value is not None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _states_values(part: str, fact: SourceFact, year: int, words: Words) -> bool:
    """Whether `part` states the ids, quantities, money and dates of a source fact, in order."""
    values: list[str] = []
    phrases: list[str] = []  # labelled counts
    if fact.status == "used_up" and not fact.takers:
        values.append(_number(fact.stock))
    elif fact.status == "used_up":
        values += [
            v for t in fact.takers for v in (t.demand, f"{t.weight:g}", _day(t.need_by, year))
        ]
        if fact.more_takers > 0:
            phrases.append(words.more_takers.format(n=fact.more_takers))
    elif fact.status == "kept_for_quota":
        values += [_number(fact.left), _number(fact.quota), _number(fact.penalty)]
    elif fact.status == "cheaper" and fact.instead is not None:
        other, mine = _number(fact.instead.unit_cost), _number(fact.source.unit_cost)
        values += [fact.instead.source, other, *([mine] if mine != other else [])]  # "vs"
    elif fact.status == "floor" and fact.instead is not None:
        values += [
            fact.instead.source,
            _number(fact.floor),
            _number(fact.floor_used),
            _number(fact.floor_penalty),
        ]
        phrases.append(words.says["floor"][0 if fact.instead.kind == "agreement" else 1])
    elif fact.status == "still_had" and fact.left is not None:
        values.append(_number(fact.left))
    at = 0  # in the order the facts give them: each taker's weight and need-by after its id
    for value in values:
        found = re.compile(_BEFORE + re.escape(value) + _AFTER).search(part, at)
        if found is None:
            return False
        at = found.end()
    return all(p in part for p in phrases)


def words_problems(
    f: LateFacts | UnmetFacts, text: str, *, year: int, words: Words = EN
) -> list[str]:
    """Where the words do not say what the facts say: each source named with its status and
    its ids, quantities and dates, the cause in its words."""
    parts = text.split(words.sep)
    problems = []
    w = words.language

    def says(part: str, fact: SourceFact) -> bool:
        """The part names the source, says its status and states its values."""
        return (
            _states(part, words.name(fact.source.kind, fact.source.source), whole=False)
            and any(phrase in part for phrase in words.says[fact.status])
            and _states_values(part, fact, year, words)
        )

    if isinstance(f, LateFacts):
        if parts[0] != words.needed_by.format(day=_day(f.need_by, year)):
            problems.append(f"{f.demand} ({w}): need-by")
        for i, fact in enumerate(f.on_time[:SHOWN]):
            part = parts[1 + i] if 1 + i < len(parts) else ""
            mine = fact.own and not (fact.status == "used_up" and not fact.takers)
            if (
                not says(part, fact)
                or words.arrives.format(day=_day(fact.source.arrival, year)) not in part
                or (mine and not _states(part, _number(fact.own)))
            ):
                problems.append(f"{f.demand} ({w}): words for {fact.source.source} ({fact.status})")
        if len(f.on_time) > SHOWN and words.more_on_time.format(n=len(f.on_time) - SHOWN) not in (
            text
        ):
            problems.append(f"{f.demand} ({w}): more on-time sources")
        stocked = any(s.status != "no_stock" for s in f.on_time)
        said = [p for p in parts if p in words.none_in_time]
        if said != ([] if stocked else [words.none_in_time[bool(f.on_time)]]):
            problems.append(f"{f.demand} ({w}): whether an eligible source arrives in time")
        if f.cause == "kept_for_quota" and words.kept not in text:
            problems.append(f"{f.demand} ({w}): cause kept_for_quota, not in the words")
        if f.cause == "used_up" and not any(u in text for u in words.used_up):
            problems.append(f"{f.demand} ({w}): cause used_up, not in the words")
        if f.cause == "not_eligible":
            problems += _ruled_out_problems(f, text, words)
        other = f.earliest_other
        if other is not None:
            name = words.name(other.source.kind, other.source.source)
            head = words.earliest.format(name=name, day=_day(other.source.arrival, year))
            at = parts.index(head) if head in parts else None
            after = parts[at + 1] if at is not None and at + 1 < len(parts) else ""
            if at is None:
                problems.append(f"{f.demand} ({w}): earliest other source")
            elif not other.own and not (
                any(phrase in after for phrase in words.says[other.status])
                and _states_values(after, other, year, words)
            ):
                problems.append(f"{f.demand} ({w}): words for the earliest other ({other.status})")
            elif (
                not other.own
                and other.status not in ("cheaper", "floor")
                and f.served is not None
                and words.served.format(
                    name=words.name(f.served.kind, f.served.source),
                    day=_day(f.served.arrival, year),
                )
                not in parts
            ):
                problems.append(f"{f.demand} ({w}): what served the line instead")
    else:
        for fact in f.sources:
            # A used-up source of an unmet line is said with its stock: where all of it went.
            stock = [_number(fact.stock)] if fact.status == "used_up" else []
            if not any(says(p, fact) and all(_states(p, v) for v in stock) for p in parts):
                problems.append(f"{f.demand} ({w}): words for {fact.source.source} ({fact.status})")
        if f.cause == "no_source" and not any(
            phrase.format(material=f.material) in text for phrase in words.no_source
        ):
            problems.append(f"{f.demand} ({w}): cause no_source, not in the words")
        if f.cause == "not_eligible":
            problems += _ruled_out_problems(f, text, words)
        if f.cause == "used_up" and not f.sources:
            problems.append(f"{f.demand} ({w}): cause used_up without sources")
        emergency = any(s.source.kind == "emergency" for s in f.sources)
        said_none = words.no_emergency.format(material=f.material) in parts
        if said_none != (f.cause in ("used_up", "stock_left") and not emergency):
            problems.append(f"{f.demand} ({w}): whether an emergency procurement source exists")
    return problems


def _ruled_out_problems(f: LateFacts | UnmetFacts, text: str, words: Words) -> list[str]:
    """Cause not_eligible: the words say the voltage class rules sources out, and name them."""
    shown = f.ruled_out[:SHOWN]
    more = len(f.ruled_out) - SHOWN
    if (
        words.ruled_out not in text
        or not all(words.name(r.kind, r.source) in text for r in shown)
        or (more > 0 and words.more_ruled_out.format(n=more) not in text)
    ):
        return [f"{f.demand} ({words.language}): cause not_eligible, ruled-out sources not named"]
    return []
