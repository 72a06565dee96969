"""What the quota advisor works from, as plain data: the demand history and the supply world.

Pure: `HistoryLine`s (the year's demand lines) and a `World` (the materials, warehouses,
transport days and agreement lines the catalogs hold today, the reserve catalog's warehouse ×
material pairs with their current quotas, and the year's weekly batches). `supply.quotas.inputs`
reads them from the database; tests make them by hand.

The replenishment lead time the catalog implies (DESIGN.md R5, R6): stock drawn below quota is
requested in the next weekly batch (the Monday cutoff), the province matches it
(`Batch.province_match`), the supplier delivers after its lead time (calendar days) to its
delivery warehouse, and it travels on to the warehouse that holds it (`restocked_on`).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from supply.availability import AgreementItem, SupplyState
from supply.policy import Batch

# The short-deadline projects the reserve exists for (R3, R6): 5, 8 and 15 working days, at
# 10 kV and below (R2: physical reserve serves nothing above).
SHORT_TYPES = frozenset({"lv_extension", "area_capacity_increase", "area_new"})
LOW_VOLTAGES = frozenset({"0.4kV", "10kV"})
LEVEL_ORDER = {"central": 0, "county": 1, "storage_point": 2}

Pair = tuple[str, str]  # (warehouse id, material code)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """A demand line of the history: who needed what, where, when it came in, by when."""

    key: str  # "YK26-HC-H0123/2"
    project_id: str
    project_type: str
    voltage_class: str
    location: str
    material: str
    quantity: int
    submitted_at: datetime
    need_by: date
    weight: int = 2

    @property
    def short(self) -> bool:
        """Whether the line is of a short-deadline project at 10 kV or below."""
        return self.project_type in SHORT_TYPES and self.voltage_class in LOW_VOLTAGES


@dataclass(frozen=True, slots=True)
class Restock:
    """How a material's reserve is replenished: by agreement stock (the line delivering first),
    or — no agreement line covering it — after its typical supplier lead time."""

    lead_days: int  # supplier lead time, calendar days
    delivery_warehouse: str
    by_agreement: bool


@dataclass
class World:
    """The supply side of the year, as today's catalogs give it.

    `supply` holds the materials, warehouse locations, transport days and the agreement lines
    valid today (their quantities are set per instance: the replay treats agreement stock as
    enough for the year's demand); its reserve and consignment are empty (the replay fills the
    reserve; consignment is the vendor's, left out). `batches` are the window's weekly batches,
    in order: the last one's cutoff is the window's end."""

    supply: SupplyState
    levels: dict[str, str]  # warehouse id -> level
    pairs: list[Pair]  # the reserve catalog's warehouse × material, sorted
    current: dict[Pair, int]  # the quota in force
    restock: dict[str, list[Restock]]  # material -> ways it is replenished
    batches: list[Batch]
    start: datetime  # the window: submissions at or after start, before the last cutoff
    penalty: Decimal  # CNY per unit of reserve left below quota (weekly planning)
    catalog: str = ""  # which quota catalog is current, in words
    _cutoffs: list[datetime] = field(default_factory=list, repr=False)

    @property
    def end(self) -> datetime:
        """The window's end: the last batch's cutoff."""
        return self.batches[-1].cutoff

    @property
    def materials(self) -> frozenset[str]:
        """The reserve catalog's materials."""
        return frozenset(m for _, m in self.pairs)

    def price(self, material: str) -> Decimal:
        """The material's standard price per base unit."""
        return self.supply.materials[material].standard_price

    def batch_of(self, moment: datetime) -> Batch:
        """The batch a line submitted at `moment` falls in (the first cutoff after it)."""
        if not self._cutoffs:
            self._cutoffs = [b.cutoff for b in self.batches]
        found = bisect_right(self._cutoffs, moment)
        return self.batches[min(found, len(self.batches) - 1)]

    def trip(self, from_warehouse: str, to_location: str, material: str) -> int | None:
        """Transport days from a warehouse to a location (heavy items a day more between two
        places), or None without a transport row."""
        origin = self.supply.warehouse_location[from_warehouse]
        if origin == to_location:
            return 0
        days = self.supply.transport.get((origin, to_location))
        if days is None:
            return None
        return days + int(self.supply.materials[material].heavy)

    def restocked_on(self, batch: Batch, warehouse: str, material: str) -> date:
        """When reserve requested in `batch` arrives at `warehouse`: the province's matching,
        then the earliest of the material's ways (supplier lead time, transport; without a
        transport row, the lead time alone)."""
        where = self.supply.warehouse_location[warehouse]
        ways = self.restock[material]
        days = [
            way.lead_days + trip
            for way in ways
            if (trip := self.trip(way.delivery_warehouse, where, material)) is not None
        ]
        # No transport row from any delivery site: the supplier's lead time alone.
        best = min(days) if days else min(way.lead_days for way in ways)
        return batch.province_match + timedelta(days=best)

    def lead_days(self, warehouse: str, material: str) -> int:
        """The replenishment lead time of a pair, calendar days from the cutoff to arrival (the
        median over the window's batches: holidays move the province's matching)."""
        days = sorted(
            (self.restocked_on(b, warehouse, material) - b.cutoff.date()).days for b in self.batches
        )
        return days[len(days) // 2]


def agreement_restock(
    agreements: list[AgreementItem], typical: dict[str, int], central: str, materials: set[str]
) -> dict[str, list[Restock]]:
    """Each material's ways of replenishment: its agreement lines, else its typical lead time
    delivered to the central warehouse."""
    ways: dict[str, list[Restock]] = {m: [] for m in materials}
    for a in agreements:
        if a.material in ways:
            ways[a.material].append(Restock(a.lead_days, a.delivery_warehouse_id, True))
    for material, found in ways.items():
        if not found:
            found.append(Restock(typical.get(material, 0), central, False))
    return ways
