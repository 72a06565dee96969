"""The provincial agreement catalog: the Weihai demo's lines with the demo's numbers, delivered
from their suppliers' sites, and further lines of the province's other tenders and suppliers
for every material demanded, in every state on the matching day.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from catalogs.models import CatalogKind
from supply.core.units import MAX_QUANTITY, lookup_unit
from supply.province.sample.tables import materials, suppliers
from supply.sample.catalogs import sample_rows
from supply.sample.week import SAMPLE_DAY

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
class _Tender:
    code: str
    name: str
    state: str
    valid_from: date
    valid_to: date


def provincial_catalog(
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
