"""Units of measure: every quantity is stored as a whole number of its material's base unit.

A kilometre of conductor is 1,000 m and a tonne of tower steel is 1,000 kg: converted once, where
a file or a request comes in, so that nothing inside ever sees 千米 or 吨.

`MAX_QUANTITY` bounds every quantity that comes in — a demand line, stock on hand, a quota, an
agreement's estimate or ordered quantity, consignment, a province matching row, an issue — after
conversion to base units (docs/catalogs.md "Limits"): 100 million base units is 100,000 km of
conductor or 100,000 t of steel, far beyond any one line or row. The optimizer keeps quantities
as int64 and sums a material's week of them in float64: a province week (50,000 lines) at the
limit is 5 × 10¹², exact below 2⁵³ ≈ 9 × 10¹⁵.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_QUANTITY = 10**8  # base units, in any one quantity that comes in


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit a user may write, the base unit it converts to, and the factor."""

    name: str
    base: str
    factor: int


# Base units are the units materials are counted in; each maps to itself.
BASE_UNITS: tuple[str, ...] = (
    "台",
    "只",
    "套",
    "组",
    "根",
    "基",
    "副",
    "面",
    "间隔",
    "个",
    "块",
    "箱",
    "盘",
    "卷",
    "件",
    "支",
    "对",
    "米",
    "千克",
)

_CONVERTED: tuple[Unit, ...] = (
    Unit("千米", "米", 1000),
    Unit("公里", "米", 1000),
    Unit("km", "米", 1000),
    Unit("m", "米", 1),
    Unit("吨", "千克", 1000),
    Unit("t", "千克", 1000),
    Unit("kg", "千克", 1),
    Unit("公斤", "千克", 1),
    Unit("pcs", "只", 1),
)

UNITS: dict[str, Unit] = {u: Unit(u, u, 1) for u in BASE_UNITS} | {u.name: u for u in _CONVERTED}


def normalise_unit_name(text: str) -> str:
    """Fold full-width letters and case so 'ＫＭ', 'Km' and 'km' are one unit."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return folded.lower() if folded.isascii() else folded


def lookup_unit(text: str) -> Unit | None:
    """Return the unit written as `text`, or None if it is not one we know."""
    return UNITS.get(normalise_unit_name(text))
