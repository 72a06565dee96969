"""Money held exactly: `Decimal` in Python, never a binary float in the database.

Prices are per base unit, so a conductor at 8,650.55 元/千米 costs 8.65055 元/米: six decimal places
keep every such conversion exact. A price or one bounded amount (`Money`): PostgreSQL stores
NUMERIC(18, 6); SQLite, which has no exact decimal type, an integer count of millionths of a
yuan. A sum over many lines (`Total`: a week's cost, a filing's overrun): NUMERIC(38, 6), and on
SQLite the exact decimal as text — no limit bounds how many lines a week or a project holds.

Limits, checked where money comes in (schemas, every import; docs/catalogs.md "Limits"):

- `MAX_PRICE`, 100 million yuan per base unit: any unit price (standard, agreement, consignment
  issue price) and the reserve penalty. The dearest thing a customer-connection project buys, a
  110 kV 50 MVA transformer, is 3.8–6.5 million. With the largest emergency premium
  (`MAX_PERCENT`, 1000 %) the dearest price an import can make is `MAX_EMERGENCY_PRICE`. The
  optimizer keeps prices exact in int64 (scaled by up to 10⁶) and says when a material's network
  would not fit (`optimizer.oversized`); planning then refuses its lines with the reason
  (`supply.limits`).
- `MAX_AMOUNT`, 10 billion yuan: every other amount is below it — a package budget (the API and
  every import alike), and what one demand line may cost at its material's dearest price
  (quantity × price; checked before planning, `supply.limits`). One amount fits `Money` (below
  10¹², `COLUMN_LIMIT`); sums of them go in `Total` columns.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy import BigInteger, Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

PLACES = 6
QUANTUM = Decimal(1).scaleb(-PLACES)
SCALE = 10**PLACES
MAX_PRICE = Decimal(10) ** 8  # yuan per base unit
MAX_AMOUNT = Decimal(10) ** 10  # yuan: amounts are below it (a budget, a line at its dearest)
MAX_PERCENT = 1000  # any percentage an import reads: the largest emergency premium
# The dearest unit price an import can make: the largest price at the largest premium.
MAX_EMERGENCY_PRICE = MAX_PRICE * (100 + MAX_PERCENT) / 100
COLUMN_LIMIT = Decimal(10) ** 12  # NUMERIC(18, 6) holds amounts below this
TOTAL_DIGITS = 38  # a `Total`: NUMERIC(38, 6)
TOTAL_LIMIT = Decimal(10) ** (TOTAL_DIGITS - PLACES)
# Sums of many amounts may pass the default context's 28 digits before they are rounded.
_WIDE = Context(prec=60)


# An amount sent to the API: a whole number, or a decimal string with at most six places.
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,6})?$"  # below MAX_AMOUNT
_AMOUNT = re.compile(AMOUNT_PATTERN)


def _amount(value: Any) -> Any:
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _AMOUNT.match(value):
        return value
    raise ValueError(
        '金额为非负整数，或最多 6 位小数的字符串，如 "1234.50" / an amount is a whole number, or '
        'a decimal string with at most 6 places such as "1234.50" (never a binary float)'
    )


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    Field(ge=0, lt=MAX_AMOUNT, decimal_places=PLACES),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "exclusiveMaximum": int(MAX_AMOUNT)},
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ]
        }
    ),
]


def has_exact_places(amount: Decimal) -> bool:
    """Tell whether `amount` fits in six decimal places without rounding."""
    return amount == amount.quantize(QUANTUM, context=_WIDE)


def fen(amount: Decimal) -> Decimal:
    """Round an amount to whole fen (分) for display and totals, half up (四舍五入); exact for
    any size."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP, context=_WIDE)


def exact(amount: Decimal) -> Decimal:
    """Round an amount to the six places money is stored with (exact for any size)."""
    return amount.quantize(QUANTUM, context=_WIDE)


def line_amount(unit_cost: Decimal, quantity: int) -> Decimal:
    """What a line of `quantity` at `unit_cost` costs, to the fen: every total of a plan (its
    KPIs, its exports) is a sum of these, so they agree to the fen."""
    return fen(exact(unit_cost) * quantity)


def _stored(value: Decimal | int) -> Decimal:
    """The amount a money column stores: a Decimal (or int) with at most six places."""
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
    amount = Decimal(value)
    if not has_exact_places(amount):
        raise ValueError(f"{amount} has more than {PLACES} decimal places")
    return amount


class Money(TypeDecorator[Decimal]):
    """An exact amount of CNY with six decimal places, on every database: a price or one
    bounded amount (below `COLUMN_LIMIT`). Sums of many go in `Total`."""

    impl = Numeric(18, PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use NUMERIC where the database has it, a scaled integer on SQLite."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, PLACES, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Refuse floats and amounts that would be rounded; scale for SQLite."""
        if value is None:
            return None
        amount = _stored(value)
        if dialect.name == "sqlite":
            return int(amount * SCALE)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Return a Decimal with six decimal places."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / SCALE).quantize(QUANTUM)
        return Decimal(value).quantize(QUANTUM)


class Total(TypeDecorator[Decimal]):
    """An exact sum of many amounts (or weighted units) with six decimal places: a weekly run's
    cost, weighted unmet and lateness, a filing's overrun, a settlement. No limit bounds how
    many lines a week or a project holds, so no column that stops at 10¹² may hold their sum.

    PostgreSQL: NUMERIC(38, 6), below `TOTAL_LIMIT` (10³²) — a provable bound: fewer than 2³¹
    lines (32-bit ids), each below 10¹⁰ yuan at its dearest price (`supply.limits`), and
    weighted late unit-days below 10¹⁴ per line, sum far below it. SQLite: the exact decimal
    as text (its integers, in millionths, stop at 9.2 × 10¹² yuan; a column of text affinity
    keeps the digits as written, where a numeric one would round them to a float).
    """

    impl = Numeric(TOTAL_DIGITS, PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """NUMERIC(38, 6) where the database has it, exact decimal text on SQLite."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(TOTAL_DIGITS, PLACES, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Refuse floats, amounts that would be rounded and sums past `TOTAL_LIMIT`."""
        if value is None:
            return None
        amount = _stored(value)
        if abs(amount) >= TOTAL_LIMIT:
            raise ValueError(f"{amount} is past {TOTAL_LIMIT:.0e}, the limit of a total")
        if dialect.name == "sqlite":
            return format(exact(amount), "f")
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Return a Decimal with six decimal places."""
        if value is None:
            return None
        return Decimal(str(value)).quantize(QUANTUM, context=_WIDE)
