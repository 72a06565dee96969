"""The recommended quota of each warehouse × material: a base-stock level from the year's demand.

Pure: a `World` and the history's lines in, one `Advice` per pair of the reserve catalog out.
docs/quotas.md says the same in words, with a worked example.

**The policy.** The reserve works as a periodic-review, order-up-to policy (R6): at every Monday
cutoff, stock below quota (less what is on its way) is requested back up to the quota, and
arrives when `World.restocked_on` says. So a draw at moment t finds on the shelf the quota less
everything drawn since the last cutoff whose replenishment had arrived by t — its **exposure**:

    E = the draws after that cutoff, up to and including this one (at the start of the window,
        the draws since the window's start: the replay starts with stock at its quotas)

and a line is served from stock exactly when E ≤ quota. The smallest quota that serves the
target share of the short-deadline lines is the target quantile of their exposures (at 95 %,
the 19th of 20 lines sorted by exposure): the order-up-to level S = demand over the protection
interval (lead time plus a week), read from the year's own demand rather than a fitted
distribution — seasonality, lumpy lines and holidays are in it.

**What draws on the reserve.** The short-deadline lines (5/8/15 working days, 10 kV and below),
when they come in (an urgent request); and the longer projects' lines at 10 kV and below for
which neither agreement stock nor emergency procurement arrives by the need-by date for less
than reserve costs below its quota (standard price plus the penalty, R6) — the weekly run gives
those reserve, at the batch's cutoff, rather than make them late or pay more. They count in every
exposure (they take stock), but the target is met on the short-deadline lines alone, and a
material no short-deadline project needed gets quota 0, with the reason.

**One pool per material.** Every warehouse reaches every location of the city within a day or
two, inside the tightest need-by date, and the engine serves a line from whichever warehouse
keeps it on time: the city's stock of a material is one pool. Its level is sized on the city's
draws (with the slowest of the warehouses' replenishment lead times), then shared out between
the warehouses holding the material in proportion to the demand nearest each (its **home**
demand: fewest transport days, then the higher level, then the id), by largest remainders.

The estimate is conservative — it counts a line as drawn even when stock could not serve it
(it goes to agreement stock or emergency procurement and draws nothing) — and the replay
(`supply.quotas.replay`) measures what the engine really does with the quotas.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate

from supply.policy import Batch
from supply.quotas.world import LEVEL_ORDER, LOW_VOLTAGES, HistoryLine, Pair, World


@dataclass(frozen=True, slots=True)
class Advice:
    """The recommendation for one warehouse × material, with what it rests on."""

    warehouse_id: str
    material: str
    current: int
    recommended: int
    lines: int  # short-deadline lines that call this warehouse home
    quantity: int  # their quantity, base units
    lead_days: int  # replenishment lead time, cutoff to arrival (calendar days)
    unit_price: Decimal
    # The share of the material's short-deadline lines its pool serves, by the exposures, at
    # the current and at the recommended quotas (None without lines).
    estimate_current: float | None
    estimate_recommended: float | None
    reason: str

    @property
    def pair(self) -> Pair:
        return (self.warehouse_id, self.material)


@dataclass(frozen=True, slots=True)
class Draw:
    """Stock a line takes from the reserve: when, how much, whether it is short-deadline work
    (the target counts those), and the warehouse nearest it."""

    at: datetime
    quantity: int
    short: bool
    home: str
    key: str


def homes(world: World) -> dict[tuple[str, str], str]:
    """For each (location, material) the warehouse nearest it among those holding the material
    in the reserve catalog (fewer transport days, higher level, id)."""
    holders = _holders(world)
    locations = set(world.supply.warehouse_location.values()) | {
        b for _, b in world.supply.transport
    }
    found: dict[tuple[str, str], str] = {}
    for material, warehouses in holders.items():
        for location in locations:
            ranked = [
                (trip, LEVEL_ORDER.get(world.levels.get(w, ""), 9), w)
                for w in warehouses
                if (trip := world.trip(w, location, material)) is not None
            ]
            if ranked:
                found[location, material] = min(ranked)[2]
    return found


def _holders(world: World) -> dict[str, list[str]]:
    holders: dict[str, list[str]] = defaultdict(list)
    for warehouse, material in world.pairs:
        holders[material].append(warehouse)
    return holders


def falls_on_reserve(world: World, line: HistoryLine) -> bool:
    """Whether the weekly run gives a longer project's line (10 kV and below) reserve: when no
    agreement delivery or emergency procurement after its batch arrives by its need-by date at
    a price below reserve's (the standard price plus the below-quota penalty, R6)."""
    if line.short or line.voltage_class not in LOW_VOLTAGES:
        return False
    batch = world.batch_of(line.submitted_at)
    central = world.supply.central_warehouse
    material = world.supply.materials[line.material]
    reserve = material.standard_price + world.penalty
    options = [
        (batch.province_match, a.lead_days, a.delivery_warehouse_id, a.unit_price)
        for a in world.supply.agreements
        if a.material == line.material
    ] + [(batch.cutoff.date(), material.emergency_lead_days, central, material.emergency_price)]
    for start, lead, origin, price in options:
        trip = world.trip(origin, line.location, line.material)
        in_time = trip is not None and start + timedelta(days=lead + trip) <= line.need_by
        if in_time and price < reserve:
            return False
    return True


def draws(world: World, history: Iterable[HistoryLine]) -> dict[str, list[Draw]]:
    """The reserve's draws per material, in time order (see the module's docstring)."""
    home = homes(world)
    found: dict[str, list[Draw]] = defaultdict(list)
    for line in history:
        nearest = home.get((line.location, line.material))
        if nearest is None:
            continue
        if line.short:
            found[line.material].append(
                Draw(line.submitted_at, line.quantity, True, nearest, line.key)
            )
        elif falls_on_reserve(world, line):
            cutoff = world.batch_of(line.submitted_at).cutoff
            found[line.material].append(Draw(cutoff, line.quantity, False, nearest, line.key))
    for listed in found.values():
        listed.sort(key=lambda d: (d.at, d.key))
    return found


def exposures(
    drawn: Sequence[Draw], restocks: Sequence[tuple[datetime, datetime]], start: datetime
) -> list[int]:
    """Each draw's exposure, draws in time order (see the module's docstring).

    `restocks` pairs each cutoff with the moment its replenishment is on the shelf (the start of
    its arrival day), in cutoff order; arrivals never come earlier for a later cutoff."""
    arrived = [on_shelf for _, on_shelf in restocks]
    moments = [d.at for d in drawn]
    total = [0, *accumulate(d.quantity for d in drawn)]
    found = []
    for i, d in enumerate(drawn):
        covered = bisect_right(arrived, d.at)  # replenishments on the shelf by now
        since = max(start, restocks[covered - 1][0]) if covered else start
        first = bisect_right(moments, since)  # draws after that cutoff
        found.append(total[i + 1] - total[first])
    return found


def quantile(values: Iterable[int], share: Decimal) -> int:
    """The smallest value at least `share` of `values` are at or below (0 for none)."""
    ordered = sorted(values)
    if not ordered:
        return 0
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def served_share(exposed: Sequence[int], quota: int) -> float | None:
    """The share of lines a quota covers by their exposures (None without lines)."""
    return sum(e <= quota for e in exposed) / len(exposed) if exposed else None


def shares(total: int, weights: dict[str, int]) -> dict[str, int]:
    """`total` shared out in proportion to `weights`, in whole units, by largest remainders
    (ties to the first in order); nothing for a zero weight."""
    whole = sum(weights.values())
    if not whole:
        return dict.fromkeys(weights, 0)
    exact = {k: Decimal(total) * w / whole for k, w in weights.items()}
    given = {k: int(v) for k, v in exact.items()}
    order = sorted(weights, key=lambda k: -(exact[k] - given[k]))
    for k in order[: total - sum(given.values())]:
        given[k] += 1
    return given


def recommend(world: World, history: Iterable[HistoryLine], service_level: Decimal) -> list[Advice]:
    """Recommend a quota for each pair of the reserve catalog (see the module's docstring)."""
    drawn = draws(world, history)
    advice: list[Advice] = []
    for material, warehouses in sorted(_holders(world).items()):
        pool = drawn.get(material, [])
        restocks = [
            (b.cutoff, _midnight(max(world.restocked_on(b, w, material) for w in warehouses), b))
            for b in world.batches
        ]  # the slowest warehouse's arrival: the pool is refilled when all of it is
        exposed = exposures(pool, restocks, world.start)
        short = [e for e, d in zip(exposed, pool, strict=True) if d.short]
        level = quantile(short, service_level)
        near: dict[str, int] = defaultdict(int)
        for d in pool:
            near[d.home] += d.quantity
        split = shares(level, {w: near[w] for w in warehouses}) if short else {}
        current = sum(world.current.get((w, material), 0) for w in warehouses)
        others = sum(not d.short for d in pool)
        for w in warehouses:
            mine = [d for d in pool if d.short and d.home == w]
            lead = world.lead_days(w, material)
            advice.append(
                Advice(
                    warehouse_id=w,
                    material=material,
                    current=world.current.get((w, material), 0),
                    recommended=split.get(w, 0),
                    lines=len(mine),
                    quantity=sum(d.quantity for d in mine),
                    lead_days=lead,
                    unit_price=world.price(material),
                    estimate_current=served_share(short, current),
                    estimate_recommended=served_share(short, level),
                    reason=_reason(len(mine), len(short), others, lead, service_level),
                )
            )
    return sorted(advice, key=lambda a: a.pair)


def _midnight(day: date, batch: Batch) -> datetime:
    """The start of `day` in the batch's time zone: stock arriving that day is on the shelf."""
    return datetime.combine(day, time(0), tzinfo=batch.cutoff.tzinfo)


def _reason(mine: int, city: int, others: int, lead: int, level: Decimal) -> str:
    if not city:
        return (
            "过去 12 个月没有 5/8/15 个工作日的短工期项目（10 千伏及以下）需要该物料：定额为 0，"
            "其需求由协议库存供应 / no short-deadline project (5, 8 or 15 working days, 10 kV "
            "and below) needed it in the last 12 months: quota 0, agreement stock serves it"
        )
    share = f"{(level * 100).normalize():f} %"
    extra_zh = f"，另有 {others} 行协议库存来不及的其他需求" if others else ""
    extra_en = f", and {others} other lines agreement stock cannot bring in time" if others else ""
    return (
        f"全市 {city} 行短工期需求（本库就近 {mine} 行）{extra_zh}，补库周期 {lead} 天加每周批次："
        f"定额覆盖 {share} 的短工期需求行，按就近需求分配到各库 / {city} short-deadline lines in "
        f"the city ({mine} nearest this warehouse){extra_en}, {lead}-day replenishment plus the "
        f"weekly batch: the city's stock covers {share} of the short-deadline lines, shared out "
        "by the demand nearest each warehouse"
    )
