"""What the province's matching writes: a matching result per city, in exactly the format
`gridsupply plan import-match` reads (`supply.weekly.province.SPEC`), a province summary, and
the instance and plan for replay.

- `{batch}_{city}_省公司匹配结果.xlsx`: sheet 匹配结果, one row per material, delivery warehouse
  and agreement line (the quantity matched, the arrival at the city), then 未满足与延迟;
- `{batch}_省公司匹配汇总.xlsx`: 按协议行 (matched this week, execution against the band, lines
  at risk), 按供应商, 按地市 (matched, on time, late, unmatched), 未满足 (the lines not matched in
  full, with the engine's reasons);
- `instance.json`, `plan.json`: `gridsupply solve instance.json` gives the plan again.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from optimizer import instance_to_json, plan_to_json
from supply.core.money import line_amount
from supply.core.sheets import Column, Sheet, write_xlsx
from supply.core.sheets.write import ColumnKind
from supply.province.files import CityLine, ProvinceAgreement
from supply.province.matching import ProvinceMatch, serves
from supply.weekly.province import SPEC as MATCH_RESULT

SUMMARY = "省公司匹配汇总"
CITY_RESULT = "省公司匹配结果"


@dataclass
class CityFigures:
    """A city's week: its lines and what the matching gave them."""

    lines: int = 0
    quantity: int = 0
    matched: int = 0
    on_time: int = 0
    late: int = 0
    unmet_lines: int = 0
    unmet_quantity: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class Outcome:
    """The plan read back per city line and per agreement line."""

    rows: dict[str, list[list[Any]]] = field(default_factory=dict)  # city → result rows
    cities: dict[str, CityFigures] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)  # agreement → quantity this week
    spend: dict[str, Decimal] = field(default_factory=dict)
    problems: list[list[Any]] = field(default_factory=list)  # late and unmet lines


def outcome(result: ProvinceMatch) -> Outcome:
    """Read the plan per city (result rows, figures) and per agreement line."""
    out = Outcome(cities={p.city: CityFigures() for p in result.inputs.cities})
    grouped: dict[tuple[str, str, str, str, int, str], list[Any]] = {}
    served: dict[int, int] = defaultdict(int)
    short: dict[int, int] = defaultdict(int)
    latest: dict[int, int] = defaultdict(int)
    for portion in result.portions:
        line = portion.line
        if not portion.source:
            short[id(line)] += portion.quantity
            continue
        agreement = result.agreements[portion.source]
        served[id(line)] += portion.quantity
        latest[id(line)] = max(latest[id(line)], portion.late_days)
        group = (line.city, line.material, line.warehouse, agreement.agreement_no,
                 agreement.line_no, agreement.supplier)  # fmt: skip
        row = grouped.setdefault(group, [0, portion.arrival, 0, agreement])
        row[0] += portion.quantity
        row[1] = max(row[1], portion.arrival)
        row[2] += 1
        out.matched[portion.source] = out.matched.get(portion.source, 0) + portion.quantity
        amount = line_amount(agreement.unit_price, portion.quantity)
        out.spend[portion.source] = out.spend.get(portion.source, Decimal(0)) + amount
        out.cities[line.city].amount += amount
    for (city, material, warehouse, no, line_no, supplier), (q, arrival, n, a) in sorted(
        grouped.items()
    ):
        out.rows.setdefault(city, []).append(
            [material, warehouse, no, line_no, supplier, q, arrival, a.site, a.unit_price,
             line_amount(a.unit_price, q), n]
        )  # fmt: skip
    reasons = {u.demand: u.reason_zh or u.reason for u in result.plan.unmet}
    late_reasons = {x.demand: x.reason_zh or x.reason for x in result.plan.late}
    for key, lines in result.lines.items():
        for line in lines:
            figures = out.cities[line.city]
            figures.lines += 1
            figures.quantity += line.quantity
            figures.matched += served[id(line)]
            missing, late = short[id(line)], latest[id(line)]
            if missing:
                figures.unmet_lines += 1
                figures.unmet_quantity += missing
            elif late:
                figures.late += 1
            else:
                figures.on_time += 1
            if missing or late:
                reason = reasons.get(key) if missing else late_reasons.get(key)
                out.problems.append(
                    _problem_row(line, served[id(line)], missing, late, reason or "")
                )
    out.problems.sort(key=lambda r: (r[0], r[1] or "", r[3]))
    return out


def _problem_row(line: CityLine, served: int, short: int, late: int, reason: str) -> list[Any]:
    return [
        line.city, line.project_id, line.project_name, line.demand, line.material,
        line.warehouse, line.priority, line.voltage_class, line.quantity, line.need_by,
        served, late if served else None, short, "未满足" if short else "延迟", reason,
    ]  # fmt: skip


_PROBLEM_COLUMNS = [
    Column("地市"), Column("项目编号"), Column("项目名称"), Column("需求行"), Column("物料编码"),
    Column("交货仓库"), Column("优先级"), Column("电压等级"), Column("需求数量", "int", total=True),
    Column("需到货日期", "date"), Column("已匹配数量", "int", total=True),
    Column("延迟天数", "int"), Column("未满足数量", "int", total=True), Column("情况"),
    Column("原因"),
]  # fmt: skip


def city_workbook(city: str, rows: list[list[Any]], problems: list[list[Any]]) -> bytes:
    """A city's matching result: 匹配结果 as `plan import-match` reads it, then its problems."""
    kinds: dict[str, ColumnKind] = {"quantity": "int", "line_no": "int", "expected_arrival": "date"}
    columns = [
        Column(c.zh, kinds.get(c.key, "text"), total=c.key == "quantity")
        for c in MATCH_RESULT.columns
    ]
    info = [
        Column("交货地点(供应商)"),
        Column("协议单价(元)", "price"),
        Column("金额(元)", "money", total=True),
        Column("项目需求行数", "int"),
    ]
    return write_xlsx(
        [
            Sheet(MATCH_RESULT.sheet, [*columns, *info], rows),  # no totals: it is imported
            Sheet("未满足与延迟", _PROBLEM_COLUMNS, [r for r in problems if r[0] == city], True),
        ]
    )


def _risk(a: ProvinceAgreement, after: int, day: date, horizon: int) -> str:
    if a.valid_to < day:
        return "已过有效期"
    if a.valid_from > day:
        return "尚未生效"
    if after >= a.upper:
        return "已达执行上限"
    if a.valid_to <= day + timedelta(days=horizon) and after < a.lower:
        return f"{a.valid_to.isoformat()} 到期，执行低于下限"
    return ""


def agreement_rows(result: ProvinceMatch, out: Outcome) -> tuple[list[list[Any]], list[list[Any]]]:
    """The rows of 按协议行 (the last column the risk, "" for none) and of 按供应商 (supplier,
    lines, lines that took orders, matched, amount, lines at risk), by agreement and supplier."""
    day = result.inputs.match_day
    by_line = []
    suppliers: dict[str, list[Any]] = {}
    for a in sorted(result.inputs.agreements, key=lambda a: (a.agreement_no, a.line_no)):
        matched = out.matched.get(a.key, 0)
        after = a.ordered + matched
        risk = _risk(a, after, day, result.rule.horizon_days)
        pct = (Decimal(after * 100) / a.estimated).quantize(Decimal("0.1")) if a.estimated else None
        by_line.append(
            [a.agreement_no, a.line_no, a.tender, a.supplier, a.material, a.site, a.unit_price,
             a.estimated, a.ordered, matched, after, pct, a.band_low_pct, a.band_high_pct,
             a.valid_to, a.lead_days, out.spend.get(a.key, Decimal(0)), risk]
        )  # fmt: skip
        s = suppliers.setdefault(a.supplier, [a.supplier, 0, 0, 0, Decimal(0), 0])
        s[1] += 1
        s[2] += int(serves(a, day))
        s[3] += matched
        s[4] += out.spend.get(a.key, Decimal(0))
        s[5] += int(bool(risk))
    return by_line, sorted(suppliers.values())


def summary_workbook(result: ProvinceMatch, out: Outcome) -> bytes:
    """The province's summary: by agreement line, by supplier, by city, and the problem lines."""
    by_line, suppliers = agreement_rows(result, out)
    cities = [
        [city, f.lines, f.quantity, f.matched, f.on_time, f.late, f.unmet_lines,
         f.unmet_quantity, f.amount]
        for city, f in sorted(out.cities.items())
    ]  # fmt: skip
    return write_xlsx(
        [
            Sheet(
                "按协议行",
                [
                    Column("协议编号"), Column("行号", "int"), Column("招标批次"),
                    Column("供应商"), Column("物料编码"), Column("交货地点"),
                    Column("协议单价(元)", "price"), Column("预估数量", "int"),
                    Column("已下单(匹配前)", "int"), Column("本周匹配", "int", total=True),
                    Column("匹配后已下单", "int"), Column("执行率(%)", "number"),
                    Column("执行下限(%)", "int"), Column("执行上限(%)", "int"),
                    Column("有效期止", "date"), Column("供货周期(天)", "int"),
                    Column("本周金额(元)", "money", total=True), Column("风险"),
                ],
                by_line,
                totals=True,
            ),
            Sheet(
                "按供应商",
                [
                    Column("供应商"), Column("协议行数", "int", total=True),
                    Column("可下单行数", "int", total=True),
                    Column("本周匹配数量", "int", total=True),
                    Column("本周金额(元)", "money", total=True),
                    Column("有风险的协议行", "int", total=True),
                ],
                suppliers,
                totals=True,
            ),
            Sheet(
                "按地市",
                [
                    Column("地市"), Column("需求行数", "int", total=True),
                    Column("需求数量", "int", total=True), Column("已匹配数量", "int", total=True),
                    Column("按时行数", "int", total=True), Column("延迟行数", "int", total=True),
                    Column("未满足行数", "int", total=True),
                    Column("未满足数量", "int", total=True),
                    Column("金额(元)", "money", total=True),
                ],
                cities,
                totals=True,
            ),
            # The lines not matched in full, with the engine's reasons; each city's late lines
            # are in its own result (未满足与延迟), their counts in 按地市.
            Sheet("未满足", _PROBLEM_COLUMNS, [r for r in out.problems if r[12]], totals=True),
        ]
    )  # fmt: skip


def _in_processes(
    make: Callable[..., bytes], arguments: list[tuple[Any, ...]], workers: int
) -> list[bytes]:
    """`make(*a)` for each of `arguments`, by `workers` processes when more than one."""
    if workers <= 1 or len(arguments) <= 1:
        return [make(*a) for a in arguments]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(make, *zip(*arguments, strict=True)))


def write_outputs(result: ProvinceMatch, directory: Path, *, workers: int = 1) -> dict[str, Path]:
    """Write every output of a matching into `directory` (the cities' results by `workers`
    processes); return them by name."""
    directory.mkdir(parents=True, exist_ok=True)
    out = outcome(result)
    batch = result.inputs.batch_id
    files: dict[str, bytes | str] = {
        f"{batch}_{SUMMARY}.xlsx": summary_workbook(result, out),
        "instance.json": instance_to_json(result.instance),
        "plan.json": plan_to_json(result.plan),
        "summary.json": json.dumps(
            summary_figures(result, out), ensure_ascii=False, indent=1, default=str
        ),
    }
    cities = [plan.city for plan in result.inputs.cities]
    mine: dict[str, list[list[Any]]] = defaultdict(list)
    for row in out.problems:
        mine[row[0]].append(row)
    books = _in_processes(
        city_workbook, [(c, out.rows.get(c, []), mine[c]) for c in cities], workers
    )
    for city, book in zip(cities, books, strict=True):
        files[f"{batch}_{city}_{CITY_RESULT}.xlsx"] = book
    paths = {}
    for name, content in files.items():
        path = directory / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        paths[name] = path
    return paths


CITY_SUMS = ("lines", "quantity", "matched", "on_time", "late", "unmet_lines", "unmet_quantity")


def city_totals(cities: list[dict[str, Any]]) -> dict[str, Any]:
    """The province's totals of the cities' figures (the amount to the fen, as text)."""
    totals: dict[str, Any] = {k: sum(c[k] for c in cities) for k in CITY_SUMS}
    totals["amount"] = str(sum((Decimal(c["amount"]) for c in cities), Decimal(0)))
    return totals


MAX_RISKS_SHOWN = 200  # at-risk agreement lines kept in summary.json (all are in the workbook)


def summary_figures(result: ProvinceMatch, out: Outcome) -> dict[str, Any]:
    """The matching in figures (the API and the page answer with them; summary.json keeps them):
    the objective, by city, by supplier, and the agreement lines at risk."""
    by_line, suppliers = agreement_rows(result, out)
    risks = [row for row in by_line if row[-1]]
    objective = result.plan.objective
    cities = [
        {
            "city": city,
            "lines": f.lines,
            "quantity": f.quantity,
            "matched": f.matched,
            "on_time": f.on_time,
            "late": f.late,
            "unmet_lines": f.unmet_lines,
            "unmet_quantity": f.unmet_quantity,
            "amount": str(f.amount),
        }
        for city, f in sorted(out.cities.items())
    ]
    return {
        "batch": result.inputs.batch_id,
        "match_day": result.inputs.match_day.isoformat(),
        "status": result.plan.status,
        "objective": {
            "unmet_weighted": objective.unmet_weighted,
            "lateness_weighted": objective.lateness_weighted,
            "cost": objective.cost,
        },
        "agreement_lines": len(result.inputs.agreements),
        "agreement_lines_serving": len(result.instance.sources),
        "cities": cities,
        "totals": city_totals(cities),
        "at_risk": len(risks),
        "suppliers": [
            {
                "supplier": name,
                "lines": lines,
                "serving": serving,
                "matched": matched,
                "amount": str(amount),
                "at_risk": at_risk,
            }
            for name, lines, serving, matched, amount, at_risk in suppliers
        ],
        "risks": [
            {
                "agreement_no": r[0],
                "line_no": r[1],
                "supplier": r[3],
                "material": r[4],
                "site": r[5],
                "estimated": r[7],
                "ordered_after": r[10],
                "execution_pct": None if r[11] is None else str(r[11]),
                "band_low_pct": r[12],
                "band_high_pct": r[13],
                "valid_to": r[14].isoformat(),
                "risk": r[17],
            }
            for r in risks[:MAX_RISKS_SHOWN]
        ],
    }
