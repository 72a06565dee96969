"""A seeded, realistic sample of the Weihai supply catalogs (estimates for a demo, marked so).

Built from the 60 material families in `materials.csv` and the warehouses and transport days in
`weihai.md` (both beside this file): a reserve quota catalog with stock partly below quota,
framework agreements from two provincial tenders with several suppliers per material, and vendor
consignment at the central and county warehouses. The same seed and day give the same files.

`sample_rows(today=…)` returns the rows of each file; `sample_files` writes them as .xlsx or CSV in
the import format; `load_sample` imports them through the ordinary import path and confirms the
quota catalog, leaving a second, draft version pending.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any

from sqlmodel import Session

from catalogs.export import FileFormat, write_catalog
from catalogs.importing import import_catalog
from catalogs.models import CatalogKind, ImportReport, QuotaCatalogPublic
from catalogs.reserve import confirm_quota_catalog, find_quota_catalog

SEED = 20260301
DEMO_USER = "gridsupply demo"
CONFIRMED_BY = "营销部 王敏（会同发展部、运检部、物资部、项目管理中心）"

WAREHOUSES: tuple[tuple[str, str, str, str], ...] = (
    ("WH-CENTRAL", "威海供电公司物资中心库", "central", "lingang"),
    ("WH-WD", "文登周转库", "county", "wendeng"),
    ("WH-RC", "荣成周转库", "county", "rongcheng"),
    ("WH-RS", "乳山周转库", "county", "rushan"),
    ("WH-SD", "石岛仓储点", "storage_point", "shidao"),
    ("WH-NH", "南海新区仓储点", "storage_point", "nanhai"),
)
LOCATIONS = (
    "huancui",
    "gaoqu",
    "jingqu",
    "lingang",
    "wendeng",
    "nanhai",
    "rongcheng",
    "shidao",
    "rushan",
)
# weihai.md: whole days including loading, from each warehouse location to every location.
TRANSPORT_DAYS: dict[str, tuple[int, ...]] = {
    "lingang": (1, 1, 1, 0, 1, 1, 1, 2, 1),
    "wendeng": (1, 1, 1, 1, 0, 1, 1, 1, 1),
    "rongcheng": (1, 1, 1, 1, 1, 1, 0, 1, 2),
    "rushan": (2, 2, 2, 1, 1, 1, 2, 2, 0),
    "shidao": (1, 2, 1, 2, 1, 1, 1, 0, 2),
    "nanhai": (1, 1, 1, 1, 1, 0, 1, 1, 1),
}
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("DT-", "配电变压器"),
    ("BX-", "箱式变电站"),
    ("RMU-", "环网箱"),
    ("CBB", "电缆分支箱"),
    ("PSW-", "柱上开关"),
    ("DISC-", "隔离开关"),
    ("FUSE-", "熔断器"),
    ("ARR-", "避雷器"),
    ("ACC", "电缆附件"),
    ("CB", "电力电缆"),
    ("OHL", "架空导线"),
    ("POLE-", "杆塔"),
    ("STEELPOLE", "杆塔"),
    ("TOWER", "杆塔"),
    ("XARM", "金具"),
    ("FIT-", "金具"),
    ("INS-", "绝缘子"),
    ("EARTH", "接地材料"),
    ("CONDUIT", "电缆保护管"),
    ("JP-", "配电箱柜"),
    ("LVSG", "开关柜"),
    ("HVSG", "开关柜"),
    ("SG35", "开关柜"),
    ("MTR-", "电能表"),
    ("MBOX", "计量箱"),
    ("HVMU", "计量箱"),
    ("CT-", "互感器"),
    ("VT-", "互感器"),
    ("PT", "主变压器"),
    ("GIS", "组合电器"),
)
HEAVY_PREFIXES = ("BX-", "PT35", "PT110", "GIS110")
# Quota at the central store, in the material's unit in materials.csv (千米 for conductor).
CENTRAL_QUOTA: dict[str, int] = {
    "DT-OIL-S13-200": 6,
    "DT-OIL-S13-400": 8,
    "DT-OIL-S13-630": 4,
    "CBB04-1I4O": 12,
    "PSW-VCB-630": 6,
    "DISC-GW9-630": 20,
    "FUSE-HRW12-200": 60,
    "ARR-HY5WS-17": 90,
    "ACC10-TERM-300": 20,
    "ACC10-JOINT-300": 15,
    "CBLV-4x50": 3000,
    "CBLV-4x150": 2000,
    "OHL10-JKLYJ-70": 6,
    "OHL1-JKLYJ-120": 8,
    "POLE-190-12": 60,
    "POLE-190-15": 30,
    "JP-400": 8,
    "MTR-1P-SMART": 2000,
    "MTR-3P-DIRECT": 400,
    "MTR-3P-CT": 200,
    "MBOX-1P-4": 200,
    "MBOX-3P-CT": 60,
    "CT-LV-400-5": 300,
}
LEVEL_SHARE = {"central": 1.0, "county": 0.35, "storage_point": 0.12}
# Storage points hold only small, fast-moving low-voltage work: meters, boxes, cable, poles, fuses.
STORAGE_POINT_PREFIXES = ("MTR-", "MBOX", "CBLV", "CBB04", "POLE-", "FUSE-", "CT-LV", "OHL1-")
SUPPLIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("烟台东源变压器有限公司", ("DT-", "BX-", "PT")),
    (
        "青岛海能电气设备有限公司",
        ("DT-", "BX-", "PT", "RMU-", "CBB", "JP-", "LVSG", "HVSG", "SG35", "GIS"),
    ),
    ("济南鲁开开关有限公司", ("RMU-", "CBB", "PSW-", "DISC-", "HVSG", "SG35", "GIS", "JP-")),
    ("淄博华正电缆有限公司", ("CB10", "CBLV", "CB35", "CB110", "OHL", "ACC", "CONDUIT")),
    ("青岛汉缆电力器材有限公司", ("CB10", "CBLV", "CB35", "CB110", "OHL", "ACC")),
    ("烟台金桥电力器材有限公司", ("FUSE-", "ARR-", "INS-", "FIT-", "XARM", "EARTH", "DISC-")),
    ("济南泉城水泥制品有限公司", ("POLE-", "STEELPOLE", "TOWER")),
    ("淄博齐鲁铁塔有限公司", ("TOWER", "STEELPOLE", "XARM", "FIT-")),
    ("青岛鼎信计量科技有限公司", ("MTR-", "MBOX", "HVMU", "CT-", "VT-")),
    ("济南三和互感器有限公司", ("CT-", "VT-", "HVMU", "MBOX")),
    ("烟台中宇电气有限公司", ("DT-", "PSW-", "RMU-", "JP-", "CBB", "LVSG")),
    ("淄博博宏管业有限公司", ("CONDUIT", "EARTH")),
)


@dataclass(frozen=True, slots=True)
class _Material:
    code: str
    name_zh: str
    name_en: str
    unit: str
    voltage_class: str
    price: Decimal
    lead_days: int
    modes: frozenset[str]


@dataclass(slots=True)
class SampleRows:
    """The rows of each sample file, by kind; `quota_revision` is a pending change to the quotas."""

    rows: dict[CatalogKind, list[dict[str, Any]]] = field(default_factory=dict)
    quota_revision: list[dict[str, Any]] = field(default_factory=list)


def _materials() -> list[_Material]:
    text = files("supply.sample").joinpath("materials.csv").read_text(encoding="utf-8")
    return [
        _Material(
            code=row["code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            unit=row["unit"],
            voltage_class=row["voltage_class"],
            price=Decimal(row["typical_unit_price_cny"]),
            lead_days=int(row["supplier_lead_time_days"]),
            modes=frozenset(row["typical_mode"].split("|")),
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


def _category(code: str) -> str:
    return next((name for prefix, name in CATEGORIES if code.startswith(prefix)), "其他")


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def sample_rows(*, today: date, seed: int = SEED) -> SampleRows:
    """Build the sample catalogs for `today` (agreement validity and the quota year follow it)."""
    rng = random.Random(seed)
    materials = _materials()
    sample = SampleRows()
    sample.rows[CatalogKind.MATERIALS] = [
        {
            "code": m.code,
            "name_zh": m.name_zh,
            "name_en": m.name_en,
            "unit": m.unit,
            "voltage_class": m.voltage_class,
            "category": _category(m.code),
            "standard_price": m.price,
            "reserve_catalog": "reserve" in m.modes,
            "heavy": m.code.startswith(HEAVY_PREFIXES),
            "typical_lead_days": m.lead_days,
            "emergency_lead_days": m.lead_days + rng.randint(7, 15),
            "emergency_premium_pct": rng.choice((20, 25, 30, 35, 40)),
        }
        for m in materials
    ]
    sample.rows[CatalogKind.WAREHOUSES] = [
        {"id": wid, "name": name, "level": level, "location": location}
        for wid, name, level, location in WAREHOUSES
    ]
    sample.rows[CatalogKind.TRANSPORT] = [
        {"from_location": origin, "to_location": to, "days": days}
        for origin, row in TRANSPORT_DAYS.items()
        for to, days in zip(LOCATIONS, row, strict=True)
        if to != origin
    ]
    _reserve(sample, materials, rng, today)
    _agreements(sample, materials, rng, today)
    _consignment(sample, materials, rng)
    return sample


def _reserve(
    sample: SampleRows, materials: list[_Material], rng: random.Random, today: date
) -> None:
    quotas: list[dict[str, Any]] = []
    stock: list[dict[str, Any]] = []
    for m in materials:
        if m.code not in CENTRAL_QUOTA:
            continue
        for wid, _name, level, _location in WAREHOUSES:
            if level == "storage_point" and not m.code.startswith(STORAGE_POINT_PREFIXES):
                continue
            quota = max(1, round(CENTRAL_QUOTA[m.code] * LEVEL_SHARE[level]))
            quotas.append(
                {
                    "year": today.year,
                    "warehouse_id": wid,
                    "material_code": m.code,
                    "material_name": m.name_zh,
                    "unit": m.unit,
                    "quantity": quota,
                }
            )
            # About a third of the lines are below quota: drawn down by urgent work since the
            # last batch.
            factor = rng.uniform(0.0, 0.9) if rng.random() < 0.33 else rng.uniform(1.0, 1.4)
            stock.append(
                {
                    "warehouse_id": wid,
                    "material_code": m.code,
                    "material_name": m.name_zh,
                    "unit": m.unit,
                    "quantity": int(quota * factor),
                }
            )
    sample.rows[CatalogKind.QUOTAS] = quotas
    sample.rows[CatalogKind.RESERVE] = stock
    # A mid-year revision, drafted but not yet confirmed: more for the busiest county stores.
    revised = [q for q in quotas if q["warehouse_id"] in ("WH-WD", "WH-RC")]
    sample.quota_revision = [
        q | {"quantity": int(q["quantity"]) + max(1, int(q["quantity"]) // 4)}
        for q in rng.sample(revised, k=min(6, len(revised)))
    ]


def _suppliers_for(code: str) -> list[str]:
    return [name for name, prefixes in SUPPLIERS if code.startswith(prefixes)]


def _agreements(
    sample: SampleRows, materials: list[_Material], rng: random.Random, today: date
) -> None:
    older_start = today - timedelta(days=330)
    newer_start = today - timedelta(days=45)
    tenders = (
        # The older tender ends within weeks: several of its lines are used up or nearly so.
        (
            f"国网山东省电力公司{older_start.year}年第二次配网物资协议库存招标",
            "SDXY-A",
            older_start,
            today + timedelta(days=20),
            (0.7, 1.25),
        ),
        (
            f"国网山东省电力公司{newer_start.year}年第一次配网物资协议库存招标",
            "SDXY-B",
            newer_start,
            newer_start + timedelta(days=365),
            (0.05, 0.6),
        ),
    )
    lines: list[dict[str, Any]] = []
    for tender, prefix, start, end, (low, high) in tenders:
        line_numbers: dict[str, int] = {}
        for m in materials:
            if "agreement" not in m.modes and "batch" not in m.modes:
                continue
            candidates = _suppliers_for(m.code)
            chosen = rng.sample(candidates, k=min(len(candidates), rng.randint(2, 3)))
            budget = 4_000_000 if m.voltage_class in ("35kV", "110kV") else 1_200_000
            for supplier in chosen:
                number = (
                    f"{prefix}-{start.year}-{[s for s, _ in SUPPLIERS].index(supplier) + 1:03d}"
                )
                line_numbers[number] = line_numbers.get(number, 0) + 1
                estimate = max(
                    2, round(budget * rng.uniform(0.5, 1.5) / len(chosen) / float(m.price))
                )
                delivery = "" if rng.random() < 0.8 else rng.choice(("WH-WD", "WH-RC", "WH-RS"))
                lines.append(
                    {
                        "agreement_no": number,
                        "line_no": line_numbers[number],
                        "tender": tender,
                        "supplier": supplier,
                        "material_code": m.code,
                        "material_name": m.name_zh,
                        "unit": m.unit,
                        "unit_price": _money(float(m.price) * rng.uniform(0.88, 1.03)),
                        "estimated_quantity": estimate,
                        "band_low_pct": 80,
                        "band_high_pct": 120,
                        "ordered_quantity": int(estimate * rng.uniform(low, high)),
                        "valid_from": start,
                        "valid_to": end,
                        "lead_days": max(3, m.lead_days + rng.randint(-3, 5)),
                        "delivery_warehouse_id": delivery or None,
                    }
                )
    sample.rows[CatalogKind.AGREEMENTS] = lines


def _consignment(sample: SampleRows, materials: list[_Material], rng: random.Random) -> None:
    rows = []
    for m in materials:
        if "consignment" not in m.modes:
            continue
        suppliers = _suppliers_for(m.code)
        for supplier in rng.sample(suppliers, k=min(len(suppliers), rng.randint(1, 2))):
            sites = ["WH-CENTRAL", *rng.sample(["WH-WD", "WH-RC", "WH-RS"], k=rng.randint(1, 2))]
            for wid in sites:
                value = rng.uniform(30_000, 120_000) * (2 if wid == "WH-CENTRAL" else 1)
                rows.append(
                    {
                        "supplier": supplier,
                        "warehouse_id": wid,
                        "material_code": m.code,
                        "material_name": m.name_zh,
                        "unit": m.unit,
                        "quantity": max(1, round(value / float(m.price))),
                        "issue_price": _money(float(m.price) * rng.uniform(0.97, 1.08)),
                    }
                )
    sample.rows[CatalogKind.CONSIGNMENT] = rows


LOAD_ORDER = (
    CatalogKind.MATERIALS,
    CatalogKind.WAREHOUSES,
    CatalogKind.TRANSPORT,
    CatalogKind.RESERVE,
    CatalogKind.QUOTAS,
    CatalogKind.AGREEMENTS,
    CatalogKind.CONSIGNMENT,
)


def sample_files(*, today: date, fmt: FileFormat = "xlsx", seed: int = SEED) -> dict[str, bytes]:
    """Write the sample as import files by name: materials.xlsx, …, quotas-revision.xlsx."""
    sample = sample_rows(today=today, seed=seed)
    written = {
        f"{kind.value}.{fmt}": write_catalog(kind, sample.rows[kind], fmt) for kind in LOAD_ORDER
    }
    written[f"quotas-revision.{fmt}"] = write_catalog(
        CatalogKind.QUOTAS, sample.quota_revision, fmt
    )
    return written


@dataclass(frozen=True, slots=True)
class LoadedSample:
    """What loading the sample did: one report per import, and the quota catalogs it left."""

    reports: list[ImportReport]
    confirmed: QuotaCatalogPublic
    draft_version: int


def load_sample(
    *, session: Session, now: datetime, today: date, imported_by: str = DEMO_USER, seed: int = SEED
) -> LoadedSample:
    """Import the sample files through the ordinary import path and confirm the quota catalog."""
    files_by_name = sample_files(today=today, fmt="xlsx", seed=seed)
    reports = []
    confirmed: QuotaCatalogPublic | None = None
    for kind in LOAD_ORDER:
        name = f"{kind.value}.xlsx"
        reports.append(
            import_catalog(
                session=session,
                kind=kind,
                content=files_by_name[name],
                file_name=name,
                imported_by=imported_by,
                now=now,
            )
        )
        if kind is CatalogKind.QUOTAS:
            catalog = find_quota_catalog(session=session, year=today.year)
            assert catalog is not None and catalog.id is not None
            confirmed = confirm_quota_catalog(
                session=session,
                catalog_id=catalog.id,
                confirmed_by=CONFIRMED_BY,
                now=now + timedelta(minutes=1),
            )
    reports.append(
        import_catalog(
            session=session,
            kind=CatalogKind.QUOTAS,
            content=files_by_name["quotas-revision.xlsx"],
            file_name="quotas-revision.xlsx",
            imported_by=imported_by,
            now=now + timedelta(minutes=2),
        )
    )
    draft = find_quota_catalog(session=session, year=today.year)
    assert confirmed is not None and draft is not None
    return LoadedSample(reports=reports, confirmed=confirmed, draft_version=draft.version)
