"""The province's sample batch (省公司集中匹配): every city's requirement plan, the provincial
agreement catalog and the transport days, for a demo and a benchmark (estimates, marked so).

`write_province_sample(directory, batch_id=…)` writes, for one weekly batch:

- `{batch}_{city}_协议库存需求计划.xlsx` for the 16 city companies of Shandong, each as the weekly
  run writes it (`supply.weekly.export.agreement_requirements`). Weihai's is the demo's own plan
  (`data/2026-W49_威海_协议库存需求计划.xlsx`, written by `gridsupply demo`); the other 15 are
  drawn from it — its projects (type, voltage class, priority, material list, need-by) and its
  reserve replenishment, re-sampled at each city's size relative to Weihai (`data/cities.csv`),
  with each city's warehouses, districts and project ids;
- `{batch}_省级协议库存.xlsx`, the provincial catalog in the agreements import format
  (`catalogs.columns.SPECS`): every line of the Weihai demo catalog with the demo's numbers (so
  that Weihai can import the province's result), delivered from its supplier's site, and 2–4
  more lines of other tenders and suppliers (`data/suppliers.csv`) for every material demanded;
- `{batch}_省内运输天数.xlsx`: whole days from every delivery site to every city, by distance.

Quantities and prices are per base unit (米, 千克) throughout, as the service stores them. The
same seed, batch and sizes give the same cells; `data/README.md` says what is estimated.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from catalogs.export import write_catalog
from catalogs.models import CatalogKind
from supply.calendar import CalendarError, WorkCalendar, default_calendar
from supply.core.clock import SHANGHAI
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.core.units import MAX_QUANTITY, lookup_unit
from supply.policy import batch_for
from supply.projects.models import PRIORITY_ZH
from supply.sample.catalogs import SUPPLIERS, sample_rows
from supply.sample.week import ESTATES, FIRMS, ITEMS, SAMPLE_DAY, TRADES
from supply.weekly.export import REPLENISHMENT, agreement_requirements

SEED = 20261202
DEMO_BATCH = "2026-W49"
WEIHAI = "威海"
WEIHAI_PLAN = f"{DEMO_BATCH}_{WEIHAI}_协议库存需求计划.xlsx"
PARALLEL_LINES = 20_000  # from this many plan lines in all, a pool of processes writes the files
PRIORITY_VALUE = {zh: p.value for p, zh in PRIORITY_ZH.items()} | {"补库": REPLENISHMENT}
# Lines of the further tenders, by how far they are executed on the matching day: share of the
# lines, and the ordered quantity as a share of the estimate.
STATES: dict[str, tuple[float, tuple[float, float]]] = {
    "expiring": (0.30, (0.40, 0.78)),  # validity ends within 30 days, still below 80 %
    "busy": (0.20, (1.15, 1.199)),  # near the 120 % ceiling
    "expired": (0.15, (0.80, 1.10)),  # validity already over
    "fresh": (0.35, (0.00, 0.30)),  # a new tender
}
TENDER_CODES = "CDEFGHJKLMNPQRSTUVWXYZ"  # SDXY-A and -B are the Weihai demo's tenders


@dataclass(frozen=True, slots=True)
class ProvinceSample:
    """The files of a province sample and what they hold."""

    batch_id: str
    matching_day: date
    agreements: Path
    transport: Path
    cities: dict[str, Path]
    lines: dict[str, int]  # rows of 项目明细 per city
    agreement_lines: int
    sites: int


@dataclass(frozen=True, slots=True)
class City:
    """A city company: its size relative to Weihai (mean of population and GDP ratios)."""

    name: str
    code: str
    factor: float
    lon: float
    lat: float
    districts: tuple[str, ...]
    stores: tuple[tuple[str, str], ...]  # (warehouse id, name), the central store first


@dataclass(frozen=True, slots=True)
class Supplier:
    """A supplier of the provincial agreements and its delivery sites (site id → city)."""

    number: int
    name: str
    prefixes: tuple[str, ...]
    sites: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Material:
    """A material of the sample master: its catalog unit and base unit, price and lead time."""

    code: str
    name: str
    unit: str
    base: str
    factor: int
    voltage_class: str
    price: Decimal
    lead_days: int
    agreement: bool


@dataclass(frozen=True, slots=True)
class _Need:
    material: str
    quantity: int
    need_by: date
    voltage_class: str
    rows: int  # agreement lines the plan split it between


@dataclass(frozen=True, slots=True)
class _Template:
    project_type: str
    priority: str
    needs: tuple[_Need, ...]


@dataclass(frozen=True, slots=True)
class _Tender:
    code: str
    name: str
    state: str
    valid_from: date
    valid_to: date


def _table(package: str, *path: str) -> list[dict[str, str]]:
    text = files(package).joinpath(*path).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _stores(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((store, name) for store, name in (s.split("=", 1) for s in text.split("|")))


@cache
def cities() -> tuple[City, ...]:
    """The 16 city companies of Shandong (`data/cities.csv`), sized relative to Weihai."""
    rows = _table("supply.province", "data", "cities.csv")
    weihai = next(r for r in rows if r["city"] == WEIHAI)
    people, gdp = float(weihai["population_2020_10k"]), float(weihai["gdp_2023_100m_cny"])
    return tuple(
        City(
            name=r["city"],
            code=r["code"],
            factor=(float(r["population_2020_10k"]) / people + float(r["gdp_2023_100m_cny"]) / gdp)
            / 2,
            lon=float(r["lon"]),
            lat=float(r["lat"]),
            districts=tuple(r["districts"].split("|")),
            stores=_stores(r["stores"]),
        )
        for r in rows
    )


@cache
def suppliers() -> tuple[Supplier, ...]:
    """The Weihai sample's suppliers (numbered as its agreements are) and the province's others."""
    sample = {name: (number, prefixes) for number, (name, prefixes) in enumerate(SUPPLIERS, 1)}
    found: list[Supplier] = []
    for r in _table("supply.province", "data", "suppliers.csv"):
        others = len(found) - sum(f.name in sample for f in found)
        number, prefixes = sample.get(
            r["supplier"], (len(sample) + others + 1, tuple(r["prefixes"].split("|")))
        )
        sites = tuple(
            (f"SITE-{r['short']}-{n}", city)
            for n, city in enumerate(r["site_cities"].split("|"), 1)
        )
        found.append(Supplier(number, r["supplier"], prefixes, sites))
    return tuple(sorted(found, key=lambda s: s.number))


@cache
def materials() -> dict[str, Material]:
    """The sample material master (`supply/sample/materials.csv`), by code."""
    found = {}
    for r in _table("supply.sample", "materials.csv"):
        unit = lookup_unit(r["unit"])
        assert unit is not None, r["unit"]
        modes = r["typical_mode"].split("|")
        found[r["code"]] = Material(
            code=r["code"],
            name=r["name_zh"],
            unit=r["unit"],
            base=unit.base,
            factor=unit.factor,
            voltage_class=r["voltage_class"],
            price=Decimal(r["typical_unit_price_cny"]),
            lead_days=int(r["supplier_lead_time_days"]),
            agreement="agreement" in modes or "batch" in modes,
        )
    return found


def write_province_sample(
    directory: Path,
    *,
    batch_id: str = DEMO_BATCH,
    seed: int = SEED,
    lines_per_city: int | None = None,
    agreement_lines: int | None = None,
    workers: int | None = None,
) -> ProvinceSample:
    """Write the province's sample for `batch_id` into `directory`; return what it wrote.

    `lines_per_city` gives every city that many project lines (Weihai keeps the demo's and adds
    to them); `agreement_lines` sizes the provincial catalog (at least the Weihai demo's lines
    and two more per material demanded). `workers` processes write the files (default: one per
    CPU when the plans hold 20,000 lines or more, else none).
    """
    calendar = default_calendar()
    matching_day, shift = _batch(batch_id, calendar)
    weihai = weihai_rows(shift)
    templates = _templates(weihai)
    year = (SAMPLE_DAY + shift).year
    rows: dict[str, list[dict[str, Any]]] = {}
    for city in cities():
        rng = random.Random(f"{seed}:{city.code}")
        count = lines_per_city if lines_per_city is not None else round(len(weihai) * city.factor)
        if city.name == WEIHAI:
            taken = {(r["replenish_warehouse_id"], r["material"]) for r in weihai}
            more = max(0, (lines_per_city or 0) - len(weihai))
            rows[city.name] = weihai + _city_rows(city, more, year, templates, rng, calendar, taken)
        else:
            rows[city.name] = _city_rows(city, max(1, count), year, templates, rng, calendar, set())
    demand: Counter[str] = Counter()
    for city_rows in rows.values():
        for row in city_rows:
            demand[row["material"]] += row["quantity"]
    catalog = _catalog(demand, random.Random(f"{seed}:catalog"), matching_day, agreement_lines)
    _refer(rows, catalog, matching_day, random.Random(f"{seed}:refer"))
    sites = sorted({line["delivery_warehouse_id"] for line in catalog})
    paths = {c.name: directory / f"{batch_id}_{c.name}_协议库存需求计划.xlsx" for c in cities()}
    sample = ProvinceSample(
        batch_id=batch_id,
        matching_day=matching_day,
        agreements=directory / f"{batch_id}_省级协议库存.xlsx",
        transport=directory / f"{batch_id}_省内运输天数.xlsx",
        cities=paths,
        lines={name: len(city_rows) for name, city_rows in rows.items()},
        agreement_lines=len(catalog),
        sites=len(sites),
    )
    directory.mkdir(parents=True, exist_ok=True)
    sample.agreements.write_bytes(write_catalog(CatalogKind.AGREEMENTS, catalog, "xlsx"))
    sample.transport.write_bytes(transport_workbook(sites))
    jobs = [(paths[name], city_rows, batch_id, name) for name, city_rows in rows.items()]
    if workers is None:
        workers = (os.cpu_count() or 1) if sum(sample.lines.values()) >= PARALLEL_LINES else 1
    if workers < 2:
        for job in jobs:
            _write_plan(*job)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            list(pool.map(_write_plan, *zip(*jobs, strict=True)))
    return sample


def _write_plan(path: Path, rows: list[dict[str, Any]], batch_id: str, city: str) -> None:
    path.write_bytes(agreement_requirements(rows, batch_id, city))


def _batch(batch_id: str, calendar: WorkCalendar) -> tuple[date, timedelta]:
    """The province's matching day of a batch, and how far its Monday is from the demo's."""
    found = re.fullmatch(r"(\d{4})-W(\d{2})", batch_id)
    if found is None:
        raise ValueError(f"batch {batch_id!r} is not an ISO week such as {DEMO_BATCH}")
    monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    batch = batch_for(datetime.combine(monday, time(0), tzinfo=SHANGHAI), calendar=calendar)
    if batch.id != batch_id:
        raise ValueError(f"batch {batch_id} has no cutoff of its own (it is {batch.id}'s)")
    return batch.province_match, batch.named_for - SAMPLE_DAY


# --- Weihai's plan, and the projects drawn from it -------------------------------------------


def weihai_rows(shift: timedelta = timedelta(0)) -> list[dict[str, Any]]:
    """Weihai's requirement plan (the demo's) as plan rows, its dates moved by `shift`."""
    content = files("supply.province").joinpath("data", WEIHAI_PLAN).read_bytes()
    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    names = {
        (r["物料编码"], r["交货仓库"]): (r["物料名称"], r["单位"], r["交货仓库名称"])
        for r in _records(book["需求汇总"])
    }
    rows = []
    for r in _records(book["项目明细"]):
        name, unit, warehouse_name = names[r["物料编码"], r["交货仓库"]]
        found = re.search(r"\((\w+)\)$", r["工程类型"])
        assert found is not None, r["工程类型"]
        replenishing = found[1] == REPLENISHMENT
        rows.append(
            {
                "kind": "agreement",
                "demand": r["需求行"],
                "project_id": r["项目编号"] or "",
                "project_name": "" if replenishing else r["项目名称"],
                "project_type": found[1],
                "material": r["物料编码"],
                "material_name": name,
                "unit": unit,
                "quantity": int(r["数量"]),
                "source_id": r["参考协议行"],
                "warehouse_id": r["交货仓库"],
                "warehouse_name": warehouse_name,
                "supplier": r["参考供应商"],
                "unit_cost": Decimal(str(r["参考单价(元)"])),
                "arrival": r["预计到货日期"].date() + shift,
                "need_by": r["需到货日期"].date() + shift,
                "late_days": int(r["延迟天数"] or 0),
                "reason": r["说明(英文) / reason"] or "",
                "reason_zh": r["说明"] or "",
                "cause": None,
                "emergency_cause": None,
                "replenish_warehouse_id": r["需求行"].split(":")[1] if replenishing else None,
                "voltage_class": r["电压等级"] or "",
                "priority": PRIORITY_VALUE[r["优先级"]],
            }
        )
    book.close()
    return rows


def _records(sheet: Any) -> Iterator[dict[str, Any]]:
    lines = sheet.iter_rows(values_only=True)
    header = next(lines)
    for values in lines:
        if str(values[0] or "").startswith("合计"):
            return
        yield dict(zip(header, values, strict=True))


def _line_number(demand: str) -> tuple[int, str]:
    number = demand.rsplit("/", 1)[-1]
    return (int(number) if number.isdigit() else 0, demand)


def _templates(rows: Sequence[Mapping[str, Any]]) -> list[_Template]:
    """Weihai's projects, and its replenishment per warehouse, as templates to draw from."""
    groups: dict[str, dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = row["project_id"] or f"REPL:{row['replenish_warehouse_id']}"
        groups[key][row["demand"]].append(row)
    templates = []
    for _key, demands in sorted(groups.items()):
        needs = tuple(
            _Need(
                material=lines[0]["material"],
                quantity=sum(int(r["quantity"]) for r in lines),
                need_by=min(r["need_by"] for r in lines),
                voltage_class=lines[0]["voltage_class"],
                rows=len(lines),
            )
            for _demand, lines in sorted(demands.items(), key=lambda d: _line_number(d[0]))
        )
        first = next(iter(demands.values()))[0]
        templates.append(_Template(first["project_type"], first["priority"], needs))
    return templates


@cache
def _alternatives() -> dict[str, tuple[str, ...]]:
    """Materials a project may take instead of one another (the sample week's typical lists)."""
    known = materials()
    found: dict[str, set[str]] = defaultdict(set)
    for items in ITEMS.values():
        for codes, _chance, _range in items:
            usable = {c for c in codes if known[c].agreement}
            for code in usable if len(usable) > 1 else ():
                found[code] |= usable
    return {code: tuple(sorted(group)) for code, group in found.items()}


def _city_rows(
    city: City,
    count: int,
    year: int,
    templates: Sequence[_Template],
    rng: random.Random,
    calendar: WorkCalendar,
    replenished: set[tuple[str | None, str]],
) -> list[dict[str, Any]]:
    """`count` rows of a city's plan: Weihai's projects and replenishment drawn again."""
    rows: list[dict[str, Any]] = []
    serial = 0
    while len(rows) < count:
        template = rng.choice(templates)
        if template.project_type == REPLENISHMENT:
            rows += _replenishment(city, template, rng, calendar, replenished)
        else:
            serial += 1
            rows += _project(
                city, f"YK{year % 100}-{city.code}-{serial:05d}", template, rng, calendar
            )
    return rows[:count]


def _project(
    city: City, project_id: str, template: _Template, rng: random.Random, calendar: WorkCalendar
) -> list[dict[str, Any]]:
    name = _project_name(city, template.project_type, rng)
    # Most agreement deliveries go to the city's central store (Weihai's: 82 % of its rows).
    store = city.stores[0] if rng.random() < 0.8 else rng.choice(city.stores)
    rows = []
    for number, need in enumerate(template.needs, 1):
        material = need.material
        if material in _alternatives() and rng.random() < 0.35:
            material = rng.choice(_alternatives()[material])
        quantity = _quantity(need.quantity, rng)
        need_by = _need_by(need.need_by, rng, calendar)
        for part in _split(quantity, need.rows, rng):
            rows.append(
                _row(f"{project_id}/{number}", project_id, name, template.project_type,
                     material, part, store, need_by, need.voltage_class, template.priority)
            )  # fmt: skip
    return rows


def _replenishment(
    city: City,
    template: _Template,
    rng: random.Random,
    calendar: WorkCalendar,
    replenished: set[tuple[str | None, str]],
) -> list[dict[str, Any]]:
    """A store's reserve below quota, refilled through agreements (one line per material)."""
    store = rng.choice(city.stores)
    rows = []
    for need in template.needs:
        if (store[0], need.material) in replenished:
            continue
        replenished.add((store[0], need.material))
        need_by = _need_by(need.need_by, rng, calendar)
        for part in _split(_quantity(need.quantity, rng), need.rows, rng):
            rows.append(
                _row(f"REPL:{store[0]}:{need.material}", "", "", REPLENISHMENT, need.material,
                     part, store, need_by, need.voltage_class, REPLENISHMENT, replenish=True)
            )  # fmt: skip
    return rows


def _row(
    demand: str,
    project_id: str,
    project_name: str,
    project_type: str,
    material: str,
    quantity: int,
    store: tuple[str, str],
    need_by: date,
    voltage_class: str,
    priority: str,
    *,
    replenish: bool = False,
) -> dict[str, Any]:
    known = materials()[material]
    return {
        "kind": "agreement", "demand": demand, "project_id": project_id,
        "project_name": project_name, "project_type": project_type, "material": material,
        "material_name": known.name, "unit": known.base, "quantity": quantity,
        "warehouse_id": store[0], "warehouse_name": store[1], "need_by": need_by,
        "voltage_class": voltage_class, "priority": priority, "cause": None,
        "emergency_cause": None, "replenish_warehouse_id": store[0] if replenish else None,
    }  # fmt: skip


def _project_name(city: City, project_type: str, rng: random.Random) -> str:
    """A plausible, fictional project name of the city."""
    district = rng.choice(city.districts)
    firm = f"{city.name}{rng.choice(FIRMS)}{rng.choice(TRADES)}有限公司"
    estate = f"{rng.choice(ESTATES)}{rng.choice('一二三四')}期"
    return {
        "lv_extension": f"{district}{firm}低压接入工程",
        "area_capacity_increase": f"{district}{estate}台区增容工程",
        "area_new": f"{district}{estate}新建台区工程",
        "mv_10kv": f"{district}{firm}10千伏业扩配套工程",
        "mv_10kv_civil": f"{district}{firm}10千伏业扩配套工程（含电缆通道土建）",
        "hv_35kv": f"{district}{firm}35千伏业扩配套工程",
        "hv_110kv": f"{district}{firm}110千伏业扩配套工程",
    }[project_type]


def _quantity(quantity: int, rng: random.Random) -> int:
    """Another project's amount: within −40 %…+50 %, rounded as a designer would."""
    amount = max(1, round(quantity * rng.uniform(0.6, 1.5)))
    for step, above in ((100, 10_000), (50, 1_000), (10, 100)):
        if amount >= above:
            return amount // step * step
    return amount


def _need_by(day: date, rng: random.Random, calendar: WorkCalendar) -> date:
    """Weihai's need-by date, or a working day or two either side of it (where loaded)."""
    step = rng.choice((-1, 0, 0, 0, 1, 2))
    try:
        return calendar.add_working_days(day, step) if step else day
    except CalendarError:  # the next year's calendar is not published yet: keep Weihai's day
        return day


def _split(quantity: int, parts: int, rng: random.Random) -> list[int]:
    """A line the city's plan took from one agreement line, or split between two."""
    if parts < 2 or quantity < 2:
        return [quantity]
    first = min(quantity - 1, max(1, round(quantity * rng.uniform(0.3, 0.7))))
    return [first, quantity - first]


# --- the provincial catalog -----------------------------------------------------------------


def _catalog(
    demand: Mapping[str, int], rng: random.Random, matching_day: date, size: int | None
) -> list[dict[str, Any]]:
    """The Weihai demo's agreement lines (from their suppliers' sites) and further lines."""
    by_name = {s.name: s for s in suppliers()}
    lines = [
        _in_base_units(line) | {"delivery_warehouse_id": rng.choice(by_name[line["supplier"]].sites)[0]}
        for line in sample_rows(today=SAMPLE_DAY).rows[CatalogKind.AGREEMENTS]
    ]  # fmt: skip
    wanted = sorted(demand)
    if size is None:
        counts = {m: rng.randint(2, 4) for m in wanted}
    else:
        extra = size - len(lines)
        if extra < 2 * len(wanted):
            raise ValueError(
                f"agreement_lines={size} is too few: the Weihai demo's {len(lines)} lines and two "
                f"more for each of the {len(wanted)} materials demanded need "
                f"{len(lines) + 2 * len(wanted)}"
            )
        counts = dict.fromkeys(wanted, extra // len(wanted))
        for material in rng.sample(wanted, extra % len(wanted)):
            counts[material] += 1
    tenders = _tenders(matching_day, 1 + max(counts.values()) // 8)
    numbers: Counter[str] = Counter()
    for material in wanted:
        lines += _further_lines(material, counts[material], demand[material], tenders, rng, numbers)
    return sorted(lines, key=lambda line: (line["agreement_no"], line["line_no"]))


def _in_base_units(line: Mapping[str, Any]) -> dict[str, Any]:
    unit = lookup_unit(line["unit"])
    assert unit is not None
    return dict(line) | {
        "unit": unit.base,
        "unit_price": Decimal(line["unit_price"]) / unit.factor,
        "estimated_quantity": int(line["estimated_quantity"]) * unit.factor,
        "ordered_quantity": int(line["ordered_quantity"]) * unit.factor,
    }


def _tenders(matching_day: date, per_state: int) -> list[_Tender]:
    """Tenders in every state on the matching day, `per_state` of each (dates spread apart)."""
    tenders = []
    for j in range(per_state * len(STATES)):
        state, k = list(STATES)[j % len(STATES)], j // len(STATES)
        start, end = {
            "expiring": (-335 - 3 * k, 5 + 6 * k % 26),
            "busy": (-180 - 7 * k, 120 + 5 * k),
            "expired": (-400 - 7 * k, -3 - 9 * k % 58),
            "fresh": (-25 - 2 * k, 340 - 2 * k),
        }[state]
        letters = TENDER_CODES[j] if j < len(TENDER_CODES) else (
            TENDER_CODES[j // len(TENDER_CODES) - 1] + TENDER_CODES[j % len(TENDER_CODES)]
        )  # fmt: skip
        valid_from = matching_day + timedelta(days=start)
        tenders.append(
            _Tender(
                code=f"SDXY-{letters}",
                name=f"国网山东省电力公司{valid_from.year}年配网物资协议库存招标（SDXY-{letters}）",
                state=state,
                valid_from=valid_from,
                valid_to=matching_day + timedelta(days=end),
            )
        )
    return tenders


def _further_lines(
    material: str,
    count: int,
    weekly: int,
    tenders: Sequence[_Tender],
    rng: random.Random,
    numbers: Counter[str],
) -> list[dict[str, Any]]:
    """`count` lines for a material from other tenders and suppliers, sized to a year's demand."""
    known = materials()[material]
    able = [s for s in suppliers() if material.startswith(s.prefixes)]
    states = list(STATES)
    weights = [share for share, _ordered in STATES.values()]
    taken: set[tuple[str, int]] = set()
    lines = []
    for _ in range(count):
        for _attempt in range(10):  # another tender or supplier than this material's lines so far
            state = rng.choices(states, weights)[0]
            tender = rng.choice([t for t in tenders if t.state == state])
            supplier = rng.choice(able)
            if (tender.code, supplier.number) not in taken:
                break
        taken.add((tender.code, supplier.number))
        agreement_no = f"{tender.code}-{tender.valid_from.year}-{supplier.number:03d}"
        numbers[agreement_no] += 1
        estimate = _estimate(weekly * 52 / count * rng.uniform(0.5, 1.5), known.factor)
        low, high = STATES[state][1]
        price = (known.price * Decimal(str(round(rng.uniform(0.85, 1.06), 4)))).quantize(
            Decimal("0.01")
        )
        lines.append(
            {
                "agreement_no": agreement_no,
                "line_no": numbers[agreement_no],
                "tender": tender.name,
                "supplier": supplier.name,
                "material_code": material,
                "material_name": known.name,
                "unit": known.base,
                "unit_price": price / known.factor,
                "estimated_quantity": estimate,
                "band_low_pct": 80,
                "band_high_pct": 120,
                "ordered_quantity": int(estimate * rng.uniform(low, high)),
                "valid_from": tender.valid_from,
                "valid_to": tender.valid_to,
                "lead_days": max(3, known.lead_days + rng.randint(-3, 7)),
                "delivery_warehouse_id": rng.choice(supplier.sites)[0],
            }
        )
    return lines


def _estimate(quantity: float, factor: int) -> int:
    """An estimate as a tender writes it: two significant figures of the catalog unit, and at
    most half the largest quantity a file may hold (50,000 t of tower steel, 50,000 km)."""
    amount = max(1.0, min(quantity, MAX_QUANTITY / 2) / factor)
    step = max(1, 10 ** (math.floor(math.log10(amount)) - 1))
    return max(1, round(amount / step)) * step * factor


# --- the cities' references and the transport days -------------------------------------------


def _refer(
    rows: Mapping[str, list[dict[str, Any]]],
    catalog: Sequence[Mapping[str, Any]],
    matching_day: date,
    rng: random.Random,
) -> None:
    """Give each drawn row the agreement line its city's plan proposed, and its arrival."""
    offers: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for line in catalog:
        if (
            line["valid_from"] <= matching_day <= line["valid_to"]
            and line["ordered_quantity"] * 100 < line["estimated_quantity"] * line["band_high_pct"]
        ):
            offers[line["material_code"]].append(line)
    days = transport_days()
    for city, city_rows in rows.items():
        for row in city_rows:
            if "source_id" in row:  # Weihai's own rows say what the demo's plan proposed
                continue
            line = rng.choice(offers[row["material"]])
            source = f"A:{line['agreement_no']}/{line['line_no']}"
            arrival = matching_day + timedelta(
                days=line["lead_days"] + days[line["delivery_warehouse_id"], city]
            )
            late = max(0, (arrival - row["need_by"]).days)
            when, need = f"{arrival:%m-%d}", f"{row['need_by']:%m-%d}"
            row |= {
                "source_id": source,
                "supplier": line["supplier"],
                "unit_cost": line["unit_price"],
                "arrival": arrival,
                "late_days": late,
                "reason_zh": f"需到货 {need}；协议库存 {source} 预计 {when} 到货" if late else "",
                "reason": f"needed by {need}; agreement {source} arrives {when}" if late else "",
            }


@cache
def transport_days() -> dict[tuple[str, str], int]:
    """Whole days, loading included, from every supplier's site to every city (by distance)."""
    where = {c.name: (c.lon, c.lat) for c in cities()}
    return {
        (site, city.name): _days(where[home], where[city.name])
        for supplier in suppliers()
        for site, home in supplier.sites
        for city in cities()
    }


def _days(origin: tuple[float, float], to: tuple[float, float]) -> int:
    """0 within a city; 1 up to 200 km by road, 2 to 450, 3 to 650, else 4 (Shandong: ~700 km)."""
    if origin == to:
        return 0
    (lon1, lat1), (lon2, lat2) = (tuple(map(math.radians, p)) for p in (origin, to))
    arc = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    road = 1.3 * 2 * 6371 * math.asin(math.sqrt(arc))  # roads run ~30 % longer than the arc
    return next((d for d, limit in ((1, 200), (2, 450), (3, 650)) if road <= limit), 4)


def transport_workbook(sites: Iterable[str]) -> bytes:
    """省内运输天数: one row per delivery site and city."""
    days = transport_days()
    return write_xlsx(
        [
            Sheet(
                name="运输天数",
                columns=[
                    Column("交货地点", note="delivery site (the agreement's 交货地点)"),
                    Column("地市", note="city company"),
                    Column("运输天数", "int", note="whole days, loading included"),
                ],
                rows=[
                    [site, city.name, days[site, city.name]] for site in sites for city in cities()
                ],
            )
        ]
    )
