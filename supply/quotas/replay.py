"""Replay a year of demand against a set of quotas, through the real matching engine.

Pure (the engine included: `optimizer.solve`): a `World`, the history's lines and the quotas in,
what happened out — each short-deadline line on time or not, and the stock's value day by day.
Not through the database: stock is kept per warehouse × material in memory, week by week.

- The replay starts with every pair's stock at its quota and nothing on its way.
- Each short-deadline project (5/8/15 working days, 10 kV and below) asks, when its lines come
  in, as an urgent request: one instance (`supply.planning.build_instance`, as an urgent
  request builds it: reserve now, agreement stock after this moment's batch, emergency
  procurement; reserve below quota priced above any agreement alternative, R6), solved by
  `optimizer.solve`; what it takes from reserve leaves at once.
- Every Monday cutoff the batch plans the other lines of the week (10 kV and up) the same way,
  as the weekly run does; what its plan takes from reserve leaves.
- Then stock below quota (less what is on its way) is requested and arrives
  `World.restocked_on` that batch: the province's matching, the supplier's lead time, transport.
- A line is on time when all of it arrives by its need-by date.

What is simplified, on purpose (docs/quotas.md says it too): consignment is left out (it is the
vendor's stock, not the quota's, and would help both quota sets alike); agreement stock is
never exhausted (the province tenders for the year's demand) and a material no agreement line
covers is replenished after its typical supplier lead time; holds are issued at once; requests
do not weigh themselves against other open demand; lines of materials outside the reserve
catalog do not touch the reserve and are left out.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from optimizer import Instance, Plan, solve
from supply.availability import AgreementItem, ReserveItem
from supply.planning import DemandItem, MatchingProblem, build_instance
from supply.policy import Batch
from supply.quotas.world import HistoryLine, Pair, World

Solver = Callable[[Instance], Plan]


def quiet_solve(instance: Instance) -> Plan:
    """The engine's optimal plan, without the reasons for late lines (no one reads them here)."""
    return solve(instance, explain_only=())


@dataclass
class ReplayResult:
    """What a year did with a set of quotas."""

    quotas: dict[Pair, int]
    lines: int = 0  # short-deadline lines of reserve-catalog materials
    on_time: int = 0
    by_pair: dict[Pair, list[int]] = field(default_factory=dict)  # home -> [lines, on time]
    outcomes: dict[str, bool] = field(default_factory=dict)  # short-deadline line -> on time
    other_lines: int = 0  # the batches' lines (10 kV and up) of those materials
    other_on_time: int = 0
    value_days: Decimal = Decimal(0)  # stock value summed over the days
    days: int = 0
    quota_value: Decimal = Decimal(0)
    solves: int = 0
    seconds: float = 0.0

    @property
    def on_time_rate(self) -> float:
        """The share of short-deadline lines on time."""
        return self.on_time / self.lines if self.lines else 1.0

    @property
    def average_value(self) -> Decimal:
        """The reserve's average value over the days of the year, CNY."""
        return self.value_days / self.days if self.days else Decimal(0)


@dataclass
class _Stock:
    quotas: dict[Pair, int]
    on_hand: dict[Pair, int]
    coming: dict[date, list[tuple[Pair, int]]] = field(default_factory=lambda: defaultdict(list))
    ordered: dict[Pair, int] = field(default_factory=lambda: defaultdict(int))


def replay(
    world: World,
    history: Iterable[HistoryLine],
    quotas: Mapping[Pair, int],
    *,
    home: Mapping[tuple[str, str], str],
    solver: Solver = quiet_solve,
) -> ReplayResult:
    """Replay the window's demand with `quotas` (see the module's docstring); `home` says which
    pair each short-deadline line counts for (`advisor.homes`)."""
    started = time.perf_counter()
    catalog = world.materials
    lines = [x for x in history if x.material in catalog and world.start <= x.submitted_at]
    lines = [x for x in lines if x.submitted_at < world.end]
    result = ReplayResult(quotas=dict(quotas))
    result.quota_value = sum((world.price(m) * q for (_, m), q in quotas.items()), start=Decimal(0))
    stock = _Stock(
        quotas={p: quotas.get(p, 0) for p in world.pairs},
        on_hand={p: quotas.get(p, 0) for p in world.pairs},
    )
    events, weeks = _events(world, lines)
    day = world.start.date()
    for moment, batch_index, group in events:
        day = _advance(world, stock, result, day, moment.date())
        batch = world.batches[batch_index]
        if group is None:  # the Monday batch: the week's other lines, then replenishment
            if weeks[batch_index]:
                plan_date = batch.cutoff.date()
                _match(
                    world, stock, result, weeks[batch_index], plan_date, batch.province_match,
                    solver,
                )  # fmt: skip
            _replenish(world, stock, batch)
        else:
            _match(world, stock, result, group, day, batch.province_match, solver)
    _advance(world, stock, result, day, world.end.date() + timedelta(days=1))
    for x in lines:
        if x.short:
            counts = result.by_pair.setdefault(
                (home.get((x.location, x.material), ""), x.material), [0, 0]
            )
            counts[0] += 1
            counts[1] += result.outcomes[x.key]
    result.seconds = time.perf_counter() - started
    return result


def _events(
    world: World, lines: list[HistoryLine]
) -> tuple[list[tuple[datetime, int, list[HistoryLine] | None]], list[list[HistoryLine]]]:
    """The year in order — each short-deadline project's request (its lines), each cutoff —
    and the other lines of each batch."""
    index = {id(b): i for i, b in enumerate(world.batches)}
    requests: dict[tuple[str, datetime], list[HistoryLine]] = defaultdict(list)
    weeks: list[list[HistoryLine]] = [[] for _ in world.batches]
    for x in lines:
        if x.short:
            requests[x.project_id, x.submitted_at].append(x)
        else:
            weeks[index[id(world.batch_of(x.submitted_at))]].append(x)
    events: list[tuple[datetime, int, list[HistoryLine] | None]] = [
        (at, index[id(world.batch_of(at))], group) for (_, at), group in requests.items()
    ]
    events += [(b.cutoff, i, None) for i, b in enumerate(world.batches)]
    # A request at the very moment of a cutoff waits for the batch (the batch is first).
    events.sort(key=lambda e: (e[0], e[2] is not None))
    return events, weeks


def _advance(world: World, stock: _Stock, result: ReplayResult, day: date, until: date) -> date:
    """Close the days before `until`: count each one's stock value, then put the next day's
    arrivals on the shelf."""
    while day < until:
        result.value_days += sum(
            (world.price(m) * q for (_, m), q in stock.on_hand.items() if q), start=Decimal(0)
        )
        result.days += 1
        day += timedelta(days=1)
        for pair, quantity in stock.coming.pop(day, ()):
            stock.on_hand[pair] += quantity
            stock.ordered[pair] -= quantity
    return day


def _replenish(world: World, stock: _Stock, batch: Batch) -> None:
    """Request stock below quota, less what is on its way, back up to the quota."""
    for pair, quota in stock.quotas.items():
        short = quota - stock.on_hand[pair] - stock.ordered[pair]
        if short > 0:
            stock.coming[world.restocked_on(batch, *pair)].append((pair, short))
            stock.ordered[pair] += short


def _match(
    world: World,
    stock: _Stock,
    result: ReplayResult,
    lines: list[HistoryLine],
    plan_date: date,
    order_day: date,
    solver: Solver,
) -> None:
    """Match `lines` on `plan_date` through the engine; issue what it takes from reserve and
    count the lines on time."""
    problem = _problem(world, stock, lines, plan_date, order_day)
    plan = solver(problem.instance)
    result.solves += 1
    got: dict[str, int] = defaultdict(int)
    latest: dict[str, date] = {}
    for a in plan.allocations:
        got[a.demand] += int(a.quantity)
        latest[a.demand] = max(a.arrival, latest.get(a.demand, a.arrival))
        ref = problem.sources[a.source]
        if ref.kind == "reserve" and ref.warehouse_id is not None:
            stock.on_hand[ref.warehouse_id, ref.material] -= int(a.quantity)
    for x in lines:
        on_time = got[x.key] >= x.quantity and latest[x.key] <= x.need_by
        if x.short:
            result.lines += 1
            result.on_time += on_time
            result.outcomes[x.key] = on_time
        else:
            result.other_lines += 1
            result.other_on_time += on_time


def _problem(
    world: World,
    stock: _Stock,
    lines: list[HistoryLine],
    plan_date: date,
    order_day: date,
) -> MatchingProblem:
    """The instance of `lines` over the stock on hand, agreement stock enough for all of them,
    and emergency procurement (`supply.planning.build_instance`, as the service builds it)."""
    wanted: dict[str, int] = defaultdict(int)
    for x in lines:
        wanted[x.material] += x.quantity
    quotas = stock.quotas
    supply = replace(
        world.supply,
        reserve=[
            ReserveItem(w, m, available=q, on_hand=q, quota=quotas.get((w, m), 0))
            for (w, m), q in stock.on_hand.items()
            if m in wanted
        ],
        agreements=[
            replace(a, available=wanted[a.material])
            for a in world.supply.agreements
            if a.material in wanted
        ],
    )
    short = any(x.short for x in lines)
    return build_instance(
        demands=[
            DemandItem(
                key=x.key,
                project_id=x.project_id,
                material=x.material,
                quantity=x.quantity,
                need_by=x.need_by,
                voltage_class=x.voltage_class,
                location=x.location,
                weight=x.weight,
            )
            for x in lines
        ],
        supply=supply,
        plan_date=plan_date,
        order_day=order_day,
        penalty=_urgent_penalty(supply.agreements, world) if short else world.penalty,
    )


def _urgent_penalty(agreements: list[AgreementItem], world: World) -> Decimal:
    """R6 for an urgent request: reserve below quota dearer than any agreement alternative
    (as `supply.requests.prepare.r6_penalty`)."""
    dearer = [a.unit_price - world.price(a.material) + 1 for a in agreements]
    return max([world.penalty, *dearer])
