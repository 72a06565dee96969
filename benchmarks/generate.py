"""A seeded generator of realistic matching instances (contract version 1), for benchmarks.

Shapes follow docs/ and the Weihai sample: most lines are small low-voltage jobs needing a few
pieces or a few hundred metres within one to three weeks, a few are 35/110 kV; each material
has reserve at one to three warehouses (some below quota), maybe consignment, one or two
agreement lines delivered to the central warehouse, and usually emergency procurement.

With `floors`, about a third of the agreement lines are short of the lower end of their execution
band (80 % of the estimate): a floor of up to 60 % of what is left on the line, at a penalty of 1
to 8 % of its price per unit (more as its validity nears its end). Floors are drawn from a random
stream of their own: with or without them, everything else is the same instance.

`national` is 27 provinces' week in one instance (about 1.4 M lines): materials are national
catalog codes, so a province-sized catalog grows less than the lines do; 20 warehouses a province
keep the transport table (every pair) at 290 k rows.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

SIZES: dict[str, dict[str, int]] = {
    "small": {"lines": 200, "materials": 40, "warehouses": 6},
    "city": {"lines": 5_000, "materials": 500, "warehouses": 20},
    "province": {"lines": 50_000, "materials": 3_000, "warehouses": 100},
    "national": {"lines": 1_400_000, "materials": 30_000, "warehouses": 540},
}
PLAN_DATE = date(2026, 11, 30)


def generate(
    lines: int, materials: int, warehouses: int, seed: int = 7, *, floors: bool = True
) -> dict[str, Any]:
    """Build one instance of the given size; the same arguments always give the same instance."""
    rng = random.Random(seed)
    floor_rng = random.Random(f"floors {seed}")
    sites = [f"L{i:03d}" for i in range(warehouses)]
    central = sites[0]
    day = lambda n: (PLAN_DATE + timedelta(days=n)).isoformat()  # noqa: E731

    catalog = []
    for k in range(materials):
        metres = rng.random() < 0.25  # cable and conductor are counted in metres
        price = round(rng.uniform(20, 400), 2) if metres else round(rng.uniform(80, 300_000), 2)
        catalog.append({"code": f"M{k:05d}", "metres": metres, "price": price})
    popularity = [rng.paretovariate(1.2) for _ in catalog]

    demands = []
    per_material_qty = [0] * materials
    chosen = rng.choices(range(materials), weights=popularity, k=lines)
    for i, k in enumerate(chosen):
        mat = catalog[k]
        qty = rng.randint(30, 3000) if mat["metres"] else rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 10])
        per_material_qty[k] += qty
        hv = rng.random() < 0.02
        demands.append(
            {
                "id": f"D{i}",
                "project": f"P{i // 7}",
                "material": mat["code"],
                "quantity": qty,
                "need_by": day(rng.choice([3, 4, 5, 6, 8, 10, 13, 15, 20, 27, 40])),
                "voltage_class": rng.choice(["35kV", "110kV"])
                if hv
                else rng.choice(["0.4kV", "10kV"]),
                "location": rng.choice(sites),
                "weight": rng.choices([1, 2, 3], weights=[80, 15, 5])[0],
                "package": f"PK{rng.randint(1, 16):02d}",
            }
        )

    sources = []
    for k, mat in enumerate(catalog):
        total = max(per_material_qty[k], 1)
        code, price = mat["code"], mat["price"]
        for w in rng.sample(sites, rng.randint(1, min(3, len(sites)))):
            quota = max(1, round(total * rng.uniform(0.05, 0.2)))
            sources.append(
                {
                    "id": f"R-{w}-{code}",
                    "kind": "reserve",
                    "material": code,
                    "quantity": round(quota * rng.uniform(0.3, 2.5)),
                    "location": w,
                    "ready": day(0),
                    "unit_cost": price,
                    "quota": quota,
                }
            )
        if rng.random() < 0.3:
            w = rng.choice(sites)
            sources.append(
                {
                    "id": f"C-{w}-{code}",
                    "kind": "consignment",
                    "material": code,
                    "quantity": round(total * rng.uniform(0.05, 0.3)) + 1,
                    "location": w,
                    "ready": day(1),
                    "unit_cost": round(price * rng.uniform(0.97, 1.05), 2),
                }
            )
        for a in range(rng.choice([1, 1, 2])):
            line = {
                "id": f"A-{code}-{a}",
                "kind": "agreement",
                "material": code,
                "quantity": round(total * rng.uniform(0.3, 0.9)) + 1,
                "location": central,
                "ready": day(rng.choice([9, 12, 16, 23, 30])),
                "unit_cost": round(price * rng.uniform(0.9, 0.98), 2),
            }
            if floors and floor_rng.random() < 0.35:
                line["floor"] = round(line["quantity"] * floor_rng.uniform(0.05, 0.6))
                line["floor_penalty"] = round(price * floor_rng.uniform(0.01, 0.08), 2)
            sources.append(line)
        if rng.random() < 0.9:
            sources.append(
                {
                    "id": f"E-{code}",
                    "kind": "emergency",
                    "material": code,
                    "quantity": None,
                    "location": central,
                    "ready": day(rng.choice([14, 21, 28, 35])),
                    "unit_cost": round(price * 1.3, 2),
                }
            )

    transport = [
        {"from": a, "to": b, "days": 1 + (abs(i - j) % 3 == 2)}
        for i, a in enumerate(sites)
        for j, b in enumerate(sites)
        if a != b
    ]
    return {
        "version": 1,
        "plan_date": PLAN_DATE.isoformat(),
        "demands": demands,
        "sources": sources,
        "transport": transport,
        "policy": {"reserve_below_quota_penalty": 50},
    }
