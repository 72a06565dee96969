"""The province sample's tables: the 16 city companies, the suppliers and their delivery sites
(`data/cities.csv`, `data/suppliers.csv`), the sample material master, and the transport days
from every site to every city (by distance). Estimates: `data/README.md` says where from.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files

from supply.core.sheets import Column, Sheet, write_xlsx
from supply.core.units import lookup_unit
from supply.sample.catalogs import SUPPLIERS

WEIHAI = "威海"


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
