"""The recommended quota of each warehouse × material: a base-stock level from the year's demand.

Pure: a `World` and the history's lines in, one `Advice` per pair of the reserve catalog out.
docs/quotas.md says the same in words, with an example.

The reserve works as a periodic-review, order-up-to policy (R6): at every Monday cutoff, stock
below quota (on hand less held, plus what is on its way) is requested back up to the quota, and
arrives `World.restocked_on` that batch. So a line drawn at moment t finds on hand the quota less
everything drawn since the last cutoff whose replenishment had arrived by t — its **exposure**:

    E(line) = the pair's short-deadline demand submitted after that cutoff, up to and including
              the line (at the start of the window, from the window's start: the replay starts
              with stock at its quotas)

and it is served on time from stock exactly when E ≤ quota. The recommended quota is the
smallest that covers the target share of the pair's lines: the target quantile of the
exposures (at 95 %, the 19th of 20 lines sorted by exposure). It is the order-up-to level
S = demand over the protection interval (lead time + one week), read from the year's own
demand instead of a fitted distribution: seasonality, lumpy lines and holidays are in it.

Which warehouse a line draws on (its **home**): the nearest holding the material — fewest
transport days, then the higher level (central, county, storage point), then the id. A pair no
short-deadline line calls home gets quota 0, with the reason. The estimate is conservative: it
counts every line as drawn, even one stock could not serve (it goes to agreement stock or
emergency procurement and draws nothing), and it lets no neighbour help; the replay
(`supply.quotas.replay`) measures what the engine really does with the quotas.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import accumulate

from supply.quotas.world import LEVEL_ORDER, HistoryLine, Pair, World


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
    estimate_current: float | None  # share of those lines the exposures say each quota serves
    estimate_recommended: float | None
    reason: str

    @property
    def pair(self) -> Pair:
        return (self.warehouse_id, self.material)


def homes(world: World) -> dict[tuple[str, str], str]:
    """For each (location, material) the warehouse its lines draw on: the nearest of those
    holding the material in the reserve catalog (fewer transport days, higher level, id)."""
    holders: dict[str, list[str]] = defaultdict(list)
    for warehouse, material in world.pairs:
        holders[material].append(warehouse)
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


def exposures(
    lines: Sequence[HistoryLine], restocks: Sequence[tuple[datetime, datetime]], start: datetime
) -> list[int]:
    """Each line's exposure (see the module's docstring), lines in submission order.

    `restocks` pairs each cutoff with the moment its replenishment is on the shelf (the start of
    its arrival day), in cutoff order; arrivals never come earlier for a later cutoff."""
    arrived = [on_shelf for _, on_shelf in restocks]
    moments = [line.submitted_at for line in lines]
    drawn = [0, *accumulate(line.quantity for line in lines)]
    found = []
    for i, line in enumerate(lines):
        covered = bisect_right(arrived, line.submitted_at)  # replenishments on the shelf by now
        since = max(start, restocks[covered - 1][0]) if covered else start
        first = bisect_right(moments, since)  # lines drawn after that cutoff
        found.append(drawn[i + 1] - drawn[first])
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


def recommend(world: World, history: Iterable[HistoryLine], service_level: Decimal) -> list[Advice]:
    """Recommend a quota for each pair of the reserve catalog (see the module's docstring)."""
    home = homes(world)
    mine: dict[Pair, list[HistoryLine]] = defaultdict(list)
    for line in history:
        warehouse = home.get((line.location, line.material))
        if line.short and warehouse is not None:
            mine[warehouse, line.material].append(line)
    advice = []
    for warehouse, material in world.pairs:
        lines = sorted(mine.get((warehouse, material), []), key=lambda x: (x.submitted_at, x.key))
        restocks = [
            (b.cutoff, _midnight(world.restocked_on(b, warehouse, material), b.cutoff))
            for b in world.batches
        ]
        exposed = exposures(lines, restocks, world.start)
        current = world.current.get((warehouse, material), 0)
        lead = world.lead_days(warehouse, material)
        recommended = quantile(exposed, service_level)
        advice.append(
            Advice(
                warehouse_id=warehouse,
                material=material,
                current=current,
                recommended=recommended,
                lines=len(lines),
                quantity=sum(x.quantity for x in lines),
                lead_days=lead,
                unit_price=world.price(material),
                estimate_current=served_share(exposed, current),
                estimate_recommended=served_share(exposed, recommended),
                reason=_reason(len(lines), lead, service_level),
            )
        )
    return advice


def _midnight(day: object, like: datetime) -> datetime:
    """The start of `day` in `like`'s time zone."""
    return datetime.combine(day, datetime.min.time(), tzinfo=like.tzinfo)  # type: ignore[arg-type]


def _reason(lines: int, lead: int, level: Decimal) -> str:
    if not lines:
        return (
            "过去 12 个月没有 5/8/15 个工作日的短工期项目（10 千伏及以下）从此库需要该物料，"
            "定额为 0，其需求由协议库存供应 / no short-deadline project (5, 8 or 15 working "
            "days, 10 kV and below) drew on this warehouse for it in the last 12 months: "
            "quota 0, agreement stock serves its demand"
        )
    share = f"{(level * 100).normalize():f} %"
    return (
        f"{lines} 行短工期需求，补库周期 {lead} 天加每周批次：定额覆盖 {share} 的需求行 / "
        f"{lines} short-deadline lines, {lead}-day replenishment plus the weekly batch: the "
        f"quota covers {share} of them"
    )
