"""Is every reason of a plan true? Its facts checked against the plan, its words against the facts.

The explainer states facts and renders its words from them alone (optimizer/explain.py). Here a
plan's facts are recomputed from its allocations (`line_facts`) and each is checked with plain
Python on the contract objects — ids, dates, sums of allocations; no arrays, no solver. Then the
plan's causes and words must be exactly those rendered from these facts, and the words must say
what each fact says (`words_problems`). Together: nothing a reason says is false of its plan.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction

import numpy as np

from optimizer.contract import Demand, Instance, Plan, Source
from optimizer.explain import (
    LateFacts,
    SourceFact,
    UnmetFacts,
    late_reason,
    line_facts,
    unmet_reason,
)
from optimizer.network import Matching, build_matching

SHOWN = 3  # on-time sources a late reason names one by one
# What the words say for each status (any one of them).
SAYS = {
    "used_up": ("was used up by", "all given to this line", ") went to "),
    "kept_for_quota": ("was kept for its quota (",),
    "cheaper": (
        "arrives the same day at a lower cost (",
        "arrives the same day at the same cost (",
    ),
    "still_had": ("still had ",),
    "no_stock": ("has no stock",),
}
IDLE = {"still_had", "kept_for_quota", "cheaper"}


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
    said_late = {e.demand: (e.late_days, e.cause, e.reason) for e in plan.late}
    said_unmet = {e.demand: (e.quantity, e.cause, e.reason) for e in plan.unmet}
    if set(said_late) != {f.demand for f in late}:
        problems.append(f"late lines {sorted(said_late)} are not those of the facts")
    if set(said_unmet) != {f.demand for f in unmet}:
        problems.append(f"unmet lines {sorted(said_unmet)} are not those of the facts")
    for f in late:
        text = late_reason(f, year=year)
        if said_late.get(f.demand) != (f.late_days, f.cause, text):
            problems.append(f"{f.demand}: plan says {said_late.get(f.demand)}, facts say {text}")
        problems += words_problems(f, text, year=year)
    for g in unmet:
        text = unmet_reason(g, year=year)
        if said_unmet.get(g.demand) != (g.quantity, g.cause, text):
            problems.append(f"{g.demand}: plan says {said_unmet.get(g.demand)}, facts say {text}")
        problems += words_problems(g, text, year=year)
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
        and other.status == "cheaper"
        and any(arrival > (other.source.arrival or date.max) for _, arrival in got)
    ):
        problems.append(f"{d.id}: cheaper the same day, yet something later served it")
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
        "used_up"
        if any(s.quantity != 0 for s in eligible)
        else "not_eligible"
        if g.ruled_out
        else "no_source"
    )
    if g.cause != cause:
        problems.append(f"{d.id}: cause {g.cause}, the plan shows {cause}")
    return problems


# -- words against the facts -------------------------------------------------------------------


def _name(kind: str, source: str) -> str:
    return f"{'emergency procurement' if kind == 'emergency' else kind} {source}"


def _day(value: date | None, year: int) -> str:
    assert value is not None
    return value.isoformat()[5:] if value.year == year else value.isoformat()


def words_problems(f: LateFacts | UnmetFacts, text: str, *, year: int) -> list[str]:
    """Where the words do not say what the facts say: each source named with its status, the
    cause in its words."""
    parts = text.split("; ")
    problems = []

    def says(part: str, fact: SourceFact) -> bool:
        return _name(fact.source.kind, fact.source.source) in part and any(
            w in part for w in SAYS[fact.status]
        )

    if isinstance(f, LateFacts):
        if parts[0] != f"needed by {_day(f.need_by, year)}":
            problems.append(f"{f.demand}: need-by")
        for i, fact in enumerate(f.on_time[:SHOWN]):
            if (
                not says(parts[1 + i], fact)
                or f"(arrives {_day(fact.source.arrival, year)})" not in (parts[1 + i])
            ):
                problems.append(f"{f.demand}: words for {fact.source.source} ({fact.status})")
        if len(f.on_time) > SHOWN and f"{len(f.on_time) - SHOWN} more on-time" not in text:
            problems.append(f"{f.demand}: more on-time sources")
        stocked = any(s.status != "no_stock" for s in f.on_time)
        if stocked == any(p.startswith("no eligible source") for p in parts):
            problems.append(f"{f.demand}: whether an eligible source arrives in time")
        if f.cause == "kept_for_quota" and "kept for its quota" not in text:
            problems.append(f"{f.demand}: cause kept_for_quota, not in the words")
        # `used_up` is also the label of last resort for a plan that left on-time stock idle
        # (neither optimal nor greedy plans do); its words then say "still had N left".
        idle = any(s.status == "still_had" for s in f.on_time)
        if f.cause == "used_up" and not ("used up" in text or "all given" in text or idle):
            problems.append(f"{f.demand}: cause used_up, not in the words")
        if f.cause == "not_eligible" and not all(r.source in text for r in f.ruled_out[:SHOWN]):
            problems.append(f"{f.demand}: cause not_eligible, ruled-out sources not named")
        other = f.earliest_other
        if other is not None:
            name = _name(other.source.kind, other.source.source)
            head = f"earliest other source {name} arrives {_day(other.source.arrival, year)}"
            at = parts.index(head) if head in parts else None
            after = parts[at + 1] if at is not None and at + 1 < len(parts) else ""
            if at is None:
                problems.append(f"{f.demand}: earliest other source")
            elif not other.own and not any(w in after for w in SAYS[other.status]):
                problems.append(f"{f.demand}: words for the earliest other ({other.status})")
            elif other.status == "cheaper" and other.instead and other.instead.source not in after:
                problems.append(f"{f.demand}: the cheaper source is not named")
    else:
        for fact in f.sources:
            if not any(says(p, fact) for p in parts):
                problems.append(f"{f.demand}: words for {fact.source.source} ({fact.status})")
        if f.cause == "no_source" and f"no source of {f.material}" not in text:
            problems.append(f"{f.demand}: cause no_source, not in the words")
        if f.cause == "not_eligible" and not all(r.source in text for r in f.ruled_out[:SHOWN]):
            problems.append(f"{f.demand}: cause not_eligible, ruled-out sources not named")
        if f.cause == "used_up" and not f.sources:
            problems.append(f"{f.demand}: cause used_up without sources")
    return problems
