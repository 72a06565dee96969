"""A seeded week of Weihai customer-connection projects: the demo's batch 2026-W49 (estimates).

The batch cuts off at 12:00 on Monday 2026-11-30 (Asia/Shanghai). Its demand was submitted from
the previous cutoff (Monday 2026-11-23 12:00) on: 72 projects of every type in the proportions of
`supply/sample/weihai.md` — mostly 5-working-day meter-front and LV branch work, fewer
transformer areas, some 10 kV projects, three at 35/110 kV with customer completion dates — at the
Weihai locations, with the typical material lists of their type. Some are urgent (approved
2026-11-24..27), some are city or provincial key projects, a few lines are special materials
outside every catalog (listed at the feasibility stage), and three lines come in at or after the
cutoff, to wait for next week. Every derived deadline and need-by falls in 2026 (the loaded
calendar ends there). Names, customers and budgets are fictional.

`sample_week()` is pure and deterministic; `load_sample_week` loads it through the services, each
line submitted at its own moment; `sample_workbook` writes it in the import format.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from catalogs.export import write_catalog, write_workbook
from catalogs.importing import import_catalog
from catalogs.models import CatalogKind, Material
from supply.calendar import WorkCalendar
from supply.core.clock import SHANGHAI
from supply.demand.models import DemandLineCreate
from supply.demand.service import add_lines
from supply.packages.models import PackageCreate
from supply.packages.service import create_package
from supply.policy import DeadlinePolicy, ProjectType
from supply.projects.files import LINES, PACKAGES, PROJECTS
from supply.projects.models import Priority, ProjectCreate
from supply.projects.service import create_project
from supply.sample.catalogs import DEMO_USER

SEED = 20261130
SAMPLE_DAY = date(2026, 11, 30)
SAMPLE_CUTOFF = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)  # batch 2026-W49
PREVIOUS_CUTOFF = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
SAMPLE_CATALOGS_AT = datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)  # the catalogs' state
SAMPLE_LOADED_AT = datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI)  # after the last submission

# weihai.md: share of connection projects per location, and the packages that pay for them.
LOCATIONS: dict[str, tuple[str, int, str]] = {
    "huancui": ("环翠区", 25, "HC"),
    "gaoqu": ("高区", 8, "GQ"),
    "jingqu": ("经区", 7, "JQ"),
    "lingang": ("临港区", 5, "LG"),
    "wendeng": ("文登区", 15, "WD"),
    "nanhai": ("南海新区", 5, "NH"),
    "rongcheng": ("荣成市", 17, "RC"),
    "shidao": ("石岛", 5, "SD"),
    "rushan": ("乳山市", 13, "RS"),
}
PLACES: dict[str, tuple[str, ...]] = {
    "huancui": ("鲸园街道", "环翠楼街道", "竹岛街道", "孙家疃街道", "羊亭镇", "张村镇"),
    "gaoqu": ("怡园街道", "田和街道", "初村镇"),
    "jingqu": ("皇冠街道", "凤林街道", "泊于镇", "桥头镇"),
    "lingang": ("草庙子镇", "汪疃镇", "苘山镇"),
    "wendeng": ("龙山街道", "天福街道", "文登营镇", "大水泊镇", "葛家镇"),
    "nanhai": ("观海路", "小观镇", "海洋产业园"),
    "rongcheng": ("崖头街道", "城西街道", "成山镇", "俚岛镇", "港湾街道"),
    "shidao": ("宁津街道", "港西镇", "东山街道"),
    "rushan": ("城区街道", "夏村镇", "海阳所镇", "白沙滩镇", "乳山口镇"),
}
FIRMS = ("华荣", "金海", "鑫达", "海源", "东升", "泰和", "恒信", "瑞丰", "盛达", "远航", "嘉禾")
TRADES = ("食品", "机械", "海洋生物", "渔具", "纺织", "新材料", "物流", "医疗器械", "水产")
SURNAMES = ("王", "李", "张", "刘", "于", "孙", "丛", "鞠", "毕", "林", "谷", "宋")
LV_WORKS = ("居民新装", "商铺用电", "充电桩", "农业灌溉", "民宿", "门市房")
ESTATES = ("海景花园", "金色家园", "福泰小区", "康乐苑", "滨海新城", "锦绣华庭")

# How many projects of each type the week holds (weihai.md: ~2,500 a year, two-thirds 5-day).
TYPE_COUNTS: dict[ProjectType, int] = {
    ProjectType.lv_extension: 44,
    ProjectType.area_capacity_increase: 8,
    ProjectType.area_new: 7,
    ProjectType.mv_10kv: 6,
    ProjectType.mv_10kv_civil: 4,
    ProjectType.hv_35kv: 2,
    ProjectType.hv_110kv: 1,
}

# Typical material lists (weihai.md), in base units: (alternative codes, chance, quantity range).
Item = tuple[tuple[str, ...], float, tuple[int, int]]
LV_ITEMS: tuple[Item, ...] = (
    (("CBLV-4x50", "CBLV-4x150", "OHL1-JKLYJ-120"), 1.0, (30, 300)),
    (("MBOX-1P-4",), 0.85, (1, 4)),
    (("MTR-1P-SMART",), 0.85, (1, 16)),
    (("CBB04-1I4O",), 0.4, (1, 1)),
    (("POLE-190-12",), 0.35, (1, 3)),
    (("EARTH-FLAT-50x5",), 0.5, (10, 40)),
    (("MTR-3P-DIRECT",), 0.25, (1, 3)),
    (("CONDUIT-MPP-200",), 0.2, (10, 60)),
)
AREA_CAPACITY_ITEMS: tuple[Item, ...] = (
    (("DT-OIL-S13-400", "DT-OIL-S13-630"), 1.0, (1, 1)),
    (("JP-400",), 1.0, (1, 1)),
    (("CBLV-4x150", "CBLV-4x240"), 1.0, (20, 100)),
    (("CT-LV-400-5",), 0.9, (3, 3)),
    (("FUSE-HRW12-200",), 1.0, (3, 3)),
    (("ARR-HY5WS-17",), 1.0, (3, 3)),
    (("ACC10-TERM-300",), 0.5, (1, 2)),
    (("MTR-3P-CT",), 0.8, (1, 1)),
    (("MBOX-3P-CT",), 0.6, (1, 1)),
    (("EARTH-FLAT-50x5",), 0.8, (20, 60)),
    (("OHL10-JKLYJ-70",), 0.4, (60, 200)),
    (("DISC-GW9-630",), 0.5, (1, 1)),
)
AREA_NEW_ITEMS: tuple[Item, ...] = (
    (("DT-OIL-S13-200", "DT-OIL-S13-400", "BX-US-400", "BX-EU-630"), 1.0, (1, 1)),
    (("JP-400",), 0.9, (1, 1)),
    (("POLE-190-12", "POLE-190-15"), 1.0, (2, 6)),
    (("OHL10-JKLYJ-70",), 0.9, (600, 3000)),
    (("FUSE-HRW12-200",), 1.0, (3, 3)),
    (("ARR-HY5WS-17",), 1.0, (3, 6)),
    (("MBOX-1P-4",), 0.9, (5, 30)),
    (("MTR-1P-SMART",), 0.9, (20, 120)),
    (("XARM-63-1500",), 0.9, (4, 12)),
    (("INS-FXBW-10-70",), 0.9, (6, 24)),
    (("FIT-GUY-GJ50",), 0.8, (2, 6)),
    (("DISC-GW9-630",), 0.7, (1, 1)),
    (("CBLV-4x150",), 0.8, (50, 200)),
    (("CBB04-1I4O",), 0.7, (1, 3)),
    (("EARTH-FLAT-50x5",), 0.9, (40, 100)),
    (("OHL1-JKLYJ-120",), 0.5, (200, 800)),
)
MV_ITEMS: tuple[Item, ...] = (
    (("CB10-3x70", "CB10-3x120", "CB10-3x240", "CB10-3x300"), 1.0, (300, 3000)),
    (("RMU-2I2O", "RMU-2I4O", "CBB10-1I2O", "CBB10-1I3O"), 1.0, (1, 2)),
    (("PSW-VCB-630", "PSW-VCB-FTU"), 0.7, (1, 2)),
    (("ACC10-TERM-300",), 1.0, (2, 6)),
    (("ACC10-JOINT-300",), 0.7, (1, 4)),
    (("CONDUIT-MPP-200",), 0.8, (100, 800)),
    (("POLE-190-15",), 0.5, (2, 6)),
    (("HVMU-10-JLS",), 0.8, (1, 1)),
    (("DT-DRY-SCB13-630", "DT-DRY-SCB13-1000", "DT-DRY-SCB13-1250"), 0.8, (1, 2)),
    (("HVSG-KYN28",), 0.6, (2, 6)),
    (("LVSG-GCS",), 0.6, (2, 6)),
    (("ARR-HY5WS-17",), 0.8, (3, 6)),
    (("EARTH-FLAT-50x5",), 0.9, (60, 200)),
    (("CT-10-LZZBJ9",), 0.4, (2, 3)),
    (("VT-10-JDZ",), 0.4, (2, 3)),
)
MV_CIVIL_ITEMS: tuple[Item, ...] = (
    *MV_ITEMS,
    (("STEELPOLE-10",), 0.6, (2, 6)),
    (("CB10-3x400",), 0.5, (300, 1500)),
)
HV35_ITEMS: tuple[Item, ...] = (
    (("PT35-SZ11-10000",), 1.0, (1, 2)),
    (("SG35-KYN61",), 1.0, (5, 8)),
    (("CB35-3x300",), 0.9, (500, 2000)),
    (("OHL-JLG1A-240",), 1.0, (9000, 36000)),
    (("TOWER-ANGLE",), 1.0, (20000, 80000)),
    (("HVSG-KYN28",), 1.0, (8, 12)),
    (("CT-10-LZZBJ9",), 1.0, (6, 9)),
    (("VT-10-JDZ",), 1.0, (3, 6)),
    (("ARR-HY5WS-17",), 1.0, (6, 12)),
    (("EARTH-FLAT-50x5",), 1.0, (200, 500)),
    (("ACC10-TERM-300",), 1.0, (6, 12)),
    (("CB10-3x300",), 1.0, (300, 1200)),
    (("INS-FXBW-10-70",), 0.8, (30, 90)),
)
HV110_ITEMS: tuple[Item, ...] = (
    (("PT110-SZ11-50000",), 1.0, (1, 2)),
    (("GIS110-BAY",), 1.0, (3, 5)),
    (("CB110-1x630",), 1.0, (1800, 5400)),
    (("TOWER-ANGLE",), 1.0, (60000, 200000)),
    (("OHL-JLG1A-240",), 0.8, (15000, 45000)),
    (("SG35-KYN61",), 0.6, (6, 10)),
    (("HVSG-KYN28",), 1.0, (10, 16)),
    (("CT-10-LZZBJ9",), 1.0, (9, 12)),
    (("VT-10-JDZ",), 1.0, (3, 6)),
    (("EARTH-FLAT-50x5",), 1.0, (400, 900)),
    (("ARR-HY5WS-17",), 1.0, (9, 18)),
    (("CB10-3x300",), 1.0, (600, 2400)),
    (("ACC10-TERM-300",), 1.0, (12, 24)),
)
ITEMS: dict[ProjectType, tuple[Item, ...]] = {
    ProjectType.lv_extension: LV_ITEMS,
    ProjectType.area_capacity_increase: AREA_CAPACITY_ITEMS,
    ProjectType.area_new: AREA_NEW_ITEMS,
    ProjectType.mv_10kv: MV_ITEMS,
    ProjectType.mv_10kv_civil: MV_CIVIL_ITEMS,
    ProjectType.hv_35kv: HV35_ITEMS,
    ProjectType.hv_110kv: HV110_ITEMS,
}
# Approval window of each type: the deadline and need-by must fall in the loaded calendar (2026).
APPROVALS: dict[ProjectType, tuple[date, date]] = {
    ProjectType.lv_extension: (date(2026, 11, 24), date(2026, 11, 30)),
    ProjectType.area_capacity_increase: (date(2026, 11, 23), date(2026, 11, 27)),
    ProjectType.area_new: (date(2026, 11, 16), date(2026, 11, 26)),
    ProjectType.mv_10kv: (date(2026, 11, 12), date(2026, 11, 25)),
    ProjectType.mv_10kv_civil: (date(2026, 11, 2), date(2026, 11, 16)),
}

# Special materials some projects listed at the feasibility stage: in no catalog at all.
SPECIAL_MATERIALS: tuple[dict[str, Any], ...] = (
    {
        "code": "DT-AMOR-SBH15-400",
        "name_zh": "10kV非晶合金配电变压器 SBH15-M-400/10",
        "name_en": "Amorphous-core distribution transformer 400 kVA (SBH15-M)",
        "unit": "台",
        "voltage_class": "10kV",
        "category": "配电变压器",
        "standard_price": Decimal(52000),
        "typical_lead_days": 35,
        "emergency_lead_days": 45,
        "emergency_premium_pct": 30,
    },
    {
        "code": "CB10-FR-3x240",
        "name_zh": "10kV阻燃耐火电力电缆 ZC-NH-YJV22-8.7/15-3×240",
        "name_en": "10 kV fire-resistant flame-retardant XLPE Cu cable 3x240 mm2",
        "unit": "米",
        "voltage_class": "10kV",
        "category": "电力电缆",
        "standard_price": Decimal(590),
        "typical_lead_days": 30,
        "emergency_lead_days": 40,
        "emergency_premium_pct": 25,
    },
    {
        "code": "SVG-10-2000",
        "name_zh": "10kV静止无功发生器 SVG 2Mvar",
        "name_en": "10 kV static var generator 2 Mvar",
        "unit": "台",
        "voltage_class": "10kV",
        "category": "无功补偿",
        "standard_price": Decimal(380000),
        "typical_lead_days": 60,
        "emergency_lead_days": 75,
        "emergency_premium_pct": 35,
    },
)


@dataclass(frozen=True, slots=True)
class Submission:
    """Lines of one project submitted together at one moment."""

    project_id: str
    at: datetime
    lines: tuple[DemandLineCreate, ...]


@dataclass(slots=True)
class SampleWeek:
    """The week: packages, projects, and the submissions of their lines in time order."""

    packages: list[PackageCreate] = field(default_factory=list)
    projects: list[ProjectCreate] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadedWeek:
    """What loading the sample week created."""

    packages: int
    projects: int
    lines: int
    lines_after_cutoff: int


def _package_ids(location: str) -> list[str]:
    """Return the packages of a location: two for the busiest, one for the others."""
    _name, share, short = LOCATIONS[location]
    return [f"PK2026-{short}-01", f"PK2026-{short}-02"] if share >= 13 else [f"PK2026-{short}"]


def _packages(rng: random.Random) -> list[PackageCreate]:
    packages = []
    for location, (name, _share, _short) in LOCATIONS.items():
        ids = _package_ids(location)
        for number, package_id in enumerate(ids, start=1):
            suffix = f"(第{'一二'[number - 1]}批)" if len(ids) > 1 else ""
            packages.append(
                PackageCreate(
                    id=package_id,
                    name=f"{name}2026年业扩配套电网工程项目包{suffix}",
                    year=2026,
                    kind="业扩配套",
                    budget=Decimal(rng.randrange(300, 900) * 10_000),
                )
            )
    packages += [
        PackageCreate(
            id="PK2026-ZD",
            name="2026年市级及以上重点工程业扩配套项目包",
            year=2026,
            kind="重点工程",
            budget=Decimal(24_000_000),
        ),
        PackageCreate(
            id="PK2026-GY",
            name="2026年35-110千伏业扩配套项目包",
            year=2026,
            kind="高压业扩",
            budget=Decimal(68_000_000),
        ),
    ]
    return packages


def _round(quantity: int) -> int:
    """Round as a designer would: metres of cable to 10, large amounts to 50 or 100."""
    for step, above in ((100, 10_000), (50, 1_000), (10, 100)):
        if quantity >= above:
            return max(step, quantity // step * step)
    return quantity


def _materials(rng: random.Random, items: Sequence[Item]) -> list[tuple[str, int]]:
    chosen: list[tuple[str, int]] = []
    for codes, chance, (low, high) in items:
        if rng.random() < chance:
            code = rng.choice(codes)
            if all(code != taken for taken, _ in chosen):
                chosen.append((code, _round(rng.randint(low, high))))
    return chosen


def _lines(materials: Sequence[tuple[str, int]]) -> tuple[DemandLineCreate, ...]:
    return tuple(
        DemandLineCreate(line_no=number, material_code=code, quantity=quantity)
        for number, (code, quantity) in enumerate(materials, start=1)
    )


def _working_days(calendar: WorkCalendar, first: date, last: date) -> list[date]:
    return [d for d in calendar.working_days_after(first - timedelta(days=1), last)]


def _moment(rng: random.Random, day: date, *, latest: time = time(17, 30)) -> datetime:
    """A moment in office hours on `day`, after the previous cutoff and before `latest`."""
    earliest = time(13, 0) if day == PREVIOUS_CUTOFF.date() else time(8, 30)
    start = datetime.combine(day, earliest, tzinfo=SHANGHAI)
    end = datetime.combine(day, latest, tzinfo=SHANGHAI)
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _submitted(rng: random.Random, calendar: WorkCalendar, approved: date) -> datetime:
    """When a project's lines came in: on approval day, or in this week if approved before it."""
    first = max(approved, PREVIOUS_CUTOFF.date())
    day = rng.choice(_working_days(calendar, first, SAMPLE_DAY))
    return _moment(rng, day, latest=time(11, 50) if day == SAMPLE_DAY else time(17, 30))


def _name(rng: random.Random, kind: ProjectType, location: str) -> tuple[str, str]:
    """Return a plausible project name and customer (fictional)."""
    district = LOCATIONS[location][0]
    place = rng.choice(PLACES[location])
    firm = f"威海{rng.choice(FIRMS)}{rng.choice(TRADES)}有限公司"
    if kind is ProjectType.lv_extension:
        work = rng.choice(LV_WORKS)
        person = f"{rng.choice(SURNAMES)}某某"
        customer = person if work in ("居民新装", "民宿") else firm
        return f"{district}{place}{customer}{work}低压接入工程", customer
    if kind in (ProjectType.area_capacity_increase, ProjectType.area_new):
        estate = f"{rng.choice(ESTATES)}{rng.choice('一二三四')}期"
        work = "台区增容" if kind is ProjectType.area_capacity_increase else "新建台区"
        return f"{district}{place}{estate}{work}工程", f"{place}{estate}业主委员会"
    civil = "（含电缆通道土建）" if kind is ProjectType.mv_10kv_civil else ""
    return f"{district}{place}{firm}10千伏业扩配套工程{civil}", firm


def _key_projects() -> list[tuple[ProjectCreate, list[tuple[str, int, bool]]]]:
    """The named key and high-voltage projects, with the special lines each adds."""
    return [
        (
            ProjectCreate(
                id="YK26-NH-901",
                name="南海新区海洋装备产业园10千伏双电源业扩配套工程（含电缆通道土建）",
                customer="威海南海海洋装备产业园开发有限公司",
                project_type=ProjectType.mv_10kv_civil,
                location="nanhai",
                approved_on=date(2026, 11, 4),
                package_id="PK2026-ZD",
                priority=Priority.PROVINCIAL_KEY,
            ),
            [("SVG-10-2000", 1, True), ("CB10-FR-3x240", 1200, True)],
        ),
        (
            ProjectCreate(
                id="YK26-HC-902",
                name="环翠区棚户区改造安置小区三期新建台区工程",
                customer="威海市环翠区城市更新建设有限公司",
                project_type=ProjectType.area_new,
                location="huancui",
                approved_on=date(2026, 11, 18),
                package_id="PK2026-ZD",
                priority=Priority.CITY_KEY,
            ),
            [("DT-AMOR-SBH15-400", 1, True)],
        ),
        (
            ProjectCreate(
                id="YK26-JQ-903",
                name="经区皇冠街道市立医院新院区10千伏业扩配套工程",
                customer="威海市立医院",
                project_type=ProjectType.mv_10kv,
                location="jingqu",
                approved_on=date(2026, 11, 16),
                package_id="PK2026-ZD",
                priority=Priority.CITY_KEY,
            ),
            [("CB10-FR-3x240", 600, True)],
        ),
        (
            ProjectCreate(
                id="YK26-SD-904",
                name="石岛海洋食品产业园35千伏业扩配套工程",
                customer="荣成石岛海洋食品产业园管理有限公司",
                project_type=ProjectType.hv_35kv,
                location="shidao",
                approved_on=date(2026, 10, 15),
                completion_date=date(2026, 12, 31),
                package_id="PK2026-GY",
                priority=Priority.CITY_KEY,
            ),
            [],
        ),
        (
            ProjectCreate(
                id="YK26-WD-905",
                name="文登经济开发区新材料公司35千伏用户站配套工程",
                customer="威海鑫达新材料有限公司",
                project_type=ProjectType.hv_35kv,
                location="wendeng",
                approved_on=date(2026, 9, 21),
                completion_date=date(2026, 12, 28),
                package_id="PK2026-GY",
            ),
            [],
        ),
        (
            ProjectCreate(
                id="YK26-LG-906",
                name="临港区轮胎产业园110千伏业扩配套工程",
                customer="威海远航轮胎有限公司",
                project_type=ProjectType.hv_110kv,
                location="lingang",
                approved_on=date(2026, 8, 20),
                completion_date=date(2026, 12, 31),
                package_id="PK2026-GY",
            ),
            [],
        ),
    ]


def sample_week(*, calendar: WorkCalendar, seed: int = SEED) -> SampleWeek:
    """Build the week of projects for batch 2026-W49 (deterministic for a seed and calendar)."""
    rng = random.Random(seed)
    week = SampleWeek(packages=_packages(rng))
    counts = dict(TYPE_COUNTS)
    for project, special in _key_projects():
        counts[ProjectType(project.project_type)] -= 1
        materials = _materials(rng, ITEMS[project.project_type])
        week.projects.append(project)
        listed = [
            DemandLineCreate(
                line_no=len(materials) + number,
                material_code=code,
                quantity=quantity,
                feasibility_listed=flag,
            )
            for number, (code, quantity, flag) in enumerate(special, start=1)
        ]
        week.submissions.append(
            Submission(
                project.id,
                _submitted(rng, calendar, project.approved_on),
                (*_lines(materials), *listed),
            )
        )
    locations = list(LOCATIONS)
    weights = [LOCATIONS[loc][1] for loc in locations]
    serial = {short: 0 for _name, _share, short in LOCATIONS.values()}
    for kind, count in counts.items():
        if not count:  # all of this type are named above (35/110 kV)
            continue
        first, last = APPROVALS[kind]
        days = _working_days(calendar, first, last)
        for _ in range(count):
            location = rng.choices(locations, weights)[0]
            short = LOCATIONS[location][2]
            serial[short] += 1
            name, customer = _name(rng, kind, location)
            approved = rng.choice(days)
            project = ProjectCreate(
                id=f"YK26-{short}-{serial[short]:03d}",
                name=name,
                customer=customer,
                project_type=kind,
                location=location,
                approved_on=approved,
                package_id=rng.choice(_package_ids(location)),
            )
            week.projects.append(project)
            lines = _lines(_materials(rng, ITEMS[kind]))
            week.submissions.append(
                Submission(project.id, _submitted(rng, calendar, approved), lines)
            )
    _edge_cases(week, calendar)
    week.submissions.sort(key=lambda s: (s.at, s.project_id))
    return week


def _edge_cases(week: SampleWeek, calendar: WorkCalendar) -> None:
    """Lines at the cutoff: one just before, one exactly at it, a project after it; overrides."""
    by_id = {s.project_id: s for s in week.submissions}
    lv = [p for p in week.projects if p.project_type is ProjectType.lv_extension]
    # The last lines in: 11:59:59 is strictly before 12:00, so they make this week's batch.
    just_in = by_id[lv[0].id]
    week.submissions[week.submissions.index(just_in)] = Submission(
        just_in.project_id, SAMPLE_CUTOFF - timedelta(seconds=1), just_in.lines
    )
    # Meters are fitted on the day of energisation: their need-by is set to the deadline.
    for project in lv[1:4]:
        submission = by_id[project.id]
        deadline = calendar.add_working_days(project.approved_on, 5)
        lines = tuple(
            line.model_copy(
                update={
                    "need_by_override": deadline,
                    "override_reason": "电能表于送电当日安装 / meters are fitted on the day of "
                    "energisation",
                }
            )
            if line.material_code.startswith("MTR-")
            else line
            for line in submission.lines
        )
        week.submissions[week.submissions.index(submission)] = Submission(
            submission.project_id, submission.at, lines
        )
    # A supplementary line submitted at 12:00:00 exactly: it waits for next week's batch.
    area = next(p for p in week.projects if p.id == "YK26-HC-902")
    extra = len(by_id[area.id].lines) + 1
    week.submissions.append(
        Submission(
            area.id,
            SAMPLE_CUTOFF,
            (DemandLineCreate(line_no=extra, material_code="MTR-1P-SMART", quantity=24),),
        )
    )
    # A project approved on the Monday whose lines come in after lunch: next week too.
    late = ProjectCreate(
        id="YK26-RS-990",
        name="乳山市城区街道于某某民宿低压接入工程",
        customer="于某某",
        project_type=ProjectType.lv_extension,
        location="rushan",
        approved_on=SAMPLE_DAY,
        package_id="PK2026-RS-01",
    )
    week.projects.append(late)
    week.submissions.append(
        Submission(
            late.id,
            datetime(2026, 11, 30, 15, 10, tzinfo=SHANGHAI),
            _lines([("CBLV-4x50", 60), ("MBOX-1P-4", 1)]),
        )
    )


def load_sample_week(
    *,
    session: Session,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    now: datetime,
    user: str = DEMO_USER,
    seed: int = SEED,
) -> LoadedWeek:
    """Load the sample week through the services: packages, projects, lines at their moments.

    Needs the sample catalogs (materials, warehouses, transport) loaded for a day near the batch;
    adds the week's special materials to the material master first (the ordinary import path).
    `now` stamps the packages and the materials import; each project is created, and each line
    submitted, at its own moment in the week.
    """
    week = sample_week(calendar=calendar, seed=seed)
    if any(session.get(Material, m["code"]) is None for m in SPECIAL_MATERIALS):
        import_catalog(
            session=session,
            kind=CatalogKind.MATERIALS,
            content=write_catalog(CatalogKind.MATERIALS, SPECIAL_MATERIALS, "xlsx"),
            file_name="special-materials.xlsx",
            imported_by=user,
            now=now,
        )
    for package in week.packages:
        create_package(session=session, package=package, now=now, user=user)
    first_seen: dict[str, datetime] = {}
    for submission in week.submissions:
        first_seen.setdefault(submission.project_id, submission.at)
    for project in week.projects:
        create_project(
            session=session,
            project=project,
            calendar=calendar,
            policy=policy,
            now=first_seen[project.id],
            user=user,
        )
    lines = after = 0
    for submission in week.submissions:
        add_lines(
            session=session,
            project_id=submission.project_id,
            lines=submission.lines,
            now=submission.at,
            user=user,
        )
        lines += len(submission.lines)
        after += len(submission.lines) if submission.at >= SAMPLE_CUTOFF else 0
    return LoadedWeek(
        packages=len(week.packages),
        projects=len(week.projects),
        lines=lines,
        lines_after_cutoff=after,
    )


def sample_workbook(*, calendar: WorkCalendar, seed: int = SEED) -> dict[str, bytes]:
    """Write the week as import files: the project workbook and the special materials."""
    week = sample_week(calendar=calendar, seed=seed)
    # No unit column: each quantity is in its material's base unit, which the import assumes.
    lines = [
        line.model_dump() | {"project_id": submission.project_id}
        for submission in week.submissions
        for line in submission.lines
    ]
    return {
        "materials-special.xlsx": write_catalog(CatalogKind.MATERIALS, SPECIAL_MATERIALS, "xlsx"),
        "projects-2026-W49.xlsx": write_workbook(
            [
                (PACKAGES, [p.model_dump() for p in week.packages]),
                (PROJECTS, [p.model_dump() for p in week.projects]),
                (LINES, lines),
            ]
        ),
    }
