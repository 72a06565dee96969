"""The province's central matching (省公司集中匹配): the cities' plans against the provincial
agreement lines, with the city engine.

Read every file first (`read_inputs`: all problems of all files, or nothing is matched), build a
matching instance (`build_instance`), solve and check it (`match`). The instance is the city
engine's contract (docs/contracts/matching-instance.md), so the objective is its three tiers:

1. unmet quantity × the line's weight — priority first, voltage class between equal priorities
   (`CityLine.weight`);
2. late days × quantity × weight, against each line's need-by;
3. cost: Σ agreement price × quantity, plus, for each line whose validity ends within the band
   horizon, `floor_penalty` per unit it would still lack of the lower end of its execution
   band (80 %) — so such a line is preferred while it serves on time. No line passes its upper
   band (120 %): that is the source's quantity.

The arrival of a line's goods: the matching day + the supplier's lead time + the transport days
from the line's delivery site to the city. docs/province.md says it in full.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from optimizer import Instance, Plan, check_plan, solve
from optimizer.contract import Demand, Policy, Source, Transport, trusted
from supply.calendar import WorkCalendar
from supply.core.errors import ConflictingInput, ImportRejected, InvalidInput, RowProblem
from supply.core.units import lookup_unit
from supply.policy import DeadlinePolicy, batch_for
from supply.province.files import (
    SUMMARY_SHEET,
    TRANSPORT_SHEET,
    CityLine,
    CityPlan,
    ProvinceAgreement,
    read_agreements,
    read_city_plan,
    read_transport,
)

MAX_CITIES = 50


@dataclass(frozen=True)
class Upload:
    """A file as received: its name and bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class ProvinceInputs:
    batch_id: str
    match_day: date
    cities: list[CityPlan]
    agreements: list[ProvinceAgreement]
    transport: dict[tuple[str, str], int]


@dataclass(frozen=True)
class BandRule:
    """How the cost tier keeps agreement lines inside their execution band."""

    horizon_days: int = 30  # lines ending within this many days of the matching day
    penalty_pct: Decimal = Decimal(10)  # per unit short of the lower band, % of its price


@dataclass(frozen=True)
class ProvinceMatch:
    """A solved matching: its inputs, instance and checked plan, and the lines behind the ids."""

    inputs: ProvinceInputs
    instance: Instance
    plan: Plan
    lines: dict[str, list[CityLine]]  # demand id → the cities' lines it stands for
    agreements: dict[str, ProvinceAgreement]  # source id → its agreement line
    rule: BandRule
    portions: list[Portion]  # what each city line gets


def batch_by_id(batch_id: str, *, calendar: WorkCalendar, policy: DeadlinePolicy) -> date:
    """The province's matching day of the batch named `batch_id` (e.g. 2026-W49)."""
    try:
        year, week = batch_id.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise InvalidInput(
            f"批次 {batch_id} 应写作 2026-W49 / batch {batch_id!r} must look like 2026-W49",
            loc=("batch",),
        ) from None
    # The batch named for a Monday takes what is submitted before that Monday's cutoff.
    batch = batch_for(
        datetime.combine(monday, datetime.min.time(), tzinfo=policy.zone),
        calendar=calendar,
        policy=policy,
    )
    if batch.id != batch_id:
        raise ConflictingInput(
            f"没有批次 {batch_id}（长假合并为 {batch.id}） / there is no batch {batch_id}: the "
            f"holiday merged it into {batch.id}",
            loc=("batch",),
        )
    return batch.province_match


def read_inputs(
    *,
    batch_id: str,
    agreements: Upload,
    transport: Upload,
    cities: list[Upload],
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    workers: int = 1,
) -> ProvinceInputs:
    """Read and check every file; raise `ImportRejected` with every problem of every file.

    With `workers` > 1 the cities' plans are read by that many processes (the command line; a
    server reads them in its own process)."""
    match_day = batch_by_id(batch_id, calendar=calendar, policy=policy)
    if not cities:
        raise InvalidInput("没有地市的需求计划 / no city's plan was given", loc=("cities",))
    if len(cities) > MAX_CITIES:
        raise InvalidInput(
            f"最多 {MAX_CITIES} 个地市文件 / at most {MAX_CITIES} city files", loc=("cities",)
        )
    problems: list[RowProblem] = []
    plans = []
    for plan, found in _read_cities(cities, batch_id, workers):
        plans.append(plan)
        problems += found
    lines = read_agreements(agreements.content, agreements.name, problems=problems)
    before = len(problems)
    days = read_transport(transport.content, transport.name, problems=problems)
    read = [p for p in plans if p is not None]
    # A transport file that could not be read whole lacks no day worth naming on its own.
    _check_across(read, lines, days if len(problems) == before else None, transport.name, problems)
    if problems:
        raise ImportRejected(
            f"省公司匹配的文件有 {len(problems)} 处问题，未匹配 / the province's files have "
            f"{len(problems)} problem(s); nothing was matched",
            problems,
        )
    return ProvinceInputs(batch_id, match_day, read, lines, days)


def _read_city(upload: Upload, batch_id: str) -> tuple[CityPlan | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    return read_city_plan(
        upload.content, upload.name, batch_id=batch_id, problems=problems
    ), problems


def _read_cities(
    cities: list[Upload], batch_id: str, workers: int
) -> list[tuple[CityPlan | None, list[RowProblem]]]:
    if workers <= 1 or len(cities) <= 1:
        return [_read_city(c, batch_id) for c in cities]
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ProcessPoolExecutor(max_workers=min(workers, len(cities)), mp_context=context) as pool:
        return list(pool.map(_read_city, cities, [batch_id] * len(cities)))


def _check_across(
    plans: list[CityPlan],
    agreements: list[ProvinceAgreement],
    days: dict[tuple[str, str], int] | None,
    transport_file: str,
    problems: list[RowProblem],
) -> None:
    """What no single file can say: one file per city, units that agree, transport days (not
    checked when `days` is None: the transport file has problems of its own)."""
    seen: dict[str, str] = {}
    for plan in plans:
        if plan.city in seen:
            problems.append(
                RowProblem(
                    None, "地市", "city",
                    f"地市 {plan.city} 的计划已在 {seen[plan.city]} 中",
                    f"the plan of {plan.city} was already given in {seen[plan.city]}",
                    f"{plan.file_name} · {SUMMARY_SHEET}", f"{plan.file_name} · {SUMMARY_SHEET}",
                )
            )  # fmt: skip
        seen.setdefault(plan.city, plan.file_name)
    units = {a.material: a.unit for a in agreements}
    sites: dict[str, set[str]] = {}
    for a in agreements:
        sites.setdefault(a.material, set()).add(a.site)
    missing: set[tuple[str, str]] = set()
    for plan in plans:
        for material, unit in sorted(plan.units.items()):
            known = lookup_unit(unit) if unit else None
            if known is not None and material in units and known.base != units[material]:
                problems.append(
                    RowProblem(
                        None, "单位", "unit",
                        f"{material} 的单位 {unit} 与省公司协议目录的 {units[material]} 不符",
                        f"{material} is counted in {unit}, the agreements in {units[material]}",
                        f"{plan.file_name} · {SUMMARY_SHEET}",
                        f"{plan.file_name} · {SUMMARY_SHEET}",
                    )
                )  # fmt: skip
        if days is None:
            continue
        for material in {line.material for line in plan.lines}:
            missing |= {
                (s, plan.city) for s in sites.get(material, ()) if (s, plan.city) not in days
            }
    for site, city in sorted(missing):
        problems.append(
            RowProblem(
                None, "运输天数", "days",
                f"缺少 {site} 到 {city} 的运输天数",
                f"no transport days from {site} to {city}",
                f"{transport_file} · {TRANSPORT_SHEET}", f"{transport_file} · {TRANSPORT_SHEET}",
            )
        )  # fmt: skip


def _floor(a: ProvinceAgreement, day: date, rule: BandRule) -> int:
    """Units the line still lacks of its lower band, if its validity ends within the horizon."""
    if a.valid_to > day + timedelta(days=rule.horizon_days):
        return 0
    return max(0, a.lower - a.ordered)


def serves(a: ProvinceAgreement, day: date) -> bool:
    """Whether the line can take an order on the matching day: valid, with room in its band."""
    return a.valid_from <= day <= a.valid_to and a.upper > a.ordered


def group_id(line: CityLine) -> str:
    """The instance demand of the lines the objective cannot tell apart: one city, material,
    need-by and weight (the weight says priority and voltage class)."""
    return f"{line.city}/{line.material}/{line.need_by.isoformat()}/{line.weight}"


def build_instance(
    inputs: ProvinceInputs, rule: BandRule
) -> tuple[Instance, dict[str, list[CityLine]], dict[str, ProvinceAgreement]]:
    """The matching instance of the province's week, and what its ids stand for.

    Lines of one city, material, need-by and weight are one demand of their summed quantity:
    every unit of them costs the same in every tier, so any split of the demand's allocations
    over them is as good as any other (`portions` splits it in row order). A province week has
    ten times fewer demands so, and the engine ten times fewer arcs.
    """
    day = inputs.match_day
    groups: dict[str, list[CityLine]] = {}
    for plan in inputs.cities:
        for line in plan.lines:
            groups.setdefault(group_id(line), []).append(line)
    demanded = {lines[0].material for lines in groups.values()}
    agreements = {a.key: a for a in inputs.agreements}
    sources = []
    for a in inputs.agreements:
        if a.material not in demanded or not serves(a, day):
            continue
        room = a.upper - a.ordered
        sources.append(
            Source(
                id=a.key,
                kind="agreement",
                material=a.material,
                quantity=room,
                location=a.site,
                ready=day + timedelta(days=a.lead_days),
                unit_cost=float(a.unit_price),
                floor=min(room, _floor(a, day, rule)),
                floor_penalty=float(a.unit_price * rule.penalty_pct / 100),
            )
        )
    sites = {s.location for s in sources}
    cities = {plan.city for plan in inputs.cities}
    instance = Instance.model_construct(
        version=1,
        plan_date=day,
        demands=[demand(key, lines) for key, lines in groups.items()],
        sources=sources,
        transport=[
            Transport.model_validate({"from": site, "to": city, "days": d})
            for (site, city), d in sorted(inputs.transport.items())
            if site in sites and city in cities
        ],
        policy=Policy(),
    )
    return instance, groups, agreements


def demand(key: str, lines: list[CityLine]) -> Demand:
    """The instance demand of `lines` (one line, or a group of lines alike)."""
    first = lines[0]
    return trusted(
        Demand,
        {
            "id": key,
            "project": first.city if len(lines) > 1 else f"{first.city}:{first.project_id}",
            "material": first.material,
            "quantity": sum(line.quantity for line in lines),
            "need_by": first.need_by,
            "voltage_class": first.voltage_class,
            "location": first.city,
            "weight": first.weight,
            "package": None,
        },
    )


@dataclass(frozen=True)
class Portion:
    """What a city line gets from one agreement line (`source` "" for what it does not get)."""

    line: CityLine
    source: str
    quantity: int
    arrival: date | None
    late_days: int


def portions(instance: Instance, plan: Plan, groups: dict[str, list[CityLine]]) -> list[Portion]:
    """The plan's allocations split over each demand's lines, in row order: earliest arrivals
    to the first lines; what is not matched to the last ones."""
    given: dict[str, list[tuple[date, str, int, int]]] = {}
    for a in plan.allocations:
        given.setdefault(a.demand, []).append((a.arrival, a.source, int(a.quantity), a.late_days))
    out = []
    for key, lines in groups.items():
        pieces = sorted(given.get(key, []))
        at = 0
        for line in sorted(lines, key=lambda x: x.row):
            need = line.quantity
            while need and at < len(pieces):
                arrival, source, quantity, late = pieces[at]
                take = min(need, quantity)
                out.append(Portion(line, source, take, arrival, late))
                need -= take
                if take == quantity:
                    at += 1
                else:
                    pieces[at] = (arrival, source, quantity - take, late)
            if need:
                out.append(Portion(line, "", need, None, 0))
    return out


def line_instance(result: ProvinceMatch) -> tuple[Instance, Plan]:
    """The matching as one demand per city line: the instance, and the plan `portions` makes of
    the solved one (the tests check this against the independent reference)."""
    keyed = {
        id(line): f"{line.city}/{line.row}" for lines in result.lines.values() for line in lines
    }
    instance = result.instance.model_copy(
        update={
            "demands": [
                demand(keyed[id(line)], [line]) for lines in result.lines.values() for line in lines
            ]
        }
    )
    allocations = [
        {"demand": keyed[id(p.line)], "source": p.source, "quantity": p.quantity,
         "arrival": p.arrival, "late_days": p.late_days}
        for p in result.portions if p.source
    ]  # fmt: skip
    groups = {id(line): key for key, lines in result.lines.items() for line in lines}
    unmet_reason = {u.demand: u for u in result.plan.unmet}
    late_reason = {x.demand: x for x in result.plan.late}
    unmet = [
        {"demand": keyed[id(p.line)], "quantity": p.quantity,
         "reason": unmet_reason[groups[id(p.line)]].reason,
         "cause": unmet_reason[groups[id(p.line)]].cause}
        for p in result.portions
        if not p.source
    ]  # fmt: skip
    latest: dict[str, int] = {}
    for p in result.portions:
        if p.source and p.late_days:
            key = keyed[id(p.line)]
            latest[key] = max(latest.get(key, 0), p.late_days)
    late = [
        {"demand": key, "late_days": days, "reason": late_reason[groups[line]].reason,
         "cause": late_reason[groups[line]].cause}
        for line, key in keyed.items()
        if (days := latest.get(key, 0))
    ]  # fmt: skip
    plan = Plan.model_validate(
        {"status": result.plan.status, "objective": result.plan.objective,
         "allocations": allocations, "unmet": unmet, "late": late}
    )  # fmt: skip
    return instance, plan


class MatchFailed(RuntimeError):
    """The engine's plan failed the independent check: a bug, never the user's input."""


def match(inputs: ProvinceInputs, rule: BandRule = BandRule()) -> ProvinceMatch:
    """Solve the province's week and check the plan independently (`optimizer.check_plan`)."""
    instance, lines, agreements = build_instance(inputs, rule)
    plan = solve(instance)
    if plan.status == "invalid":
        raise MatchFailed("; ".join(f"{e.id}.{e.field}: {e.message}" for e in plan.errors[:5]))
    report = check_plan(instance, plan)
    if not report.feasible:
        raise MatchFailed("; ".join(report.problems[:5]))
    return ProvinceMatch(
        inputs, instance, plan, lines, agreements, rule, portions(instance, plan, lines)
    )
