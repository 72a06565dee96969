"""The cities' requirement plans: Weihai's (the demo's, `data/`) read back as plan rows, and the
other cities' drawn from its projects (`city_rows`), each row naming the agreement line its
city proposed and the arrival it expects (`refer`).
"""

from __future__ import annotations

import io
import random
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from openpyxl import load_workbook

from supply.calendar import CalendarError, WorkCalendar
from supply.projects.models import PRIORITY_ZH
from supply.province.sample.tables import WEIHAI, City, materials, transport_days
from supply.sample.week import ESTATES, FIRMS, ITEMS, TRADES
from supply.weekly.export_rows import REPLENISHMENT

DEMO_BATCH = "2026-W49"


WEIHAI_PLAN = f"{DEMO_BATCH}_{WEIHAI}_协议库存需求计划.xlsx"


PRIORITY_VALUE = {zh: p.value for p, zh in PRIORITY_ZH.items()} | {"补库": REPLENISHMENT}


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


def templates(rows: Sequence[Mapping[str, Any]]) -> list[_Template]:
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


def city_rows(
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


def refer(
    rows: Mapping[str, list[dict[str, Any]]],
    catalog: Sequence[Mapping[str, Any]],
    matching_day: date,
    rng: random.Random,
) -> None:
    """Give each drawn row the agreement line its city's plan proposed, and its arrival."""
    offers: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    every: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for line in catalog:
        every[line["material_code"]].append(line)
        if (
            line["valid_from"] <= matching_day <= line["valid_to"]
            and line["ordered_quantity"] * 100 < line["estimated_quantity"] * line["band_high_pct"]
        ):
            offers[line["material_code"]].append(line)
    days = transport_days()
    for city, plan in rows.items():
        for row in plan:
            if "source_id" in row:  # Weihai's own rows say what the demo's plan proposed
                continue
            # A line serving on the matching day; should none be left, the city names any.
            line = rng.choice(offers[row["material"]] or every[row["material"]])
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
