"""What a what-if's changes act on and what they do: the `World` they are checked against and new
sources are made from (the catalogs as the database holds them, read by `supply.whatif.base`),
and each change's `Effect`. Plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from supply.availability import SupplyState
from supply.planning import HEAVY


@dataclass(frozen=True, slots=True)
class AgreementInfo:
    """An agreement line of the catalog, whether or not the base instance has it."""

    id: int
    supplier: str
    material: str
    delivery_warehouse_id: str


@dataclass(frozen=True)
class World:
    """What changes are checked against and new sources made from: the supply as the database
    holds it (materials, warehouses, transport days, stock, quotas), every agreement line by
    `no/line`, the batch's dates and the planning settings."""

    supply: SupplyState
    agreement_lines: Mapping[str, AgreementInfo]
    plan_date: date
    order_day: date
    penalty: Decimal
    catalogued: frozenset[str] = frozenset()
    emergency_for_catalog_materials: bool = True


@dataclass
class Effect:
    """What one change did: each source it touched with what changed (中文, English), the
    demands it concerns (None: whichever its sources serve) and adds, or why it did nothing."""

    number: int
    zh: str
    en: str
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    demands: frozenset[str] | None = None
    added: frozenset[str] = frozenset()
    idle_zh: str = ""  # why it changed nothing
    idle_en: str = ""

    def touches(self, demand: str, sources: set[str]) -> bool:
        """Whether a line (its demand and the sources it takes, in the base or the what-if) is
        one this change concerns."""
        if demand in self.added:
            return True
        return bool(sources & self.sources.keys()) and (
            self.demands is None or demand in self.demands
        )


def place_of(name: str, supply: SupplyState, demand_places: set[str]) -> str | None:
    """The place of a warehouse id, or `name` itself if it is a place the catalogs (warehouses,
    transport rows) or the demands know; else None."""
    if name in supply.warehouse_location:
        return supply.warehouse_location[name]
    places = {p for pair in supply.transport for p in pair}
    places |= set(supply.warehouse_location.values())
    places |= {place.removesuffix(HEAVY) for place in demand_places}
    return name if name in places else None


def complete_transport(
    transport: dict[tuple[str, str], int],
    days: Mapping[tuple[str, str], int],
    *,
    froms: set[str],
    tos: set[str],
) -> None:
    """Add to `transport` the rows new sources or demands need — from each place a source is
    (`froms`) to each place a demand is (`tos`), as a weekly run's instance has them — with the
    `days` of the catalog or of a change; a heavy item's trip takes a day more."""
    for a in froms:
        for b in tos:
            if (a, b) in transport or a.removesuffix(HEAVY) == b.removesuffix(HEAVY):
                continue
            heavy = a.endswith(HEAVY)
            if heavy != b.endswith(HEAVY):
                continue
            plain = days.get((a.removesuffix(HEAVY), b.removesuffix(HEAVY)))
            if plain is not None:
                transport[a, b] = plain + 1 if heavy else plain
