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

The parts: `tables.py` (the cities, suppliers and materials, the transport days), `plans.py`
(Weihai's plan read back, the other cities' drawn from it), `catalog.py` (the provincial
catalog). Nothing at run time depends on them.
"""

from __future__ import annotations

import io
import os
import random
import re
import tempfile
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from catalogs.export import write_catalog
from catalogs.models import CatalogKind
from supply.calendar import WorkCalendar, default_calendar
from supply.core.clock import SHANGHAI
from supply.core.errors import ConflictingInput, InvalidInput
from supply.policy import batch_for
from supply.province.sample.catalog import provincial_catalog
from supply.province.sample.plans import (
    DEMO_BATCH,
    WEIHAI_PLAN,
    city_rows,
    refer,
    templates,
    weihai_rows,
)
from supply.province.sample.tables import (
    WEIHAI,
    City,
    Material,
    Supplier,
    cities,
    materials,
    suppliers,
    transport_days,
    transport_workbook,
)
from supply.sample.week import SAMPLE_DAY
from supply.weekly.export import agreement_requirements

__all__ = [
    "DEMO_BATCH", "SEED", "WEIHAI", "WEIHAI_PLAN", "City", "Material", "ProvinceSample",
    "Supplier", "cities", "materials", "suppliers", "transport_days", "weihai_rows",
    "write_province_sample",
]  # fmt: skip

SEED = 20261202
PARALLEL_LINES = 20_000  # from this many plan lines in all, a pool of processes writes the files


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
    drawn = templates(weihai)
    year = (SAMPLE_DAY + shift).year
    rows: dict[str, list[dict[str, Any]]] = {}
    for city in cities():
        rng = random.Random(f"{seed}:{city.code}")
        if city.name == WEIHAI:  # the demo's plan, and more drawn from it to reach the size
            taken = {(r["replenish_warehouse_id"], r["material"]) for r in weihai}
            more = max(0, (lines_per_city or 0) - len(weihai))
            rows[city.name] = weihai + city_rows(city, more, year, drawn, rng, calendar, taken)
        else:
            count = (
                lines_per_city if lines_per_city is not None else round(len(weihai) * city.factor)
            )
            rows[city.name] = city_rows(city, count, year, drawn, rng, calendar, set())
    demand: Counter[str] = Counter()
    for plan in rows.values():
        for row in plan:
            demand[row["material"]] += row["quantity"]
    catalog = provincial_catalog(
        demand, random.Random(f"{seed}:catalog"), matching_day, agreement_lines
    )
    refer(rows, catalog, matching_day, random.Random(f"{seed}:refer"))
    sites = sorted({line["delivery_warehouse_id"] for line in catalog})
    paths = {c.name: directory / f"{batch_id}_{c.name}_协议库存需求计划.xlsx" for c in cities()}
    sample = ProvinceSample(
        batch_id=batch_id,
        matching_day=matching_day,
        agreements=directory / f"{batch_id}_省级协议库存.xlsx",
        transport=directory / f"{batch_id}_省内运输天数.xlsx",
        cities=paths,
        lines={name: len(plan) for name, plan in rows.items()},
        agreement_lines=len(catalog),
        sites=len(sites),
    )
    directory.mkdir(parents=True, exist_ok=True)
    sample.agreements.write_bytes(write_catalog(CatalogKind.AGREEMENTS, catalog, "xlsx"))
    sample.transport.write_bytes(transport_workbook(sites))
    jobs = [(paths[name], plan, batch_id, name) for name, plan in rows.items()]
    if workers is None:
        workers = (os.cpu_count() or 1) if sum(sample.lines.values()) >= PARALLEL_LINES else 1
    if workers < 2:
        for job in jobs:
            _write_plan(*job)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            list(pool.map(_write_plan, *zip(*jobs, strict=True)))
    return sample


def sample_zip(batch_id: str = DEMO_BATCH) -> bytes:
    """The sample province for `batch_id`, its files in one zip (the page offers it to try the
    matching; written in this process, about a second)."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="province-sample-") as folder:
        sample = write_province_sample(Path(folder), batch_id=batch_id, workers=1)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in [sample.agreements, sample.transport, *sample.cities.values()]:
                archive.write(path, path.name)
    return buffer.getvalue()


def _write_plan(path: Path, rows: list[dict[str, Any]], batch_id: str, city: str) -> None:
    path.write_bytes(agreement_requirements(rows, batch_id, city))


def _batch(batch_id: str, calendar: WorkCalendar) -> tuple[date, timedelta]:
    """The province's matching day of a batch, and how far its Monday is from the demo's."""
    found = re.fullmatch(r"(\d{4})-W(\d{2})", batch_id)
    try:
        if found is None:
            raise ValueError(batch_id)
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise InvalidInput(
            f"批次 {batch_id} 应写作 {DEMO_BATCH} / batch {batch_id!r} is not an ISO week such "
            f"as {DEMO_BATCH}",
            loc=("batch",),
        ) from None
    batch = batch_for(datetime.combine(monday, time(0), tzinfo=SHANGHAI), calendar=calendar)
    if batch.id != batch_id:
        raise ConflictingInput(
            f"没有批次 {batch_id}（长假合并为 {batch.id}） / batch {batch_id} has no cutoff of its "
            f"own (it is {batch.id}'s)",
            loc=("batch",),
        )
    return batch.province_match, batch.named_for - SAMPLE_DAY
